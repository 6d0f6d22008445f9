"""Which changes become alerts: health transitions, trading-state changes, IOC streaks, and
the daily summary's text and time.

Pure functions of values the engine already has (a :class:`~bot.domain.health.Health`,
two :class:`~bot.domain.trading_state.TradingState` records, the cycle's order
outcomes); the engine's shell (:mod:`bot.engine.alert_watch`) keeps their state
between cycles and hands the events to the sink.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

from bot.domain.alerts import AlertEvent, AlertKind, Severity
from bot.domain.health import Component, Health, Level
from bot.domain.ids import Currency
from bot.domain.timeunits import MS_PER_DAY, MS_PER_MINUTE, iso_utc
from bot.domain.trading_state import TradingMode, TradingState

_COMPONENT_KINDS: Final = MappingProxyType(
    {
        "last_cycle": AlertKind.HEDGE_FAILING,
        "inputs": AlertKind.STALE_INPUTS,
        "venue_clocks": AlertKind.STALE_INPUTS,
        "venues": AlertKind.VENUE_UNREACHABLE,
        "locks": AlertKind.LOCK,
        "unknown_orders": AlertKind.UNKNOWN_ORDER,
        "risk_gate": AlertKind.CAPS_DENYING,
        "band": AlertKind.HEDGE_FAILING,
        "margin": AlertKind.MARGIN,
        "greeks": AlertKind.GREEK_LIMIT,
    }
)
"""Alert class per health component name (``band:BTC``, ``margin:deribit`` and ``greeks:BTC``
by prefix)."""
SKIPPED_COMPONENTS: Final = frozenset({"trading"})
"""Covered by :func:`trading_event`, which knows who changed the state and why."""
BAND_PREFIX: Final = "band:"

_SEVERITY: Final = MappingProxyType(
    {Level.DEGRADED: Severity.WARNING, Level.FAILING: Severity.CRITICAL}
)


def component_kind(name: str) -> AlertKind:
    """The alert class of health component ``name`` (HEALTH for one not listed)."""
    return _COMPONENT_KINDS.get(name.split(":", 1)[0], AlertKind.HEALTH)


@dataclass(frozen=True, slots=True)
class HealthWatch:
    """The levels last alerted per component and how many evaluations each has been not ok.

    A ``band:<UNDERLYING>`` component alerts only after ``band_cycles`` evaluations in a
    row outside its band (a hedge being worked is normal for a cycle or two); every other
    component on its first.
    """

    band_cycles: int = 1
    alerted: Mapping[str, Level] = field(default_factory=lambda: MappingProxyType({}))
    streaks: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def watch(self, current: Health, ts_ms: int) -> tuple[HealthWatch, tuple[AlertEvent, ...]]:
        """The next watch and the events of ``current``: each component whose level (after its
        streak) differs from the one last alerted, and each alerted one that vanished."""
        events: list[AlertEvent] = []
        alerted: dict[str, Level] = {}
        streaks: dict[str, int] = {}
        for c in current.components:
            if c.name in SKIPPED_COMPONENTS:
                continue
            streak = streaks[c.name] = self.streaks.get(c.name, 0) + 1 if c.level != Level.OK else 0
            needed = self.band_cycles if c.name.startswith(BAND_PREFIX) else 1
            level = c.level if streak >= needed else Level.OK
            before = self.alerted.get(c.name, Level.OK)
            alerted[c.name] = level
            if level != before:
                events.append(_component_event(c, level, ts_ms))
        for name, level in self.alerted.items():
            if name not in alerted and level != Level.OK:
                events.append(_component_event(Component(name, Level.OK, "gone"), Level.OK, ts_ms))
        return replace(
            self, alerted=MappingProxyType(alerted), streaks=MappingProxyType(streaks)
        ), tuple(events)


def _component_event(c: Component, level: Level, ts_ms: int) -> AlertEvent:
    """A component's new level as an event keyed on its name; back to ok resolves it."""
    ok = level == Level.OK
    return AlertEvent(
        kind=component_kind(c.name),
        severity=Severity.INFO if ok else _SEVERITY[level],
        key=f"health:{c.name}",
        message=f"{c.name} {level.value}: {c.reason}",
        ts_ms=ts_ms,
        fields={"component": c.name, "level": level.value, "reason": c.reason},
        resolved=ok,
        condition=not ok,
    )


