"""The operator's hand on a running daemon, through its journal.

``halt``, ``reduce`` and ``resume`` write the trading state beside the daemon
(SQLite serialises the writes); the daemon reads it at the start of every
cycle, so a halt takes effect from its next cycle, and it survives restarts.
``resume`` also lifts the locks the engine put on underlyings. A halt must work
exactly when the journal does not: on a journal that cannot be read or written
it writes the halt marker beside it instead, which every daemon obeys, and
``resume`` removes the marker once the journal is readable again. A desk halts
before it starts, so a halt where no journal exists yet creates one, halted, and the
daemon's first start on it is halted. Collateral
plans proposed by the daemon in mode ``plan`` are listed and approved here;
the daemon sends an approved plan at its next collateral run. Each action's
result has its text (and JSON) form beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.clock import SystemClock
from bot.domain.timeunits import iso_utc
from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.journal import (
    Journal,
    JournalFileError,
    JournalLockedError,
    JournalMissingError,
    PlanRecord,
    PlanState,
    halt_marker_path,
    remove_halt_marker,
    write_halt_marker,
)
from bot.journal.plans import intent_json


@dataclass(frozen=True, slots=True)
class TradingChange:
    """An operator's change of the trading state, as journaled."""

    journal_path: Path
    before: TradingState
    after: TradingState
    lifted_locks: int
    removed_marker: Path | None
    created: bool = False
    """The journal did not exist and was created to hold this state (a halt before the
    first run)."""


@dataclass(frozen=True, slots=True)
class MarkerHalt:
    """A halt written as the marker beside a journal that could not take it."""

    marker: Path
    reason: str
    problem: str
    """Why the journal could not be used (names the file)."""


def halt(journal_path: Path, reason: str) -> TradingChange | MarkerHalt:
    """Set HALTED: no orders at all until an operator resumes; by the halt marker if the
    journal cannot be read or written (JournalError if the marker cannot be written either)."""
    try:
        return _set(journal_path, TradingMode.HALTED, reason)
    except JournalMissingError:
        return _halt_new(journal_path, reason)
    except JournalFileError as exc:
        now_ms = SystemClock().now_ms()
        marker = write_halt_marker(journal_path, reason, SetBy.OPERATOR, now_ms)
        return MarkerHalt(marker, reason, str(exc))


def _halt_new(journal_path: Path, reason: str) -> TradingChange:
    """Create the journal halted, so the daemon's first start on it trades nothing; a daemon
    that took the lock meanwhile created it, and the halt goes beside it."""
    try:
        journal = Journal.open(journal_path)
    except JournalLockedError:
        return _set(journal_path, TradingMode.HALTED, reason)
    with journal:
        before = journal.state.trading_state()
        after = TradingState(TradingMode.HALTED, reason, SetBy.OPERATOR, SystemClock().now_ms())
        journal.state.set_trading_state(after)
    return TradingChange(journal_path, before, after, 0, None, created=True)


def reduce(journal_path: Path, reason: str) -> TradingChange:
    """Set REDUCING: only orders that shrink a position toward zero, until resumed."""
    return _set(journal_path, TradingMode.REDUCING, reason)


def resume(journal_path: Path, reason: str) -> TradingChange:
    """Set ACTIVE and lift underlying locks, accepting the venues' books as they now are."""
    return _set(journal_path, TradingMode.ACTIVE, reason or "operator resume")


def _set(journal_path: Path, mode: TradingMode, reason: str) -> TradingChange:
    """Record ``mode``; a laxer one than HALTED also removes the halt marker, which only a
    readable journal may replace."""
    now_ms = SystemClock().now_ms()
    try:
        with Journal.open_control(journal_path) as journal:
            before = journal.state.trading_state()
            after = TradingState(mode, reason, SetBy.OPERATOR, now_ms)
            journal.state.set_trading_state(after)
            lifted = journal.state.clear_locks(now_ms) if mode is TradingMode.ACTIVE else 0
    except JournalFileError as exc:
        marker = halt_marker_path(journal_path)
        if mode is TradingMode.HALTED or not marker.exists():
            raise
        raise JournalFileError(
            f"{exc}; the halt marker {marker} stays until the journal is readable: restore it "
            "from a backup, or move it (with its -wal and -shm files) aside so that the next "
            "'deltabot run' starts a new one, then run this again"
        ) from exc
    removed = None if mode is TradingMode.HALTED else remove_halt_marker(journal_path)
    return TradingChange(journal_path, before, after, lifted, removed)


def change_text(change: TradingChange | MarkerHalt) -> str:
    """``trading halted -> active (why); journal PATH``, the locks lifted and the marker
    removed if any; or what is wrong with the journal and where the halt marker went."""
    if isinstance(change, MarkerHalt):
        return (
            f"{change.problem}; trading halted by the marker {change.marker} ({change.reason}): "
            "no daemon trades on this journal while it exists ('deltabot resume' removes it "
            "once the journal is readable)"
        )
    if change.created:
        return (
            f"created the journal {change.journal_path} with trading halted "
            f"({change.after.reason}): the daemon's first start on it is halted; "
            "'deltabot resume' lets it trade"
        )
    lines = [
        f"trading {change.before.mode.value} -> {change.after.mode.value} "
        f"({change.after.reason}); journal {change.journal_path}"
    ]
    if change.lifted_locks:
        lines.append(f"lifted {change.lifted_locks} underlying lock(s)")
    if change.removed_marker is not None:
        lines.append(f"removed the halt marker {change.removed_marker}")
    return "\n".join(lines)


def proposed_plans(journal_path: Path) -> tuple[PlanRecord, ...]:
    """The collateral plans awaiting an operator's approval, newest first."""
    with Journal.open_control(journal_path) as journal:
        return journal.plans.in_state(PlanState.PROPOSED)


def approve_plan(journal_path: Path, plan_id: str) -> PlanRecord:
    """Mark a proposed plan APPROVED for the daemon to send at its next collateral run."""
    with Journal.open_control(journal_path) as journal:
        return journal.plans.mark(plan_id, PlanState.APPROVED, SystemClock().now_ms())


def approved_text(plan: PlanRecord) -> str:
    """``approved ID: summary``."""
    return f"approved {plan.plan_id}: {plan.summary}"


def plans_json(plans: tuple[PlanRecord, ...]) -> list[dict[str, object]]:
    """Each plan with its transfers, in the journal's JSON shape of a planned transfer."""
    return [
        {
            "plan_id": plan.plan_id,
            "ts_ms": plan.ts_ms,
            "proposed_at": iso_utc(plan.ts_ms),
            "state": plan.state.value,
            "summary": plan.summary,
            "transfers": [intent_json(i) for i in plan.intents],
        }
        for plan in plans
    ]


def plans_text(plans: tuple[PlanRecord, ...], collateral_mode: str) -> str:
    """Each plan's id and summary, then one line per transfer; or that there is none."""
    if not plans:
        return f"no proposed collateral plans (mode {collateral_mode})"
    lines = []
    for plan in plans:
        lines.append(f"{plan.plan_id}  {iso_utc(plan.ts_ms)}  {plan.summary}")
        for i in plan.intents:
            r = i.request
            lines.append(
                f"  {r.transfer_id}  {r.kind.value} {r.amount:g} {r.currency} from {r.venue} "
                f"to {r.destination} ({i.amount_usd:,.2f} USD)"
            )
    return "\n".join(lines)
