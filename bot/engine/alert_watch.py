"""The alerts judged after every hedge cycle: health transitions, IOC streaks, the daily summary.

After each cycle the scheduler calls :func:`watch_cycle` with the newest read.
It evaluates :func:`~bot.engine.status.health_of` and alerts each component
whose level changed (:class:`~bot.domain.alert_rules.HealthWatch`), counts the
IOC hedges each underlying saw canceled unfilled in a row, sends the daily
summary once its UTC time has passed, and lets the sink send the throttled
bursts whose window ended. :class:`AlertWatch` is what it carries between
cycles; the scheduler's :class:`~bot.engine.scheduler.Jobs` owns it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.alert_rules import (
    DailySummary,
    HealthWatch,
    ioc_streaks,
    summary_day,
    summary_event,
)
from bot.domain.alerts import AlertEvent, AlertKind, Severity
from bot.domain.ids import Currency
from bot.domain.orders import Accepted, TimeInForce
from bot.domain.pnl import pnl_line, totals
from bot.domain.timeunits import MS_PER_DAY
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle_result import CycleResult
from bot.engine.health import health_of


@dataclass(slots=True)
class AlertWatch:
    """What the detectors carry from one cycle to the next (all of it rebuildable)."""

    health: HealthWatch
    summary_day: int
    """The last UTC day whose summary went out (or whose time had passed at start)."""
    ioc: dict[Currency, int] = field(default_factory=dict)

    @classmethod
    def start(cls, ctx: EngineContext) -> AlertWatch:
        """A fresh watch: no component alerted yet, no summary due before the next time."""
        alerts = ctx.config.alerts
        return cls(
            HealthWatch(band_cycles=alerts.band_cycles),
            summary_day(ctx.clock_ms(), alerts.summary_minute_utc),
        )


def _ioc_events(
    ctx: EngineContext, watch: AlertWatch, result: CycleResult, now_ms: int
) -> list[AlertEvent]:
    """A hedge failing to fill: ``ioc_cancel_streak`` IOCs of one underlying canceled unfilled
    in a row (one event per further miss; the throttle turns them into a count)."""
    seen = [
        (intent.underlying, outcome.report.filled_amount > 0)
        for intent, outcome in result.outcomes
        if isinstance(outcome, Accepted) and intent.order.tif is TimeInForce.IOC
    ]
    watch.ioc = ioc_streaks(watch.ioc, seen)
    limit = ctx.config.alerts.ioc_cancel_streak
    return [
        AlertEvent(
            kind=AlertKind.HEDGE_FAILING,
            severity=Severity.WARNING,
            key=f"ioc:{u}",
            message=f"{u}: {n} hedge IOCs in a row canceled unfilled",
            ts_ms=now_ms,
            fields={"underlying": u, "streak": n},
        )
        for u, n in sorted(watch.ioc.items())
        if n >= limit and u in {s for s, filled in seen if not filled}
    ]


def _summary(ctx: EngineContext, watch: AlertWatch, latest: LatestRead, now_ms: int) -> AlertEvent:
    """The day's summary: trading state, delta per underlying, orders and alerts of the day."""
    since = now_ms - MS_PER_DAY
    journal = ctx.journal
    orders: dict[str, int] = {}
    for record, _underlying, _price in journal.orders.since(since):
        orders[record.state.value] = orders.get(record.state.value, 0) + 1
    plan = None if latest.cycle is None else latest.cycle.plan
    deltas = (
        {}
        if plan is None
        else {d.underlying: d.book_delta_coin + d.hedge_coin for d in plan.decisions}
    )
    return summary_event(
        DailySummary(
            ts_ms=now_ms,
            trading=journal.state.trading_state(),
            total_delta_coin=deltas,
            orders=orders,
            alerts=journal.alerts.counts_since(since),
            extra_lines=tuple(
                pnl_line(u, p) for u, p in totals(journal.pnl.daily(since, now_ms)).items()
            ),
        )
    )


def watch_cycle(ctx: EngineContext, watch: AlertWatch, latest: LatestRead) -> None:
    """Emit the alerts the newest cycle (``latest.cycle``) gives rise to, then let the sink
    send the bursts whose window ended."""
    now = ctx.clock_ms()
    watch.health, events = watch.health.watch(health_of(ctx, latest, now), now)
    out = list(events)
    if latest.cycle is not None:
        out += _ioc_events(ctx, watch, latest.cycle, now)
    day = summary_day(now, ctx.config.alerts.summary_minute_utc)
    if day > watch.summary_day:
        watch.summary_day = day
        out.append(_summary(ctx, watch, latest, now))
    for event in out:
        ctx.alerts.emit(event)
    ctx.alerts.tick(now)
