"""Implied volatility: textbook value, round trips over the whole domain, bounds, shapes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from bot.pricing import _normalised as nb
from bot.pricing import black76, black_scholes, implied_vol

MINUTE_YEARS = 60.0 / (365.0 * 86_400.0)
TAUS = np.geomspace(MINUTE_YEARS, 5.0, 12)
VOLS = np.geomspace(0.01, 5.0, 12)


def _otm_book(d1: np.ndarray) -> tuple[np.ndarray, ...]:
    """Calls and puts on F = 60,000 over TAUS × VOLS × d1, struck out of the money.

    ``d1`` is that of the OTM option's call twin (x = ln(F/K) <= 0 for the call,
    the mirror strike for the put), capped at s/2 where the strike reaches F.
    """
    tau, vol, d, call = (a.reshape(-1) for a in np.meshgrid(TAUS, VOLS, d1, [True, False]))
    s = vol * np.sqrt(tau)
    x = s * (np.minimum(d, 0.5 * s) - 0.5 * s)
    strike = 60_000.0 * np.exp(np.where(call, -x, x))
    return call, strike, tau, vol


def test_hull_textbook_call_implies_twenty_percent() -> None:
    """Hull ch. 19: the S=49, K=50, r=5 %, 20-week call worth 2.4005 implies σ = 20 %."""
    tau = 20 / 52
    price = black_scholes(True, 49.0, 50.0, tau, 0.2, 0.05).price
    forward = 49.0 * math.exp(0.05 * tau)
    assert float(implied_vol(price, True, forward, 50.0, tau, 0.05)) == pytest.approx(
        0.2, abs=1e-14
    )
    assert float(implied_vol(2.4005, True, forward, 50.0, tau, 0.05)) == pytest.approx(
        0.2, abs=1e-4
    )


def test_round_trip_through_black76_over_tau_and_vol_domain() -> None:
    """OTM round trip vol → black76 → implied_vol within 1e-12, τ 1 min-5 y, σ 1 %-500 %.

    Strikes are placed by the OTM option's d1 from −4 to +2.5, which keeps the
    price carrying its vol to double precision: below −4 standard deviations at
    minute tenors black76's own rounding (an ndtr tail error amplified by the
    cancellation of F·N(d1) − K·N(d2) at small σ√τ) already moves the implied
    vol by ~1e-12; above +2.5 the OTM price is within 0.6 % of its upper bound
    and ulp(price)/vega grows past the target (an ATM 500 % 5-year option is
    within 2e-8 of the forward).
    """
    call, strike, tau, vol = _otm_book(np.linspace(-4.0, 2.5, 14))
    price = black76(call, 60_000.0, strike, tau, vol, 0.03).price
    error = np.abs(implied_vol(price, call, 60_000.0, strike, tau, 0.03) - vol)
    assert error.max() <= 1e-12


def test_solver_inverts_exact_prices_further_out() -> None:
    """Given prices from the accurate normalised Black function, 1e-12 holds out to d1 = −8."""
    call, strike, tau, vol = _otm_book(np.linspace(-8.0, 2.5, 22))
    x = -np.abs(np.log(60_000.0 / strike))
    b, _ = nb.otm_call(x, vol * np.sqrt(tau))
    price = np.sqrt(60_000.0 * strike) * b
    assert np.abs(implied_vol(price, call, 60_000.0, strike, tau) - vol).max() <= 1e-12


def test_in_the_money_prices_go_through_parity() -> None:
    """ITM prices give the vol to within the conditioning of the digits above intrinsic value.

    black76 rounds an ITM price to ~ε·max(F, K), so no solver can do better
    than that over vega (per 1.00 of vol): the bound is 16·ε·max(F, K)/vega
    plus 1e-13. Where the price has rounded onto its upper bound (deep ITM at
    500 % vol) no vol is readable and NaN is the right answer.
    """
    call, strike, tau, vol = _otm_book(np.linspace(-3.0, 2.0, 11))
    strike = 60_000.0**2 / strike  # mirror: the same |ln(F/K)|, now in the money
    g = black76(call, 60_000.0, strike, tau, vol)
    vols = implied_vol(g.price, call, 60_000.0, strike, tau)
    at_bound = g.price >= np.where(call, 60_000.0, strike)
    assert np.array_equal(np.isnan(vols), at_bound)
    tolerance = 16.0 * np.finfo(float).eps * np.maximum(60_000.0, strike) / g.vega + 1e-13
    assert np.all(np.abs(vols - vol)[~at_bound] <= tolerance[~at_bound])


def test_prices_outside_no_arbitrage_bounds_give_nan() -> None:
    """Below intrinsic, at/above F (calls) or K (puts), non-finite, τ <= 0, F or K <= 0: NaN."""
    rows = [
        (9.99, True, 110.0, 100.0, 1.0, 0.0),  # below call intrinsic 10
        (9.99, False, 90.0, 100.0, 1.0, 0.0),  # below put intrinsic 10
        (110.0, True, 110.0, 100.0, 1.0, 0.0),  # call at the forward
        (120.0, True, 110.0, 100.0, 1.0, 0.0),  # call above the forward
        (100.0, False, 90.0, 100.0, 1.0, 0.0),  # put at the strike
        (100.0 * math.exp(-0.05), False, 90.0, 100.0, 1.0, 0.05),  # put at the discounted strike
        (-1.0, True, 100.0, 100.0, 1.0, 0.0),
        (math.nan, True, 100.0, 100.0, 1.0, 0.0),
        (math.inf, True, 100.0, 100.0, 1.0, 0.0),
        (5.0, True, 100.0, 100.0, 0.0, 0.0),
        (5.0, True, 100.0, 100.0, -1.0, 0.0),
        (5.0, True, 0.0, 100.0, 1.0, 0.0),
        (5.0, True, 100.0, -100.0, 1.0, 0.0),
        (5.0, True, math.inf, 100.0, 1.0, 0.0),
        (5.0, True, 100.0, 100.0, math.nan, 0.0),
        (5.0, True, 100.0, 100.0, 1.0, math.inf),
    ]
    p, c, f, k, t, r = (np.array(col) for col in zip(*rows, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vols = implied_vol(p, c.astype(bool), f, k, t, r)
    assert np.isnan(vols).all(), vols


def test_intrinsic_price_gives_zero_vol() -> None:
    """A price equal to intrinsic value (zero for OTM) implies zero volatility."""
    vols = implied_vol([10.0, 0.0, 0.0], [True, False, True], 110.0, [100.0, 100.0, 120.0], 1.0)
    np.testing.assert_array_equal(vols, 0.0)


def test_discounting_matches_undiscounted_price_at_zero_rate() -> None:
    """implied_vol(p, …, r) equals implied_vol(p·e^(rτ), …, 0)."""
    p = black76(True, 100.0, 105.0, 2.0, 0.3, 0.04).price
    with_rate = implied_vol(p, True, 100.0, 105.0, 2.0, 0.04)
    undiscounted = implied_vol(p * math.exp(0.08), True, 100.0, 105.0, 2.0)
    assert float(with_rate) == pytest.approx(0.3, abs=1e-14)
    assert float(with_rate) == pytest.approx(float(undiscounted), abs=1e-15)


def test_broadcasting_shapes() -> None:
    """Arguments broadcast like numpy; scalar arguments give a 0-d array."""
    strikes = np.array([[90.0], [100.0], [110.0]])
    taus = np.array([0.1, 0.5, 1.0, 2.0])
    prices = black76(True, 100.0, strikes, taus, 0.4).price
    vols = implied_vol(prices, True, 100.0, strikes, taus)
    assert vols.shape == (3, 4)
    np.testing.assert_allclose(vols, 0.4, atol=1e-14)
    assert implied_vol(5.0, False, 100.0, 100.0, 1.0).shape == ()


@pytest.mark.parametrize("h", [-0.001, -0.3, -1.0, -3.0, -8.0])
def test_normalised_black_formulas_agree_where_regions_meet(h: float) -> None:
    """The Taylor, erfcx and Φ forms of b(x, s) agree to 1e-13 at the region switches."""
    for t, pair in (
        (nb._SMALL_T, (nb._taylor, nb._by_erfcx)),
        (nb._CDF_ABOVE - h, (nb._by_erfcx, nb._by_cdf)),
    ):
        if t <= 0.0:
            continue
        hh, tt = np.array([h]), np.array([t])
        x = 2.0 * hh * tt
        vega = nb.INV_SQRT_2PI * np.exp(-0.5 * (hh * hh + tt * tt))
        first, second = (f(x, hh, tt, vega)[0] for f in pair)
        assert first == pytest.approx(second, rel=1e-13)
