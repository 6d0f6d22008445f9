"""A short memory of recent cycles' figures, for the dashboard's chart.

The journal keeps every decision, but a chart polled every few seconds
should not query it: :class:`Jobs` keeps the last :data:`HISTORY_CYCLES`
points in a bounded ring, a few hundred small tuples whatever the book's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.domain.ids import Currency
from bot.engine.cycle_result import CycleResult

HISTORY_CYCLES: Final = 240
"""Cycles kept: 20 minutes at the default 5 s hedge interval."""


@dataclass(frozen=True, slots=True)
class UnderlyingPoint:
    """One underlying's figures at one cycle: total delta (book + hedge), target, index."""

    total_delta_coin: float
    target_delta_coin: float
    index_usd: float


@dataclass(frozen=True, slots=True)
class CyclePoint:
    """One planned cycle: when it started (daemon clock, UTC epoch ms) and per underlying."""

    started_ms: int
    underlyings: dict[Currency, UnderlyingPoint]


def point_of(result: CycleResult) -> CyclePoint | None:
    """The hedged underlyings' figures, or None for a cycle that failed before planning."""
    if result.plan is None:
        return None
    return CyclePoint(
        result.started_ms,
        {
            d.underlying: UnderlyingPoint(
                d.book_delta_coin + d.hedge_coin, d.target_delta_coin, d.index_usd
            )
            for d in result.plan.decisions
            if d.routed
        },
    )
