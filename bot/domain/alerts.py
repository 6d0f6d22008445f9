"""Alert events, their severities, and the throttle that turns a storm into one message.

An :class:`AlertEvent` is what a detector saw (a halt, a lock, a rate limit);
an :class:`Alert` is what goes out: one event, or the last of a burst with the
count it stands for. The :class:`Throttle` decides per dedup key, purely from
the events' own timestamps: the first occurrence goes out at once, repeats
within ``window_ms`` are counted and go out as one message when the window
ends, and a resolved condition says so once. Nothing here reads a clock or
does I/O; delivery lives in :mod:`bot.engine.alert_sink`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from bot.domain.timeunits import MS_PER_MINUTE, MS_PER_SECOND, iso_utc


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK: Final = MappingProxyType({Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2})


class AlertKind(StrEnum):
    """The closed set of alert classes (also the ``event`` label of ``deltabot_alerts_total``)."""

    TRADING_STATE = "trading_state"
    """Trading halted, reduced or resumed: by whom and why."""
    LOCK = "lock"
    RECONCILE_MISMATCH = "reconcile_mismatch"
    UNKNOWN_ORDER = "unknown_order"
    """An order still UNKNOWN when its resolution window ended."""
    HEDGE_FAILING = "hedge_failing"
    """An underlying outside its band for N cycles, IOCs canceling repeatedly, cycles failing."""
    CAPS_DENYING = "caps_denying"
    STALE_INPUTS = "stale_inputs"
    VENUE_UNREACHABLE = "venue_unreachable"
    RATE_LIMITED = "rate_limited"
    MARGIN = "margin"
    """Margin below its floor, or the liquidation distance under its threshold."""
    TRANSFER = "transfer"
    """A collateral transfer sent, landed, failed or stuck."""
    STRESS_LOSS = "stress_loss"
    GREEK_LIMIT = "greek_limit"
    """A vega or gamma bucket past its soft or hard limit (``[greek_limits]``)."""
    DAEMON_STARTED = "daemon_started"
    DAEMON_STOPPED = "daemon_stopped"
    DAEMON_CRASHED = "daemon_crashed"
    DAILY_SUMMARY = "daily_summary"
    HEALTH = "health"
    """A health component no other class covers (a component added after this list)."""


FieldValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One thing worth telling a person: ``key`` dedups (``lock``, ``rate_limited:deribit``)."""

    kind: AlertKind
    severity: Severity
    key: str
    message: str
    ts_ms: int
    fields: Mapping[str, FieldValue] = field(default_factory=lambda: MappingProxyType({}))
    resolved: bool = False
    """The condition under ``key`` is over (sent once, only if it had been alerted)."""
    condition: bool = False
    """A lasting condition that will be resolved later: its key is kept until then."""

    def __post_init__(self) -> None:
        if not self.key or not self.message.strip():
            raise ValueError(f"alert {self.kind.value}: a key and a message are required")


def _span(ms: int) -> str:
    """``10 min``, or ``30 s`` under a minute: how long a burst lasted, rounded."""
    if ms >= MS_PER_MINUTE:
        return f"{round(ms / MS_PER_MINUTE)} min"
    return f"{round(ms / MS_PER_SECOND)} s"


@dataclass(frozen=True, slots=True)
class Alert:
    """What is delivered: ``event`` (the last of its burst) standing for ``count`` occurrences
    over ``span_ms`` (0 for a single one)."""

    event: AlertEvent
    count: int = 1
    span_ms: int = 0

    @property
    def title(self) -> str:
        e = self.event
        state = "resolved" if e.resolved else e.severity.value
        return f"deltabot {state}: {e.kind.value}"

    @property
    def text(self) -> str:
        """The message for a person, with its UTC time and, for a burst, the count."""
        e = self.event
        suffix = ""
        if self.count > 1:
            suffix = f" (×{self.count} in the last {_span(self.span_ms)})"
        resolved = "resolved: " if e.resolved else ""
        return f"{iso_utc(e.ts_ms)} {resolved}{e.message}{suffix}"


@dataclass(frozen=True, slots=True)
class _Key:
    """One key's window: opened at ``opened_ms`` by an alert that went out; ``repeats`` since,
    the newest of them ``last``."""

    opened_ms: int
    severity: Severity
    repeats: int = 0
    last: AlertEvent | None = None
    condition: bool = False


@dataclass(frozen=True, slots=True)
class Throttle:
    """Per-key de-duplication over ``window_ms`` (a value: each call returns the next one)."""

    window_ms: int
    keys: Mapping[str, _Key] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.window_ms <= 0:
            raise ValueError(f"throttle window must be > 0 ms, got {self.window_ms}")

    def _with(self, key: str, state: _Key | None) -> Throttle:
        keys = dict(self.keys)
        if state is None:
            keys.pop(key, None)
        else:
            keys[key] = state
        return replace(self, keys=MappingProxyType(keys))

    def _burst(self, state: _Key, now_ms: int) -> tuple[Alert, ...]:
        if state.last is None:
            return ()
        return (Alert(state.last, state.repeats, now_ms - state.opened_ms),)

    def offer(self, event: AlertEvent) -> tuple[Throttle, tuple[Alert, ...]]:
        """Take one event: what goes out now (nothing for a repeat inside its window, unless
        it is more severe than the alert that opened the window)."""
        state = self.keys.get(event.key)
        if event.resolved:
            if state is None:
                return self, ()  # never alerted, or already resolved: nothing to say
            return self._with(event.key, None), (*self._burst(state, event.ts_ms), Alert(event))
        if (
            state is None
            or event.ts_ms - state.opened_ms >= self.window_ms
            or event.severity.rank > state.severity.rank  # an escalation is never held back
        ):
            # Repeats pending: this one closes the burst, in one message.
            alert = (
                Alert(event)
                if state is None or state.last is None
                else Alert(event, state.repeats + 1, event.ts_ms - state.opened_ms)
            )
            opened = _Key(event.ts_ms, event.severity, condition=event.condition)
            return self._with(event.key, opened), (alert,)
        counted = replace(state, repeats=state.repeats + 1, last=event)
        return self._with(event.key, counted), ()

    def due(self, now_ms: int) -> tuple[Throttle, tuple[Alert, ...]]:
        """The bursts whose window has ended by ``now_ms``, one alert each with its count;
        forgets quiet keys that await no resolution."""
        keys: dict[str, _Key] = {}
        out: list[Alert] = []
        for key, state in self.keys.items():
            if now_ms - state.opened_ms < self.window_ms:
                keys[key] = state
                continue
            if state.last is not None:  # the burst goes out and opens the next window
                out += self._burst(state, now_ms)
                keys[key] = _Key(now_ms, state.last.severity, condition=state.condition)
            elif state.condition:
                keys[key] = state
        return replace(self, keys=MappingProxyType(keys)), tuple(out)
