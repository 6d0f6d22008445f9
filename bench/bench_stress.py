"""Stress grid 41 x 21 over a 4-venue book (full revaluation + margin), 10,000 and 100,000
positions; the growth exponent between them (target: linear, <= 1.05 allowing for noise)."""

from __future__ import annotations

import math

import numpy as np

from bench._util import report, times
from bench.bench_margin import T0_MS, book
from bot.domain.margin import standard_margin
from bot.domain.stress import crash, prepare, stress_grid

TARGET_S = 1.0
TARGET_100K_S = 1.2
PRICE_MOVES = np.linspace(-0.5, 0.5, 41)
VOL_SHIFTS = np.linspace(-0.5, 1.5, 21)


def _grid_s(n: int, repeat: int) -> float:
    """Median seconds of the 41 x 21 grid over ``n`` positions."""
    table, forward = book(n, np.random.default_rng(11))
    mm = standard_margin(table, forward_usd=forward, valuation_ts_ms=T0_MS).maintenance_coin
    equity = 2.5 * mm

    def grid() -> object:
        return stress_grid(
            table,
            forward_usd=forward,
            valuation_ts_ms=T0_MS,
            equity_coin=equity,
            price_moves_frac=PRICE_MOVES,
            vol_shifts=VOL_SHIFTS,
        )

    return float(np.median(times(grid, repeat)))


def run() -> None:
    small = _grid_s(10_000, 5)
    report("stress grid 41 x 21, 10,000 positions, 4 venues, median", small, "s", "< 1 s",
           small < TARGET_S)  # fmt: skip
    large = _grid_s(100_000, 3)
    report("stress grid 41 x 21, 100,000 positions, 4 venues, median", large, "s", "<= 1.2 s",
           large <= TARGET_100K_S)  # fmt: skip
    k = math.log(large / small) / math.log(10.0)
    report("  growth exponent 10k..100k positions", k, "", "<= 1.05", k <= 1.05)
    table, forward = book(10_000, np.random.default_rng(11))
    mm = standard_margin(table, forward_usd=forward, valuation_ts_ms=T0_MS).maintenance_coin
    prepared = prepare(table, forward_usd=forward, valuation_ts_ms=T0_MS, equity_coin=2.5 * mm)
    crash_ms = times(lambda: crash(prepared), 5) * 1e3
    report(
        "crash scenario (incl. delta), 10,000 positions, median", float(np.median(crash_ms)), "ms"
    )
