"""Black-76 / Black-Scholes prices and Greeks: textbook values, finite differences, edges."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from bot.pricing import Greeks, black76, black_scholes
from bot.pricing._arrays import CHUNK

# A small book: calls and puts, in and out of the money, short and long dated, with rates.
IS_CALL = np.array([True, False, True, False, True, False, True, False])
FWD = np.array([60_000.0, 60_000.0, 100.0, 100.0, 49.0, 2_500.0, 1.3, 0.02])
STRIKE = np.array([65_000.0, 52_000.0, 80.0, 130.0, 50.0, 2_500.0, 1.1, 0.03])
TAU = np.array([30 / 365, 7 / 365, 2.0, 0.5, 20 / 52, 1 / 365, 5.0, 0.25])
VOL = np.array([0.6, 0.8, 0.25, 0.4, 0.2, 1.2, 0.1, 2.0])
RATE = np.array([0.0, 0.05, 0.03, -0.01, 0.05, 0.0, 0.02, 0.1])
DIVIDEND = np.array([0.0, 0.02, 0.01, 0.0, 0.0, 0.03, 0.05, -0.02])

Model = Callable[..., Greeks]


def _models() -> list[tuple[str, Model]]:
    return [
        ("black76", lambda u, t, v: black76(IS_CALL, u, STRIKE, t, v, RATE)),
        ("black_scholes", lambda u, t, v: black_scholes(IS_CALL, u, STRIKE, t, v, RATE, DIVIDEND)),
    ]


def _central(fn: Callable[[float], np.ndarray], step: float) -> np.ndarray:
    return (fn(step) - fn(-step)) / (2.0 * step)


def test_hull_textbook_call() -> None:
    """Hull ch. 19, S=49 K=50 r=5% σ=20% τ=20wk: 2.4005, Δ 0.522, Γ 0.066, ν 12.1, Θ −4.31/yr."""
    g = black_scholes(True, 49.0, 50.0, 20 / 52, 0.2, 0.05)
    assert float(g.price) == pytest.approx(2.4005, abs=5e-5)
    assert round(float(g.delta), 3) == 0.522
    assert round(float(g.gamma), 3) == 0.066
    assert round(float(g.vega), 1) == 12.1
    assert round(float(g.theta), 2) == -4.31


@pytest.mark.parametrize(("name", "model"), _models())
def test_greeks_match_central_differences(name: str, model: Model) -> None:
    """Delta, gamma, vega, theta, vanna and volga equal central differences of price/delta/vega."""
    g = model(FWD, TAU, VOL)
    h_u, h_v, h_t = 1e-5 * FWD, 1e-5, 1e-6 * TAU
    numeric = {
        "delta": (model(FWD + h_u, TAU, VOL).price - model(FWD - h_u, TAU, VOL).price) / (2 * h_u),
        "gamma": (model(FWD + h_u, TAU, VOL).delta - model(FWD - h_u, TAU, VOL).delta) / (2 * h_u),
        "vega": _central(lambda e: model(FWD, TAU, VOL + e).price, h_v),
        "theta": -(model(FWD, TAU + h_t, VOL).price - model(FWD, TAU - h_t, VOL).price) / (2 * h_t),
        "vanna": _central(lambda e: model(FWD, TAU, VOL + e).delta, h_v),
        "volga": _central(lambda e: model(FWD, TAU, VOL + e).vega, h_v),
    }
    for greek, fd in numeric.items():
        np.testing.assert_allclose(getattr(g, greek), fd, rtol=1e-6, err_msg=f"{name} {greek}")


def test_put_call_parity_black76() -> None:
    """C − P = e^(−rτ)(F − K), Δc − Δp = e^(−rτ); call and put share gamma, vega, vanna, volga."""
    c = black76(True, FWD, STRIKE, TAU, VOL, RATE)
    p = black76(False, FWD, STRIKE, TAU, VOL, RATE)
    disc = np.exp(-RATE * TAU)
    np.testing.assert_allclose((c.price - p.price) / FWD, disc * (FWD - STRIKE) / FWD, atol=1e-14)
    np.testing.assert_allclose(c.delta - p.delta, disc, rtol=1e-12)
    for greek in ("gamma", "vega", "vanna", "volga"):
        np.testing.assert_allclose(getattr(c, greek), getattr(p, greek), rtol=1e-12)


def test_put_call_parity_black_scholes() -> None:
    """C − P = S·e^(−qτ) − K·e^(−rτ) and Δc − Δp = e^(−qτ) on spot with a dividend yield."""
    c = black_scholes(True, FWD, STRIKE, TAU, VOL, RATE, DIVIDEND)
    p = black_scholes(False, FWD, STRIKE, TAU, VOL, RATE, DIVIDEND)
    expected = FWD * np.exp(-DIVIDEND * TAU) - STRIKE * np.exp(-RATE * TAU)
    np.testing.assert_allclose((c.price - p.price) / FWD, expected / FWD, atol=1e-14)
    np.testing.assert_allclose(c.delta - p.delta, np.exp(-DIVIDEND * TAU), rtol=1e-12)


def test_black_scholes_is_black76_on_the_carried_forward() -> None:
    """BS equals Black-76 on F = S·e^((r−q)τ); spot delta is forward delta times e^((r−q)τ)."""
    growth = np.exp((RATE - DIVIDEND) * TAU)
    bs = black_scholes(IS_CALL, FWD, STRIKE, TAU, VOL, RATE, DIVIDEND)
    b76 = black76(IS_CALL, FWD * growth, STRIKE, TAU, VOL, RATE)
    np.testing.assert_allclose(bs.price, b76.price, rtol=1e-12)
    np.testing.assert_allclose(bs.delta, b76.delta * growth, rtol=1e-12)
    np.testing.assert_allclose(bs.gamma, b76.gamma * growth**2, rtol=1e-12)


def test_expiry_and_zero_vol_give_intrinsic_value() -> None:
    """τ = 0 or σ = 0: discounted intrinsic, delta 0/±disc (half at the money), other Greeks 0."""
    call = np.array([True, True, True, False, False, False])
    strike = np.array([90.0, 100.0, 110.0, 90.0, 100.0, 110.0])
    for tau, vol in ((0.0, 0.5), (1.0, 0.0), (0.0, 0.0)):
        g = black76(call, 100.0, strike, tau, vol, 0.0)
        np.testing.assert_array_equal(g.price, [10.0, 0.0, 0.0, 0.0, 0.0, 10.0])
        np.testing.assert_array_equal(g.delta, [1.0, 0.5, 0.0, 0.0, -0.5, -1.0])
        for greek in ("gamma", "vega", "theta", "vanna", "volga"):
            np.testing.assert_array_equal(getattr(g, greek), 0.0)


def test_zero_vol_theta_is_the_carry_of_discounted_intrinsic() -> None:
    """At σ = 0 with r > 0, theta = r·price, as a finite difference in τ confirms."""
    g = black76(True, 100.0, 90.0, 1.0, 0.0, 0.05)
    h = 1e-6
    fd = -(
        black76(True, 100.0, 90.0, 1.0 + h, 0.0, 0.05).price
        - black76(True, 100.0, 90.0, 1.0 - h, 0.0, 0.05).price
    ) / (2 * h)
    assert float(g.price) == pytest.approx(10.0 * math.exp(-0.05))
    assert float(g.delta) == pytest.approx(math.exp(-0.05))
    assert float(g.theta) == pytest.approx(0.05 * float(g.price))
    assert float(g.theta) == pytest.approx(float(fd), rel=1e-8)


def test_invalid_inputs_give_nan_without_warnings() -> None:
    """Non-finite, non-positive F or K, negative τ or σ, bad rate: NaN, no exception, no warning."""
    bad = [
        (-1.0, 100.0, 1.0, 0.2, 0.0),
        (0.0, 100.0, 1.0, 0.2, 0.0),
        (math.nan, 100.0, 1.0, 0.2, 0.0),
        (math.inf, 100.0, 1.0, 0.2, 0.0),
        (100.0, 0.0, 1.0, 0.2, 0.0),
        (100.0, -5.0, 1.0, 0.2, 0.0),
        (-100.0, -5.0, 1.0, 0.2, 0.0),
        (100.0, math.inf, 1.0, 0.2, 0.0),
        (100.0, 100.0, -1.0, 0.2, 0.0),
        (100.0, 100.0, math.nan, 0.2, 0.0),
        (100.0, 100.0, math.inf, 0.2, 0.0),
        (100.0, 100.0, 1.0, -0.2, 0.0),
        (100.0, 100.0, 1.0, math.inf, 0.0),
        (100.0, 100.0, 1e300, 1e200, 0.0),  # σ·√τ overflows
        (100.0, 100.0, 1.0, 0.2, math.nan),
        (100.0, 100.0, 1.0, 0.2, -math.inf),
    ]
    f, k, t, v, r = (np.array(col) for col in zip(*bad, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in (black76, black_scholes):
            g = model(True, f, k, t, v, r)
            for greek in Greeks.__slots__:
                assert np.isnan(getattr(g, greek)).all(), (model.__name__, greek)
        assert np.isnan(black_scholes(True, 100.0, 100.0, 1.0, 0.2, 0.0, math.nan).price)


def test_bad_element_in_a_later_chunk_leaves_the_others_exact() -> None:
    """A NaN input past the first chunk poisons only its own element; the rest match a clean run."""
    n = 2 * CHUNK + 7
    rng = np.random.default_rng(7)
    f = rng.uniform(50.0, 150.0, n)
    k = rng.uniform(50.0, 150.0, n)
    call = rng.uniform(size=n) < 0.5
    clean = black76(call, f, k, 0.5, 0.4, 0.02)
    f[CHUNK + 5] = math.nan
    k[2 * CHUNK + 1] = -1.0
    dirty = black76(call, f, k, 0.5, 0.4, 0.02)
    hit = np.zeros(n, dtype=bool)
    hit[[CHUNK + 5, 2 * CHUNK + 1]] = True
    for greek in Greeks.__slots__:
        assert np.isnan(getattr(dirty, greek)[hit]).all()
        np.testing.assert_array_equal(getattr(dirty, greek)[~hit], getattr(clean, greek)[~hit])


def test_broadcasting_shapes_and_scalars() -> None:
    """Arguments broadcast like numpy; scalars give 0-d arrays equal to the matching element."""
    strikes = np.array([[90.0], [100.0], [110.0]])
    taus = np.array([0.1, 0.5, 1.0, 2.0])
    call = np.array([[True], [False], [True]])
    g = black76(call, 100.0, strikes, taus, 0.3)
    assert g.price.shape == g.volga.shape == (3, 4)
    one = black76(False, 100.0, 100.0, 1.0, 0.3)
    assert one.price.shape == ()
    assert isinstance(one.price, np.ndarray)
    for greek in Greeks.__slots__:
        assert getattr(g, greek)[1, 2] == getattr(one, greek)


def test_strided_inputs_match_contiguous_ones() -> None:
    """Non-contiguous and integer inputs give the same Greeks as contiguous float64 arrays."""
    f = np.arange(80, 120, dtype=np.int64)
    k = np.linspace(70.0, 130.0, 80)[::2]
    a = black_scholes(True, f, k, 0.25, 0.5, 0.01, 0.02)
    b = black_scholes(True, f.astype(float), np.ascontiguousarray(k), 0.25, 0.5, 0.01, 0.02)
    for greek in Greeks.__slots__:
        np.testing.assert_array_equal(getattr(a, greek), getattr(b, greek))
