"""Stress grid 41 x 21 over a 4-venue book (full revaluation + margin), 10,000 and 100,000
positions; the growth exponent between them (target: linear, <= 1.05 allowing for noise).

The margin bench's book gives every option its own forward, strike and vol, so no two
positions share a price: the grid prices 861 states x 90,000 options, two normal CDFs
per element. numpy passes with two scipy ``ndtr`` each took 0.98x the time of the two
bare ``ndtr`` passes over as many elements (their floor); a compiled loop
(:mod:`bot.domain.stress.option_kernel`, two ``erfc`` per element) replaced them, and
the ``ndtr`` passes, timed here, stay as the baseline it is measured against. The
speed-up on every core against one kernel thread, with its target, is in the cores
section (``python -m bench --one cores``). A book on listed instruments (strikes on the
venues' grid, one forward per underlying and one vol per instrument, as ``bot stress``
builds from a ``[sim]`` book) holds the same instrument on several venues and
sub-accounts; the kernel prices each instrument once, and that book is timed too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy.special import ndtr

from bench._util import report, times
from bench.bench_margin import BASE_USD, T0_MS, book
from bot.domain.margin import standard_margin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.stress import crash, prepare, stress_grid
from bot.domain.timeunits import MS_PER_DAY
from bot.pricing.parallel import kernel_threads

TARGET_S = 1.0
Book = Callable[[int, np.random.Generator], tuple[PositionTable, np.ndarray]]
TARGET_100K_S = 1.2
PRICE_MOVES = np.linspace(-0.5, 0.5, 41)
VOL_SHIFTS = np.linspace(-0.5, 1.5, 21)


def listed_book(n: int, rng: np.random.Generator) -> tuple[PositionTable, np.ndarray]:
    """The margin bench's book on listed instruments: its 20 expiries, strikes snapped to
    every 1,000 USD (BTC) and 50 USD (ETH), one forward per underlying and a vol per
    instrument from a smile in moneyness and expiry (4,880 instruments)."""
    table, _ = book(n, rng)
    und, opt = table.underlying_idx, table.kind == KindCode.OPTION
    step = np.array([1_000.0, 50.0])[und]
    strike = np.round(np.where(opt, table.strike_usd, BASE_USD[und]) / step) * step
    years = np.maximum(table.expiry_ms - T0_MS, 1) / (365.0 * MS_PER_DAY)
    smile = 0.5 + 0.8 * np.log(strike / BASE_USD[und]) ** 2 + 0.02 / np.sqrt(years)
    listed = replace(
        table,
        strike_usd=np.where(opt, strike, np.nan),
        mark_iv=np.where(opt, smile, np.nan),
    )
    return listed, BASE_USD[und]


def _grid_s(n: int, repeat: int, make: Book = book) -> float:
    """Median seconds of the 41 x 21 grid over ``n`` positions of the book ``make`` builds."""
    table, forward = make(n, np.random.default_rng(11))
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


def _ndtr_floor_s(elements: int) -> float:
    """Seconds of two ``ndtr`` passes over ``elements`` in cache-sized blocks, one thread;
    arguments of mixed sign, as the grid's d1 and d2 (``ndtr`` branches on the sign)."""
    block = np.random.default_rng(0).normal(0.0, 2.0, 1 << 15)
    out = np.empty_like(block)

    def passes() -> None:
        for _ in range(2 * elements // block.size):
            ndtr(block, out=out)

    return float(np.median(times(passes, 3)))


def run() -> None:
    small = _grid_s(10_000, 5)
    report("stress grid 41 x 21, 10,000 positions, 4 venues, median", small, "s", "< 1 s",
           small < TARGET_S)  # fmt: skip
    large = _grid_s(100_000, 3)
    report("stress grid 41 x 21, 100,000 positions, 4 venues, median", large, "s", "<= 1.2 s",
           large <= TARGET_100K_S)  # fmt: skip
    k = math.log(large / small) / math.log(10.0)
    report("  growth exponent 10k..100k positions", k, "", "<= 1.05", k <= 1.05)
    options = int(
        np.count_nonzero(book(100_000, np.random.default_rng(11))[0].kind == KindCode.OPTION)
    )
    with kernel_threads(1):
        one = _grid_s(100_000, 3)
    floor = _ndtr_floor_s(PRICE_MOVES.size * VOL_SHIFTS.size * options)
    report("  the same on one kernel thread", one, "s")
    report("  baseline: two ndtr passes over its 861 x options elements", floor, "s")
    report("  one-thread grid / the baseline (the numpy kernel took 0.98x)", one / floor, "x")
    listed = _grid_s(100_000, 3, listed_book)
    report("stress grid 41 x 21, 100,000 positions on listed instruments", listed, "s", "<= 1.2 s",
           listed <= TARGET_100K_S)  # fmt: skip
    table, forward = book(10_000, np.random.default_rng(11))
    mm = standard_margin(table, forward_usd=forward, valuation_ts_ms=T0_MS).maintenance_coin
    prepared = prepare(table, forward_usd=forward, valuation_ts_ms=T0_MS, equity_coin=2.5 * mm)
    crash_ms = times(lambda: crash(prepared), 5) * 1e3
    report(
        "crash scenario (incl. delta), 10,000 positions, median", float(np.median(crash_ms)), "ms"
    )
