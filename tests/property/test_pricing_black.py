"""Black-76 / Black-Scholes over extreme but valid inputs (Hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.pricing import Greeks, black76, black_scholes

# Extreme but valid: forwards over 11 decades, strikes up to e^±5 away, from expiry
# (τ = 0) to 50 years, from zero vol to 1,000 %, rates of ±50 %.
forwards = st.floats(1e-4, 1e7)
log_moneyness = st.floats(-5.0, 5.0)
taus = st.one_of(st.just(0.0), st.floats(1e-6, 50.0))
vols = st.one_of(st.just(0.0), st.floats(1e-3, 10.0))
rates = st.floats(-0.5, 0.5)


@given(is_call=st.booleans(), f=forwards, m=log_moneyness, tau=taus, vol=vols, r=rates, q=rates)
def test_greeks_are_finite_and_price_within_bounds(
    *, is_call: bool, f: float, m: float, tau: float, vol: float, r: float, q: float
) -> None:
    """Every Greek is finite; price lies between discounted intrinsic and the discounted bound."""
    k = f * math.exp(m)
    for g, fwd in (
        (black76(is_call, f, k, tau, vol, r), f),
        (black_scholes(is_call, f, k, tau, vol, r, q), f * math.exp((r - q) * tau)),
    ):
        for greek in Greeks.__slots__:
            assert np.isfinite(getattr(g, greek)), greek
        disc = math.exp(-r * tau)
        intrinsic = disc * max(fwd - k if is_call else k - fwd, 0.0)
        bound = disc * (fwd if is_call else k)
        slack = 1e-12 * disc * max(fwd, k)
        assert intrinsic - slack <= float(g.price) <= bound + slack
        assert g.gamma >= 0.0
        assert g.vega >= 0.0


@given(forwards, log_moneyness, taus, vols, rates)
def test_put_call_parity_holds_everywhere(
    f: float, m: float, tau: float, vol: float, r: float
) -> None:
    """Black-76 C − P = e^(−rτ)(F − K) and Δc − Δp = e^(−rτ), to rounding of the larger leg."""
    k = f * math.exp(m)
    c = black76(True, f, k, tau, vol, r)
    p = black76(False, f, k, tau, vol, r)
    disc = math.exp(-r * tau)
    assert abs(float(c.price - p.price) - disc * (f - k)) <= 1e-12 * disc * max(f, k)
    assert abs(float(c.delta - p.delta) - disc) <= 1e-12 * max(disc, 1.0)
