"""What operators did through the dashboard: who, which action, why, and how it went.

The trading state and the plans record *what* changed; this table records *who*
asked for it from the web (``dashboard@<remote address>``), including the
actions that change no record of their own (a cycle run on request, a refused
approval), so an incident review can tell a person's hand from the bot's.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.journal.db import Db


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """One action: ``ts_ms`` on the wall clock (UTC epoch ms), ``detail`` the reason or the
    plan id, ``outcome`` what happened (``ok: ...`` or ``refused: ...``)."""

    ts_ms: int
    actor: str
    action: str
    detail: str
    outcome: str


class ActionStore:
    """The ``operator_actions`` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, action: OperatorAction) -> None:
        row = {
            "ts_ms": action.ts_ms,
            "actor": action.actor,
            "action": action.action,
            "detail": action.detail,
            "outcome": action.outcome,
        }
        with self._db.tx():
            self._db.insert("operator_actions", row)

    def recent(self, limit: int) -> tuple[OperatorAction, ...]:
        """The last ``limit`` actions, newest first."""
        rows = self._db.query(
            "SELECT ts_ms, actor, action, detail, outcome FROM operator_actions "
            "ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        return tuple(OperatorAction(*row) for row in rows)
