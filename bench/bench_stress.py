"""Stress grid 41 × 21 over a 10,000-position book across 4 venues (full revaluation + margin)."""

from __future__ import annotations

import numpy as np

from bench._util import report, times
from bench.bench_margin import T0_MS, book
from bot.domain.margin import standard_margin
from bot.domain.stress import crash, prepare, stress_grid

TARGET_S = 1.0
PRICE_MOVES = np.linspace(-0.5, 0.5, 41)
VOL_SHIFTS = np.linspace(-0.5, 1.5, 21)


def run() -> None:
    rng = np.random.default_rng(11)
    table, forward = book(10_000, rng)
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

    t_s = times(grid, 5)
    median = float(np.median(t_s))
    report(
        "stress grid 41 x 21, 10,000 positions, 4 venues, median",
        median,
        "s",
        "< 1 s",
        median < TARGET_S,
    )
    report("  (p90)", float(np.percentile(t_s, 90)), "s")
    prepared = prepare(table, forward_usd=forward, valuation_ts_ms=T0_MS, equity_coin=equity)
    crash_ms = times(lambda: crash(prepared), 5) * 1e3
    report(
        "crash scenario (incl. delta), 10,000 positions, median", float(np.median(crash_ms)), "ms"
    )
