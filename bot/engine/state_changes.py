"""One structured log line for every change of the trading state, the locks and the caps
denying orders, whatever made it (an operator's CLI or dashboard, automation); a change
of trading mode is also an alert.

The hedge cycle calls these with what it saw before and what it sees now: it is
where an operator's halt written beside the daemon is first noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import structlog

from bot.domain.alert_rules import trading_event
from bot.domain.timeunits import iso_utc
from bot.domain.trading_state import TradingState
from bot.engine.context import EngineContext

log = structlog.get_logger("deltabot.state")

K = TypeVar("K", bound=str)


def note_trading_state(ctx: EngineContext, before: TradingState, after: TradingState) -> None:
    """Log a new trading-state record (from, to, by, why) and alert a change of mode."""
    if before == after:
        return
    log.warning(
        "trading_state_changed",
        from_mode=before.mode.value,
        to_mode=after.mode.value,
        by=after.set_by.value,
        reason=after.reason,
        at=iso_utc(after.ts_ms),
    )
    event = trading_event(before, after)
    if event is not None:
        ctx.alerts.emit(event)


def note_changes(
    set_event: str, cleared_event: str, before: Mapping[K, str], after: Mapping[K, str]
) -> None:
    """``set_event`` with its reason for each key new in ``after`` (``lock_set``,
    ``cap_hit``), ``cleared_event`` for each key gone from it."""
    for key in sorted(after.keys() - before.keys()):
        log.warning(set_event, subject=key, reason=after[key])
    for key in sorted(before.keys() - after.keys()):
        log.info(cleared_event, subject=key, reason=before[key])
