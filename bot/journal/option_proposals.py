"""Option-hedge proposals in the journal: proposed by the daemon, approved by an operator,
or expired (issue 16).

The daemon journals each proposal PROPOSED with the Greeks before and after it
and a time after which it expires: option prices move, and an approval is of
these trades at about these prices, not of whatever the market offers later.
``deltabot options-hedge approve ID`` (beside the daemon) marks it APPROVED only
while it is still live; once past its expiry it can only become EXPIRED. A breach
no trade can mend is journaled INFEASIBLE with the optimizer's explanation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.journal.db import Db
from bot.journal.errors import JournalError


class ProposalState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    EXECUTED = "executed"
    EXPIRED = "expired"
    INFEASIBLE = "infeasible"
    """No trades could mend the breach; the document says why (never approved)."""


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    """A journaled proposal: when, for which underlying, until when, and its document
    (legs, cost, Greeks before and after) as ``options-hedge plan --json`` shows it."""

    proposal_id: str
    ts_ms: int
    underlying: str
    state: ProposalState
    expires_ts_ms: int
    document: Mapping[str, Any]


_COLUMNS = "proposal_id, ts_ms, underlying, status, expires_ts_ms, proposal_json"


class ProposalStore:
    """The ``option_proposals`` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def propose(
        self,
        proposal_id: str,
        *,
        ts_ms: int,
        underlying: str,
        expires_ts_ms: int,
        document: Mapping[str, Any],
    ) -> bool:
        """Journal a proposal as PROPOSED; False (and nothing written) if the id is known."""
        return self._insert(
            proposal_id,
            state=ProposalState.PROPOSED,
            ts_ms=ts_ms,
            underlying=underlying,
            expires_ts_ms=expires_ts_ms,
            document=document,
        )

    def infeasible(
        self, proposal_id: str, *, ts_ms: int, underlying: str, document: Mapping[str, Any]
    ) -> bool:
        """Journal why no proposal exists for ``underlying`` now, unless its newest record
        already says the same (one record per distinct explanation, not one per look)."""
        latest = self._db.one(
            "SELECT status, proposal_json FROM option_proposals WHERE underlying = ? "
            "ORDER BY ts_ms DESC, proposal_id DESC LIMIT 1",
            (underlying,),
        )
        if (
            latest is not None
            and latest[0] == ProposalState.INFEASIBLE
            and json.loads(latest[1]).get("why") == list(document.get("why", []))
        ):
            return False
        return self._insert(
            proposal_id,
            state=ProposalState.INFEASIBLE,
            ts_ms=ts_ms,
            underlying=underlying,
            expires_ts_ms=ts_ms,
            document=document,
        )

    def _insert(
        self,
        proposal_id: str,
        *,
        state: ProposalState,
        ts_ms: int,
        underlying: str,
        expires_ts_ms: int,
        document: Mapping[str, Any],
    ) -> bool:
        row = {
            "proposal_id": proposal_id,
            "ts_ms": ts_ms,
            "underlying": underlying,
            "status": state,
            "status_ts_ms": ts_ms,
            "expires_ts_ms": expires_ts_ms,
            "proposal_json": json.dumps(dict(document), sort_keys=True),
        }
        with self._db.tx():
            return self._db.insert("option_proposals", row, or_ignore=True)

    def get(self, proposal_id: str) -> ProposalRecord:
        row = self._db.one(
            f"SELECT {_COLUMNS} FROM option_proposals WHERE proposal_id = ?", (proposal_id,)
        )
        if row is None:
            raise JournalError(f"option-hedge proposal {proposal_id} is not in the journal")
        return _record(row)

    def recent(self, limit: int = 20) -> tuple[ProposalRecord, ...]:
        """The newest ``limit`` proposals, newest first."""
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM option_proposals ORDER BY ts_ms DESC, proposal_id LIMIT ?",
            (limit,),
        )
        return tuple(_record(r) for r in rows)

    def open_for(self, underlying: str, now_ms: int) -> ProposalRecord | None:
        """The underlying's live proposal (PROPOSED or APPROVED, not yet expired), if any:
        the daemon proposes no second one beside it."""
        row = self._db.one(
            f"SELECT {_COLUMNS} FROM option_proposals WHERE underlying = ? AND status IN (?, ?) "
            "AND expires_ts_ms > ? ORDER BY ts_ms DESC LIMIT 1",
            (underlying, ProposalState.PROPOSED, ProposalState.APPROVED, now_ms),
        )
        return None if row is None else _record(row)

    def approve(
        self, proposal_id: str, now_ms: int, *, daemon_clock: bool = True
    ) -> ProposalRecord:
        """PROPOSED -> APPROVED while live; a proposal past its expiry becomes EXPIRED and
        the approval is refused. ``daemon_clock`` False: ``now_ms`` is not on the clock that
        stamped the expiry (a simulated daemon's), so only the daemon's :meth:`expire` judges."""
        with self._db.tx():
            current = self.get(proposal_id)
            if current.state is not ProposalState.PROPOSED:
                raise JournalError(
                    f"option-hedge proposal {proposal_id} is {current.state.value}: "
                    "only a proposed one can be approved"
                )
            late = daemon_clock and now_ms >= current.expires_ts_ms
            self._set(
                proposal_id, ProposalState.EXPIRED if late else ProposalState.APPROVED, now_ms
            )
        if late:
            raise JournalError(
                f"option-hedge proposal {proposal_id} expired at {current.expires_ts_ms} ms "
                "(prices have moved): wait for the next one"
            )
        return self.get(proposal_id)

    def approved(self, now_ms: int) -> tuple[ProposalRecord, ...]:
        """APPROVED proposals not yet expired at ``now_ms``, oldest first (the daemon's queue)."""
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM option_proposals WHERE status = ? AND expires_ts_ms > ? "
            "ORDER BY ts_ms, proposal_id",
            (ProposalState.APPROVED, now_ms),
        )
        return tuple(_record(r) for r in rows)

    def executed(self, proposal_id: str, now_ms: int) -> None:
        """APPROVED -> EXECUTED: its orders were journaled and sent (whatever they filled)."""
        with self._db.tx():
            current = self.get(proposal_id)
            if current.state is not ProposalState.APPROVED:
                raise JournalError(
                    f"option-hedge proposal {proposal_id} is {current.state.value}: "
                    "only an approved one is executed"
                )
            self._set(proposal_id, ProposalState.EXECUTED, now_ms)

    def expire(self, now_ms: int) -> int:
        """Mark every PROPOSED or APPROVED proposal past its expiry EXPIRED; how many."""
        with self._db.tx():
            return self._db.execute(
                "UPDATE option_proposals SET status = ?, status_ts_ms = ? "
                "WHERE status IN (?, ?) AND expires_ts_ms <= ?",
                (
                    ProposalState.EXPIRED,
                    now_ms,
                    ProposalState.PROPOSED,
                    ProposalState.APPROVED,
                    now_ms,
                ),
            )

    def _set(self, proposal_id: str, state: ProposalState, ts_ms: int) -> None:
        self._db.execute(
            "UPDATE option_proposals SET status = ?, status_ts_ms = ? WHERE proposal_id = ?",
            (state, ts_ms, proposal_id),
        )


def _record(row: Any) -> ProposalRecord:
    pid, ts, underlying, status, expires, doc = row
    return ProposalRecord(pid, ts, underlying, ProposalState(status), expires, json.loads(doc))
