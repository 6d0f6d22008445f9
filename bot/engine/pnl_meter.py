"""Today's P&L attribution per underlying, for the metrics: one interval per cycle.

Re-attributing the whole day from the journal every cycle would read thousands of rows;
the meter restores the day from the journal once (at start, for a new underlying and at
each UTC midnight) and then adds each new interval, from the previous cycle's valuation,
this one's and the fills journaled between them.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.ids import Currency
from bot.domain.pnl import (
    PnlComponents,
    ValuationPoint,
    attribute_interval,
    daily,
    totals,
    utc_day,
)
from bot.domain.timeunits import MS_PER_DAY
from bot.journal.pnl import PnlStore
from bot.ops.metrics import DaemonMetrics


class PnlMeter:
    """Keeps today's totals and each underlying's last valuation; exports the totals."""

    def __init__(self, store: PnlStore, metrics: DaemonMetrics) -> None:
        self._store = store
        self._metrics = metrics
        self._day = ""
        self._last: dict[Currency, ValuationPoint] = {}
        self._totals: dict[Currency, PnlComponents] = {}

    def observe(self, ts_ms: int, points: Mapping[Currency, ValuationPoint]) -> None:
        """Add the interval that ends at this cycle's (already journaled) ``points``."""
        day = utc_day(ts_ms)
        if day != self._day or not set(points) <= set(self._last):
            self._restore(day, ts_ms)
        else:
            since = min(self._last[u].ts_ms for u in points)
            trades = self._store.trades(since, ts_ms)
            funding = self._store.funding(since, ts_ms)
            for u, point in points.items():
                last = self._last[u]
                mine = [t for t in trades.get(u, ()) if t.ts_ms >= last.ts_ms]
                paid = [f for f in funding.get(u, ()) if f.ts_ms >= last.ts_ms]
                self._totals[u] += attribute_interval(last, point, mine, paid)
                self._last[u] = point
        for u in points:
            parts = self._totals.get(u, PnlComponents()).as_dict()
            self._metrics.set_pnl_today(u, {k.removesuffix("_usd"): v for k, v in parts.items()})

    def _restore(self, day: str, ts_ms: int) -> None:
        """Today's totals from the journal, up to and including the valuation at ``ts_ms``."""
        self._day = day
        points, trades, funding = self._store.window(ts_ms - ts_ms % MS_PER_DAY, ts_ms + 1)
        self._last = {u: p.point(-1) for u, p in points.items() if len(p)}
        self._totals = {u: PnlComponents() for u in points} | totals(daily(points, trades, funding))
