"""Collateral plans in the journal: proposed by the daemon, approved by an operator.

In mode ``plan`` the daemon journals each new plan as PROPOSED; ``deltabot
collateral approve ID`` (another process, beside the daemon) marks it
APPROVED; the daemon's next collateral run sends exactly the journaled
transfers through the transfer gate and marks the plan EXECUTED. A plan is
never recomputed between approval and sending: the operator approved those
transfers, not whatever the market suggests later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.transfer_risk import TransferIntent
from bot.journal.db import Db
from bot.journal.errors import JournalError


class PlanState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    EXECUTED = "executed"


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """A journaled plan: its transfers (as requests with their USD value) and state."""

    plan_id: str
    ts_ms: int
    state: PlanState
    intents: tuple[TransferIntent, ...]
    summary: str


def intent_json(intent: TransferIntent) -> dict[str, object]:
    """One planned transfer as the journal stores it and ``collateral plan --json`` shows it."""
    req = intent.request
    return {
        "transfer_id": req.transfer_id,
        "venue": req.venue,
        "kind": req.kind.value,
        "currency": req.currency,
        "amount": req.amount,
        "destination": req.destination,
        "network": req.network,
        "amount_usd": intent.amount_usd,
    }


def _to_json(intents: Sequence[TransferIntent], summary: str) -> str:
    rows = [intent_json(i) for i in intents]
    return json.dumps({"summary": summary, "transfers": rows}, sort_keys=True)


def _from_json(text: str) -> tuple[tuple[TransferIntent, ...], str]:
    data = json.loads(text)
    intents = tuple(
        TransferIntent(
            TransferRequest(
                TransferId(r["transfer_id"]),
                VenueId(r["venue"]),
                TransferKind(r["kind"]),
                Currency(r["currency"]),
                float(r["amount"]),
                r["destination"],
                r["network"],
            ),
            float(r["amount_usd"]),
        )
        for r in data["transfers"]
    )
    return intents, str(data["summary"])


class PlanStore:
    """The ``collateral_plans`` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def propose(
        self, plan_id: str, ts_ms: int, intents: Sequence[TransferIntent], summary: str
    ) -> bool:
        """Journal a plan as PROPOSED; False (and nothing written) if the id is known."""
        row = {
            "plan_id": plan_id,
            "ts_ms": ts_ms,
            "status": PlanState.PROPOSED,
            "status_ts_ms": ts_ms,
            "plan_json": _to_json(intents, summary),
        }
        with self._db.tx():
            return self._db.insert("collateral_plans", row, or_ignore=True)

    def get(self, plan_id: str) -> PlanRecord:
        row = self._db.one(
            "SELECT plan_id, ts_ms, status, plan_json FROM collateral_plans WHERE plan_id = ?",
            (plan_id,),
        )
        if row is None:
            raise JournalError(f"collateral plan {plan_id} is not in the journal")
        intents, summary = _from_json(row[3])
        return PlanRecord(row[0], row[1], PlanState(row[2]), intents, summary)

    def in_state(self, state: PlanState) -> tuple[PlanRecord, ...]:
        """Plans in ``state``, newest first."""
        rows = self._db.query(
            "SELECT plan_id FROM collateral_plans WHERE status = ? ORDER BY ts_ms DESC",
            (state,),
        )
        return tuple(self.get(r[0]) for r in rows)

    def mark(self, plan_id: str, state: PlanState, ts_ms: int) -> PlanRecord:
        """PROPOSED -> APPROVED (an operator) -> EXECUTED (the daemon); nothing else."""
        allowed = {PlanState.APPROVED: PlanState.PROPOSED, PlanState.EXECUTED: PlanState.APPROVED}
        with self._db.tx():
            current = self.get(plan_id)
            if allowed.get(state) is not current.state:
                raise JournalError(
                    f"collateral plan {plan_id} is {current.state.value}: cannot become "
                    f"{state.value}"
                )
            self._db.execute(
                "UPDATE collateral_plans SET status = ?, status_ts_ms = ? WHERE plan_id = ?",
                (state, ts_ms, plan_id),
            )
        return self.get(plan_id)