_MODE_SEVERITY: Final = MappingProxyType(
    {
        TradingMode.HALTED: Severity.CRITICAL,
        TradingMode.REDUCING: Severity.WARNING,
        TradingMode.ACTIVE: Severity.INFO,
    }
)


def trading_event(before: TradingState, after: TradingState) -> AlertEvent | None:
    """Trading went from one mode to another: who did it and why (None: the mode is unchanged).

    Each change is its own key: a halt right after a resume must never be held back as
    a repeat.
    """
    if before.mode is after.mode:
        return None
    return AlertEvent(
        kind=AlertKind.TRADING_STATE,
        severity=_MODE_SEVERITY[after.mode],
        key=f"trading:{after.ts_ms}:{after.mode.value}",
        message=(
            f"trading {before.mode.value} -> {after.mode.value} by {after.set_by.value}: "
            f"{after.reason}"
        ),
        ts_ms=after.ts_ms,
        fields={
            "from": before.mode.value,
            "to": after.mode.value,
            "by": after.set_by.value,
            "reason": after.reason,
        },
    )


def ioc_streaks(
    previous: Mapping[Currency, int], outcomes: Iterable[tuple[Currency, bool]]
) -> dict[Currency, int]:
    """Consecutive IOCs per underlying that the venue canceled unfilled: each unfilled
    ``(underlying, False)`` adds one, any fill resets it; untouched underlyings keep theirs."""
    streaks = dict(previous)
    for underlying, filled in outcomes:
        streaks[underlying] = 0 if filled else streaks.get(underlying, 0) + 1
    return streaks


@dataclass(frozen=True, slots=True)
class DailySummary:
    """The day's facts the summary tells: state, delta per underlying, orders, alerts, and
    extra lines (a P&L line from ``pnl_report`` once it exists)."""

    ts_ms: int
    trading: TradingState
    total_delta_coin: Mapping[Currency, float]
    orders: Mapping[str, int]
    """Orders of the last day per journaled state (``filled``, ``canceled``, ...)."""
    alerts: Mapping[str, int]
    """Alerts of the last day per severity."""
    extra_lines: Sequence[str] = ()


def summary_event(summary: DailySummary) -> AlertEvent:
    """The daily summary as one info event keyed on its UTC day."""
    s = summary
    sent = sum(s.orders.values())
    deltas = ", ".join(f"{u} {d:+.4f} coin" for u, d in sorted(s.total_delta_coin.items()))
    alerts = ", ".join(f"{n} {sev}" for sev, n in sorted(s.alerts.items())) or "none"
    lines = [
        f"daily summary to {iso_utc(s.ts_ms)}",
        f"trading {s.trading.mode.value} (set by {s.trading.set_by.value}: {s.trading.reason})",
        f"total delta: {deltas or 'no book read yet'}",
        f"orders: {sent} sent, {s.orders.get('filled', 0)} filled, "
        f"{s.orders.get('canceled', 0)} canceled",
        f"alerts: {alerts}",
        *s.extra_lines,
    ]
    return AlertEvent(
        kind=AlertKind.DAILY_SUMMARY,
        severity=Severity.INFO,
        key=f"daily_summary:{s.ts_ms // MS_PER_DAY}",
        message="\n".join(lines),
        ts_ms=s.ts_ms,
        fields={"orders_sent": sent, "trading": s.trading.mode.value},
    )


def summary_day(now_ms: int, at_minute_utc: int) -> int:
    """The latest UTC day (epoch days) whose summary time, ``at_minute_utc`` minutes after
    midnight, has passed by ``now_ms``: a summary is due when this moves on."""
    return (now_ms - at_minute_utc * MS_PER_MINUTE) // MS_PER_DAY
