"""Implied volatility round trips and bounds (Hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.pricing import black76, implied_vol

MINUTE_YEARS = 60.0 / (365.0 * 86_400.0)
log_taus = st.floats(math.log(MINUTE_YEARS), math.log(5.0))
log_vols = st.floats(math.log(0.01), math.log(5.0))


@given(
    is_call=st.booleans(),
    f=st.floats(1e-2, 1e6),
    log_tau=log_taus,
    log_vol=log_vols,
    d1=st.floats(-4.0, 2.5),
    r=st.floats(-0.05, 0.2),
)
def test_otm_round_trip_within_1e12(
    *, is_call: bool, f: float, log_tau: float, log_vol: float, d1: float, r: float
) -> None:
    """vol → black76 → implied_vol returns vol within 1e-12 on the OTM domain.

    The domain (OTM option's d1 from −4 to +2.5, τ 1 min-5 y, σ 1 %-500 %) is
    the one where a double price still determines σ to 1e-12; see the unit
    test test_round_trip_through_black76_over_tau_and_vol_domain for why.
    """
    tau, vol = math.exp(log_tau), math.exp(log_vol)
    s = vol * math.sqrt(tau)
    x = s * (min(d1, 0.5 * s) - 0.5 * s)  # ln(F/K) of the call twin, <= 0
    k = f * math.exp(-x if is_call else x)
    price = black76(is_call, f, k, tau, vol, r).price
    assert abs(float(implied_vol(price, is_call, f, k, tau, r)) - vol) <= 1e-12


@given(
    st.booleans(),
    st.floats(1e-2, 1e6),
    st.floats(-3.0, 3.0),
    log_taus,
    st.floats(1e-9, 1.0 - 1e-9),
)
def test_any_price_inside_the_bounds_gets_a_vol_that_reprices_it(
    is_call: bool, f: float, m: float, log_tau: float, u: float
) -> None:
    """A price strictly between intrinsic and its bound gets a finite vol >= 0 that reprices it."""
    k, tau = f * math.exp(m), math.exp(log_tau)
    intrinsic = max(f - k if is_call else k - f, 0.0)
    bound = f if is_call else k
    price = intrinsic + u * (bound - intrinsic)
    vol = float(implied_vol(price, is_call, f, k, tau))
    assert math.isfinite(vol)
    assert vol >= 0.0
    repriced = float(black76(is_call, f, k, tau, vol).price)
    assert abs(repriced - price) <= 1e-11 * max(f, k)


@given(st.booleans(), st.floats(1e-2, 1e6), st.floats(-3.0, 3.0), st.floats(1e-12, 1.0))
def test_prices_outside_the_bounds_give_nan(
    is_call: bool, f: float, m: float, excess: float
) -> None:
    """Prices below intrinsic or at/above the forward (calls) or strike (puts) give NaN."""
    k = f * math.exp(m)
    intrinsic = max(f - k if is_call else k - f, 0.0)
    bound = f if is_call else k
    below = intrinsic - excess * max(intrinsic, 1e-3 * bound)
    above = bound * (1.0 + excess)
    vols = implied_vol(np.array([below, above, bound]), is_call, f, k, 1.0)
    assert np.isnan(vols).all()
