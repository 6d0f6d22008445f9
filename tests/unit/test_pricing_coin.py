"""Coin-settled (Deribit inverse) option premium and deltas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.pricing import black76, coin_settled


def test_architecture_worked_example() -> None:
    """F = S = K = 60,000, 30 days, σ 60 %, r = 0: 0.06854 BTC, Δ_BS 0.5343, net delta 0.4657."""
    c = coin_settled(True, 60_000.0, 60_000.0, 30 / 365, 0.6)
    assert round(float(c.price_coin), 5) == 0.06854
    assert round(float(c.delta), 4) == 0.5343
    assert round(float(c.net_delta), 4) == 0.4657


def test_premium_is_usd_value_over_the_forward() -> None:
    """price_coin·F is the Black-76 USD value on the same forward, discounted at the coin rate."""
    f = np.array([58_000.0, 61_000.0, 3_000.0])
    k = np.array([60_000.0, 50_000.0, 3_500.0])
    c = coin_settled([True, False, True], f, k, [0.1, 0.5, 1.0], [0.5, 0.7, 0.9], 0.01)
    usd = black76([True, False, True], f, k, [0.1, 0.5, 1.0], [0.5, 0.7, 0.9], 0.01)
    np.testing.assert_allclose(c.price_coin * f, usd.price, rtol=1e-14)
    np.testing.assert_array_equal(c.delta, usd.delta)


def test_net_delta_is_forward_times_derivative_of_coin_value() -> None:
    """net_delta = Δ_BS − V_coin equals F·∂V_coin/∂F by central differences, for calls and puts."""
    for is_call in (True, False):
        f, h = 60_000.0, 0.01
        c = coin_settled(is_call, f, 55_000.0, 0.25, 0.65)
        up = coin_settled(is_call, f + h, 55_000.0, 0.25, 0.65).price_coin
        down = coin_settled(is_call, f - h, 55_000.0, 0.25, 0.65).price_coin
        assert float(c.net_delta) == pytest.approx(f * float(up - down) / (2 * h), rel=1e-7)


def test_put_call_parity_in_coin() -> None:
    """A coin call minus a coin put is worth e^(−rτ)(F − K)/F coin: a forward paid in coin."""
    call = coin_settled(True, 60_000.0, 70_000.0, 0.5, 0.6, 0.02)
    put = coin_settled(False, 60_000.0, 70_000.0, 0.5, 0.6, 0.02)
    expected = math.exp(-0.02 * 0.5) * (60_000.0 - 70_000.0) / 60_000.0
    assert float(call.price_coin - put.price_coin) == pytest.approx(expected, rel=1e-12)


def test_invalid_forward_gives_nan() -> None:
    """A non-positive or non-finite forward gives NaN premium and deltas, no exception."""
    c = coin_settled(True, [0.0, -1.0, math.nan, 60_000.0], 60_000.0, 0.1, 0.5)
    assert np.isnan(c.price_coin[:3]).all()
    assert np.isnan(c.net_delta[:3]).all()
    assert np.isfinite(c.price_coin[3])
