"""Kernels split over threads give the one-thread result bit for bit (bot.pricing.parallel)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.stress import stress_grid
from bot.domain.timeunits import MS_PER_DAY
from bot.pricing import black76, implied_vol
from bot.pricing.parallel import (
    default_kernel_threads,
    kernel_threads,
    parts,
    run_parts,
    usable_cores,
)

N = 300_000
T0_MS = 1_700_000_000_000


def _book(n: int) -> tuple[np.ndarray, ...]:
    """Random options with a few degenerate and invalid ones (zero tau, NaN vol, K <= 0)."""
    rng = np.random.default_rng(5)
    call = rng.random(n) < 0.5
    forward = rng.uniform(50_000.0, 70_000.0, n)
    strike = forward * np.exp(rng.normal(0.0, 0.4, n))
    tau = rng.uniform(0.0, 1.0, n)
    vol = rng.uniform(0.1, 1.5, n)
    tau[::9_973], vol[::10_007], strike[::12_011] = 0.0, np.nan, -1.0
    return call, forward, strike, tau, vol


class TestParts:
    def test_parts_are_whole_chunks_covering_the_range(self) -> None:
        """Ten chunks of 100 over three threads: 4, 3 and 3 chunks, the last one short."""
        assert parts(950, 100, 3) == [(0, 400), (400, 700), (700, 950)]

    def test_never_more_parts_than_chunks(self) -> None:
        """Two chunks on eight threads are two parts, not eight."""
        assert parts(150, 100, 8) == [(0, 100), (100, 150)]


class TestBitIdentical:
    def test_black76_on_two_threads_equals_one(self) -> None:
        """Every Greek of 300,000 options is the same bits on two threads as on one."""
        args = _book(N)
        with kernel_threads(1):
            one = black76(*args, 0.03)
        with kernel_threads(2):
            two = black76(*args, 0.03)
        for greek in fields(one):
            a, b = getattr(one, greek.name), getattr(two, greek.name)
            assert np.array_equal(a, b, equal_nan=True), greek.name

    def test_implied_vol_on_two_threads_equals_one(self) -> None:
        """Implied vols of 300,000 prices are the same bits on two threads as on one."""
        call, forward, strike, tau, vol = _book(N)
        price = black76(call, forward, strike, tau, vol).price
        with kernel_threads(1):
            one = implied_vol(price, call, forward, strike, tau)
        with kernel_threads(2):
            two = implied_vol(price, call, forward, strike, tau)
        assert np.array_equal(one, two, equal_nan=True)


class TestRunParts:
    def test_a_part_that_raises_raises_in_the_caller(self) -> None:
        """An exception in a worker thread's part reaches the caller, not the void."""

        def fail_late(lo: int, hi: int) -> None:
            if lo > 0:
                raise RuntimeError(f"part {lo}")

        with kernel_threads(2), pytest.raises(RuntimeError, match="part"):
            run_parts(fail_late, 1_000, grain=100, min_elements=0)

    def test_zero_threads_are_refused(self) -> None:
        """A thread count below one is an error naming the figure."""
        with pytest.raises(ValueError, match="got 0"), kernel_threads(0):
            pass

    @pytest.mark.parametrize(("omp", "expected"), [("1", 1), ("", None), ("0", None), ("x", None)])
    def test_omp_num_threads_caps_the_default(
        self, omp: str, expected: int | None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OMP_NUM_THREADS=1 (a Dask worker's) caps the kernels at one thread; unset, zero
        or not a number leaves the usable cores."""
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
        assert default_kernel_threads() == (usable_cores() if expected is None else expected)


def _stress_table(n: int) -> tuple[PositionTable, np.ndarray]:
    """Short inverse options and inverse perps over two coins and two venues."""
    rng = np.random.default_rng(9)
    und = rng.integers(0, 2, n)
    is_opt = rng.random(n) < 0.9
    forward = np.array([60_000.0, 3_000.0])[und]
    table = PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        venues=["a", "b"],
        venue_idx=rng.integers(0, 2, n),
        underlying_idx=und,
        kind=np.where(is_opt, KindCode.OPTION, KindCode.PERPETUAL).astype(np.int8),
        size=np.where(is_opt, -rng.random(n), rng.normal(0.0, 5_000.0, n)),
        is_inverse=True,
        amount_is_usd=~is_opt,
        is_call=is_opt & (rng.random(n) < 0.5),
        strike_usd=np.where(is_opt, forward * rng.uniform(0.6, 1.6, n), np.nan),
        expiry_ms=np.where(is_opt, T0_MS + MS_PER_DAY * rng.integers(1, 200, n), NO_EXPIRY_MS),
        mark_iv=np.where(is_opt, rng.uniform(0.3, 1.2, n), np.nan),
        index_usd=[60_000.0, 3_000.0],
    )
    return table, forward


def test_stress_grid_on_two_threads_equals_one() -> None:
    """A 41 x 21 grid's equity and margin are the same bits on two kernel threads as on one."""
    table, forward = _stress_table(2_000)
    kw: dict[str, Any] = {
        "forward_usd": forward,
        "valuation_ts_ms": T0_MS,
        "equity_coin": np.full((2, 2), 50.0),
        "price_moves_frac": np.linspace(-0.5, 0.5, 41),
        "vol_shifts": np.linspace(-0.5, 1.5, 21),
    }
    with kernel_threads(1):
        one = stress_grid(table, **kw)
    with kernel_threads(2):
        two = stress_grid(table, **kw)
    for name in ("equity_usd", "maintenance_usd"):
        assert np.array_equal(getattr(one, name), getattr(two, name), equal_nan=True), name
