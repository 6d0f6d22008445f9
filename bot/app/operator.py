"""The operator's hand on a running daemon, through its journal.

``halt``, ``reduce`` and ``resume`` write the trading state beside the daemon
(SQLite serialises the writes); the daemon reads it at the start of every
cycle, so a halt takes effect from its next cycle, and it survives restarts.
``resume`` also lifts the locks the engine put on underlyings. Collateral
plans proposed by the daemon in mode ``plan`` are listed and approved here;
the daemon sends an approved plan at its next collateral run. Each action's
result has its text (and JSON) form beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.clock import SystemClock
from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.journal import Journal, PlanRecord, PlanState
from bot.journal.plans import intent_json


@dataclass(frozen=True, slots=True)
class TradingChange:
    """An operator's change of the trading state, as journaled."""

    journal_path: Path
    before: TradingState
    after: TradingState
    lifted_locks: int


def halt(journal_path: Path, reason: str) -> TradingChange:
    """Set HALTED: no orders at all until an operator resumes."""
    return _set(journal_path, TradingMode.HALTED, reason)


def reduce(journal_path: Path, reason: str) -> TradingChange:
    """Set REDUCING: only orders that shrink a position toward zero, until resumed."""
    return _set(journal_path, TradingMode.REDUCING, reason)


def resume(journal_path: Path, reason: str) -> TradingChange:
    """Set ACTIVE and lift underlying locks, accepting the venues' books as they now are."""
    return _set(journal_path, TradingMode.ACTIVE, reason or "operator resume")


def _set(journal_path: Path, mode: TradingMode, reason: str) -> TradingChange:
    now_ms = SystemClock().now_ms()
    with Journal.open_control(journal_path) as journal:
        before = journal.state.trading_state()
        after = TradingState(mode, reason, SetBy.OPERATOR, now_ms)
        journal.state.set_trading_state(after)
        lifted = journal.state.clear_locks(now_ms) if mode is TradingMode.ACTIVE else 0
    return TradingChange(journal_path, before, after, lifted)


def change_text(change: TradingChange) -> str:
    """``trading halted -> active (why); journal PATH``, and the locks lifted if any."""
    lines = [
        f"trading {change.before.mode.value} -> {change.after.mode.value} "
        f"({change.after.reason}); journal {change.journal_path}"
    ]
    if change.lifted_locks:
        lines.append(f"lifted {change.lifted_locks} underlying lock(s)")
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
        lines.append(f"{plan.plan_id}  {plan.summary}")
        for i in plan.intents:
            r = i.request
            lines.append(
                f"  {r.transfer_id}  {r.kind.value} {r.amount:g} {r.currency} from {r.venue} "
                f"to {r.destination} ({i.amount_usd:,.2f} USD)"
            )
    return "\n".join(lines)
