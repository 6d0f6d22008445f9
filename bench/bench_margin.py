"""Liquidation distance of a 10,000-position book (full revaluation, standard margin)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench._util import report, times
from bot.domain.margin import portfolio_margin, standard_margin
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.stress import liquidation_distance
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000
BASE_USD = np.array([60_000.0, 3_000.0])
TARGET_MS = 100.0


def book(n: int, rng: np.random.Generator, venues: int = 4) -> tuple[PositionTable, np.ndarray]:
    """Inverse options over 20 expiries plus inverse perps, short-gamma, over ``venues``."""
    und = rng.integers(0, 2, n)
    is_opt = rng.random(n) < 0.9
    expiries = T0_MS + MS_PER_DAY * np.array(
        [1, 2, 3, 7, 14, 21, 28, 35, 49, 63, 91, 119, 147, 182]
    )
    expiries = np.concatenate([expiries, T0_MS + MS_PER_DAY * np.arange(210, 391, 36)])
    forward = BASE_USD[und] * rng.uniform(0.98, 1.04, n)
    size = np.where(is_opt, -np.abs(rng.normal(0, 1, n)), rng.normal(0, 5_000, n))
    table = PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        venues=[f"venue-{v}" for v in range(venues)],
        venue_idx=rng.integers(0, venues, n),
        underlying_idx=und,
        kind=np.where(is_opt, KindCode.OPTION, KindCode.PERPETUAL).astype(np.int8),
        size=size,
        is_inverse=True,
        amount_is_usd=~is_opt,
        is_call=is_opt & (rng.random(n) < 0.5),
        strike_usd=np.where(is_opt, BASE_USD[und] * rng.uniform(0.6, 1.6, n), np.nan),
        expiry_ms=np.where(is_opt, rng.choice(expiries, n), NO_EXPIRY_MS),
        mark_iv=np.where(is_opt, rng.uniform(0.3, 1.2, n), np.nan),
        index_usd=BASE_USD,
    )
    return table, forward


def run() -> None:
    rng = np.random.default_rng(11)
    table, forward = book(10_000, rng)
    mm = standard_margin(table, forward_usd=forward, valuation_ts_ms=T0_MS).maintenance_coin
    equity = 2.5 * mm  # every account at 40 % margin usage: breaches in range
    kw: dict[str, Any] = {"forward_usd": forward, "valuation_ts_ms": T0_MS, "equity_coin": equity}
    result = liquidation_distance(table, annual_vol_frac=[0.6, 0.75], **kw)

    t_ms = times(lambda: liquidation_distance(table, annual_vol_frac=[0.6, 0.75], **kw), 7) * 1e3
    median = float(np.median(t_ms))
    report(
        "liquidation distance, 10,000 positions, 4 venues, median",
        median,
        "ms",
        "< 100 ms",
        median < TARGET_MS,
    )
    report("  (p90)", float(np.percentile(t_ms, 90)), "ms")
    report("  venue-0 down move", 100 * float(result.down_frac[0]), "%")
    report("  venue-0 up move", 100 * float(result.up_frac[0]), "%")
    pm_ms = (
        times(lambda: portfolio_margin(table, forward_usd=forward, valuation_ts_ms=T0_MS), 5) * 1e3
    )
    report(
        "portfolio margin (35-cell risk matrix), 10,000 positions", float(np.median(pm_ms)), "ms"
    )
