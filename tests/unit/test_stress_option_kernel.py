"""The stress grid's compiled option kernel against scipy's ndtr Black-76 (bot.domain.stress)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from bot.domain.stress.option_kernel import coin_price, option_sums
from bot.pricing import coin_settled

SD_30D_60PCT = 0.6 * math.sqrt(30 / 365)
RTOL, ATOL = 1e-12, 1e-15


def _ndtr_coin(x: np.ndarray, sd: np.ndarray, ratio: np.ndarray, call: np.ndarray) -> np.ndarray:
    """Coin value by the numpy path the kernel replaced: two scipy ``ndtr``, intrinsic at sd 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = x / sd + sd / 2
        price = np.where(call, ndtr(d1) - ratio * ndtr(d1 - sd), ratio * ndtr(sd - d1) - ndtr(-d1))
    intrinsic = np.maximum(np.where(call, 1.0 - ratio, ratio - 1.0), 0.0)
    return np.where(sd > 0, price, intrinsic)


def _compiled_coin(
    x: np.ndarray, sd: np.ndarray, ratio: np.ndarray, call: np.ndarray
) -> np.ndarray:
    """:func:`coin_price` element by element."""
    return np.array([coin_price(*args) for args in zip(x, sd, ratio, call.tolist(), strict=True)])


def _random_options(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """ln(F/K), σ√τ, K/F, is_call: near and deep in or out of the money, tiny and zero σ√τ."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.8, n)
    x[: n // 10] = rng.choice([-4.0, -2.5, 2.5, 4.0], n // 10)  # deep ITM / OTM
    sd = rng.uniform(0.01, 1.5, n)
    sd[n // 10 : n // 5] = 10.0 ** rng.uniform(-9, -3, n // 10)  # tiny
    sd[n // 5 : n // 4] = 0.0  # expired or zero vol
    return x, sd, np.exp(-x), rng.random(n) < 0.5


class TestCoinPrice:
    def test_worked_example_short_dated_atm_call(self) -> None:
        """K = F = 60,000, 30 days, σ 60 %: 0.06854 BTC, as coin_settled (scipy's ndtr) says."""
        price = coin_price(0.0, SD_30D_60PCT, 1.0, True)
        reference = coin_settled(True, 60_000.0, 60_000.0, 30 / 365, 0.6).price_coin
        assert price == pytest.approx(0.06854, abs=5e-6)
        assert price == pytest.approx(float(reference), rel=RTOL)

    def test_put_call_parity_at_the_money(self) -> None:
        """At K = F a put is worth the call (C − P = 1 − K/F = 0)."""
        call = coin_price(0.0, SD_30D_60PCT, 1.0, True)
        assert coin_price(0.0, SD_30D_60PCT, 1.0, False) == pytest.approx(call, rel=RTOL)

    def test_zero_sd_is_intrinsic(self) -> None:
        """σ√τ = 0: max(1 − K/F, 0) for a call, max(K/F − 1, 0) for a put."""
        assert coin_price(math.log(1 / 0.8), 0.0, 0.8, True) == pytest.approx(0.2)
        assert coin_price(math.log(1 / 0.8), 0.0, 0.8, False) == 0.0
        assert coin_price(math.log(1 / 1.25), 0.0, 1.25, False) == pytest.approx(0.25)

    def test_random_inputs_match_the_ndtr_formula(self) -> None:
        """Calls and puts, deep ITM/OTM, tiny and zero σ√τ: the ndtr Black-76 to 1e-12."""
        x, sd, ratio, call = _random_options(4_000, seed=3)
        got, want = _compiled_coin(x, sd, ratio, call), _ndtr_coin(x, sd, ratio, call)
        assert np.allclose(got, want, rtol=RTOL, atol=ATOL)

    def test_random_inputs_match_coin_settled(self) -> None:
        """The house Black-76 (coin_settled) on the same options, F = 60,000, τ = 1 year."""
        x, sd, ratio, call = _random_options(2_000, seed=4)
        reference = coin_settled(call, 60_000.0, 60_000.0 * ratio, 1.0, sd).price_coin
        assert np.allclose(_compiled_coin(x, sd, ratio, call), reference, rtol=1e-10, atol=1e-14)


def _sums(
    states: int, rows: tuple[np.ndarray, ...], segments: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run :func:`option_sums` on ``rows`` (x, sd, ratio, sqrt_tau, floor, w_value, w_mm)
    with one cell per row, in random states; return (value, mm, state σ√τ per row)."""
    x, sd, ratio, sqrt_tau, floor, w_value, w_mm = rows
    rng = np.random.default_rng(8)
    mult = rng.uniform(0.5, 1.5, (1, states))
    rel = rng.uniform(-0.9, 1.0, (1, states))
    shift = rng.uniform(-0.3, 0.3, (1, states))
    value, mm = np.zeros((cells.max() + 1, states)), np.zeros((cells.max() + 1, states))
    option_sums(
        value,
        mm,
        segments=segments,
        ln_fk=x,
        kappa=ratio,
        sqrt_tau=sqrt_tau,
        sd=sd,
        floor_sd=floor,
        row_start=np.arange(x.size + 1, dtype=np.int64),
        cell=cells,
        value_weight=w_value,
        mm_weight=w_mm,
        ln_mult=np.log(mult),
        inv_mult=1.0 / mult,
        vol_mult=1.0 + rel,
        vol_add=shift,
    )
    state_sd = np.maximum(sd[:, None] * (1.0 + rel) + shift * sqrt_tau[:, None], floor[:, None])
    moved = (np.log(mult) + x[:, None], ratio[:, None] / mult)
    return value, mm, np.stack([state_sd, *np.broadcast_arrays(*moved)])


class TestOptionSums:
    def test_sums_per_cell_follow_the_ndtr_formula_and_the_margin_rule(self) -> None:
        """Weighted values and short MM per cell and state equal ndtr Black-76 sums to 1e-12."""
        x, sd, _, call = _random_options(600, seed=6)
        order = np.argsort(~call, kind="stable")  # calls first, then puts: two segments
        x, sd, call = x[order], sd[order], call[order]
        rng = np.random.default_rng(7)
        sqrt_tau = rng.uniform(0.05, 1.0, x.size)
        floor = np.where(rng.random(x.size) < 0.5, 0.0, 0.01 * sqrt_tau)
        w_value = rng.normal(0.0, 2.0, x.size)
        w_mm = np.maximum(-w_value, 0.0)
        cells = rng.integers(0, 3, x.size)
        calls = int(call.sum())
        segments = np.array([[0, calls, 0, 1], [calls, x.size, 0, 0]], dtype=np.int64)
        rows = (x, sd, np.exp(-x), sqrt_tau, floor, w_value, w_mm)
        value, mm, (state_sd, moved_x, moved_ratio) = _sums(16, rows, segments, cells)
        coin = _ndtr_coin(moved_x, state_sd, moved_ratio, call[:, None])
        mark = np.where(call[:, None], coin, coin + 0.075 * np.maximum(coin, 1.0))
        for c in range(3):
            mine = cells == c
            want_value = (coin[mine] * w_value[mine, None]).sum(axis=0)
            want_mm = (mark[mine] * w_mm[mine, None]).sum(axis=0)
            assert np.allclose(value[c], want_value, rtol=RTOL, atol=1e-13)
            assert np.allclose(mm[c], want_mm, rtol=RTOL, atol=1e-13)
