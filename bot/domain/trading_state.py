"""Trading state ACTIVE / REDUCING / HALTED, who set it, and when failures halt.

The state is persisted by the journal and survives restarts. Automation may
only make it stricter: a bot that keeps failing must not talk itself back into
trading, so leaving HALTED or REDUCING takes an operator (docs/architecture.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class TradingMode(StrEnum):
    ACTIVE = "active"
    """Hedge normally."""
    REDUCING = "reducing"
    """Only orders that shrink an existing position."""
    HALTED = "halted"
    """No orders at all."""


_SEVERITY: Final = MappingProxyType(
    {TradingMode.ACTIVE: 0, TradingMode.REDUCING: 1, TradingMode.HALTED: 2}
)


class SetBy(StrEnum):
    OPERATOR = "operator"
    AUTOMATIC = "automatic"


@dataclass(frozen=True, slots=True)
class TradingState:
    """The mode, why it was set, by whom, and when (UTC epoch ms)."""

    mode: TradingMode
    reason: str
    set_by: SetBy
    ts_ms: int

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError(f"trading state {self.mode.value}: a reason is required")


INITIAL_STATE: Final = TradingState(TradingMode.ACTIVE, "new journal", SetBy.AUTOMATIC, 0)
"""The state of a journal that has never recorded one."""


def transition(
    current: TradingState, mode: TradingMode, *, reason: str, set_by: SetBy, ts_ms: int
) -> TradingState:
    """The state after a request to set ``mode``.

    An operator may set any mode. Automation may only escalate: asking for a
    laxer mode raises ValueError, and asking for the current mode keeps the
    current record (and its reason) unchanged.
    """
    new = TradingState(mode, reason, set_by, ts_ms)
    if set_by is SetBy.OPERATOR:
        return new
    if _SEVERITY[mode] < _SEVERITY[current.mode]:
        raise ValueError(
            f"automation cannot relax trading from {current.mode.value} to {mode.value} "
            f"(set by {current.set_by.value}: {current.reason}); an operator must"
        )
    return current if mode is current.mode else new


@dataclass(frozen=True, slots=True)
class CycleFailures:
    """Consecutive failed cycles so far and the last failure's message."""

    consecutive: int = 0
    last_error: str | None = None


def after_cycle(
    failures: CycleFailures,
    state: TradingState,
    *,
    error: str | None,
    max_consecutive_failures: int,
    ts_ms: int,
) -> tuple[CycleFailures, TradingState]:
    """Count one cycle's outcome (``error`` None: it succeeded); N failures in a row halt.

    A success resets the count but never lifts a halt: that is an operator's call.
    """
    if max_consecutive_failures < 1:
        raise ValueError(f"max_consecutive_failures must be >= 1, got {max_consecutive_failures!r}")
    if error is None:
        return CycleFailures(), state
    counted = CycleFailures(failures.consecutive + 1, error)
    if counted.consecutive < max_consecutive_failures:
        return counted, state
    reason = f"{counted.consecutive} consecutive cycle failures, last: {error}"
    return counted, transition(
        state, TradingMode.HALTED, reason=reason, set_by=SetBy.AUTOMATIC, ts_ms=ts_ms
    )
