"""The journal's integrity check, on a schedule and at stop (docs/architecture.md §5, §7).

A journal replaced, truncated or overwritten under the daemon, or damaged on
disk, must not go unnoticed: :func:`check_journal` asks the journal whether
it is still the file it opened, with SQLite's header and a clean ``PRAGMA
quick_check``. On a failure it halts trading twice over, in the journal if it
still takes a write and by the halt marker beside it (which a restart obeys
too), logs an error and sets ``deltabot_journal_ok`` to 0; the daemon stops
running the jobs that use the journal and exits non-zero when it stops.
"""

from __future__ import annotations

from typing import Final

import structlog

from bot.domain.trading_state import SetBy, TradingMode, transition
from bot.engine.context import EngineContext
from bot.journal import JournalError, JournalFileError, write_halt_marker

log = structlog.get_logger("deltabot.journal_check")

JOURNAL_CHECK_INTERVAL_S: Final = 30.0
"""Wall seconds between the daemon's integrity checks of its journal."""


def check_journal(ctx: EngineContext) -> str | None:
    """Check the journal; None if it is sound, else the problem, after halting trading."""
    journal = ctx.journal
    try:
        journal.check()
    except JournalFileError as exc:
        problem = str(exc)
    else:
        ctx.metrics.set_journal_ok(True)
        return None
    ctx.metrics.set_journal_ok(False)
    log.error("journal_check_failed", problem=problem)
    reason = f"journal check failed: {problem}"
    now_ms = ctx.clock_ms()
    try:
        current = journal.state.trading_state()
        halted = transition(
            current, TradingMode.HALTED, reason=reason, set_by=SetBy.AUTOMATIC, ts_ms=now_ms
        )
        if halted is not current:
            journal.state.set_trading_state(halted)
    except JournalError as exc:
        log.error("journal_halt_not_recorded", error=str(exc))
    try:
        marker = write_halt_marker(journal.path, reason, SetBy.AUTOMATIC, now_ms)
    except JournalError as exc:
        log.error("halt_marker_not_written", error=str(exc))
    else:
        log.error("trading_halted", reason=reason, marker=str(marker))
    return problem
