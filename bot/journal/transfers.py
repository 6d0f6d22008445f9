"""Transfer records in the journal: journaled PENDING before they are sent, like orders.

A mixin of :class:`bot.journal.Journal`, apart only to keep each module
small: it works through the journal's connection and transactions.
"""

from __future__ import annotations

import sqlite3
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Final

from bot.domain.ids import Currency, VenueId
from bot.domain.orders import (
    TransferId,
    TransferKind,
    TransferReport,
    TransferRequest,
    TransferState,
)
from bot.journal.errors import JournalError
from bot.journal.schema import exists, insert, row_fields

_OPEN_TRANSFER_STATES: Final = frozenset(
    {
        TransferState.PENDING,
        TransferState.SUBMITTED,
        TransferState.UNKNOWN,
        TransferState.PROCESSING,
    }
)
_TRANSFER_COLUMNS: Final = (
    "transfer_id, venue, kind, currency, amount, destination, network, state, "
    "venue_transfer_id, created_ts_ms, updated_ts_ms"
)


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A journaled transfer: its request and what is known of its outcome so far."""

    request: TransferRequest
    state: TransferState
    created_ts_ms: int
    updated_ts_ms: int
    venue_transfer_id: str | None = None


def _transfer_record(row: Sequence[Any]) -> TransferRecord:
    tid, venue, kind, currency, amount, destination, network, state, vtid, created, updated = row
    request = TransferRequest(
        TransferId(tid),
        VenueId(venue),
        TransferKind(kind),
        Currency(currency),
        amount,
        destination,
        network,
    )
    return TransferRecord(request, TransferState(state), created, updated, vtid)


class TransferJournal:
    """The transfer methods of :class:`bot.journal.Journal`."""

    _conn: sqlite3.Connection

    @abstractmethod
    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One committed transaction; :class:`bot.journal.Journal` provides it."""

    def record_transfer(
        self, request: TransferRequest, ts_ms: int, decision_id: str | None = None
    ) -> TransferRecord:
        """Journal a transfer as PENDING before it is sent; a known id is refused."""
        with self._tx() as db:
            if exists(db, "transfers", "transfer_id", request.transfer_id):
                raise JournalError(f"transfer {request.transfer_id} is already journaled")
            row = {
                **row_fields(request),
                "decision_id": decision_id,
                "state": TransferState.PENDING,
                "created_ts_ms": ts_ms,
                "updated_ts_ms": ts_ms,
            }
            insert(db, "transfers", row)
            history = {"transfer_id": request.transfer_id, "to_state": TransferState.PENDING}
            insert(db, "transfer_states", {**history, "ts_ms": ts_ms})
        return self.transfer(request.transfer_id)

    def transfer(self, transfer_id: TransferId) -> TransferRecord:
        row = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE transfer_id = ?", (transfer_id,)
        ).fetchone()
        if row is None:
            raise JournalError(f"transfer {transfer_id} is not in the journal")
        return _transfer_record(row)

    def mark_transfer(
        self,
        transfer_id: TransferId,
        new_state: TransferState,
        ts_ms: int,
        report: TransferReport | None = None,
    ) -> TransferRecord:
        """Move a transfer on; a finished one (completed, failed, canceled) never changes."""
        with self._tx() as db:
            current = self.transfer(transfer_id)
            finished = current.state not in _OPEN_TRANSFER_STATES
            if finished and new_state is not current.state:
                raise JournalError(
                    f"transfer {transfer_id} is {current.state.value}: cannot become "
                    f"{new_state.value}"
                )
            db.execute(
                "UPDATE transfers SET state = ?, updated_ts_ms = ?, "
                "venue_transfer_id = COALESCE(?, venue_transfer_id), fee = COALESCE(?, fee) "
                "WHERE transfer_id = ?",
                (
                    new_state,
                    ts_ms,
                    report.venue_transfer_id if report else None,
                    report.fee if report else None,
                    transfer_id,
                ),
            )
            if new_state is not current.state:
                history = {"transfer_id": transfer_id, "from_state": current.state}
                insert(db, "transfer_states", {**history, "to_state": new_state, "ts_ms": ts_ms})
        return self.transfer(transfer_id)

    def transfers_since(self, since_ms: int) -> tuple[TransferRecord, ...]:
        """Every transfer journaled at or after ``since_ms``, whatever became of it."""
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE created_ts_ms >= ? "
            "ORDER BY created_ts_ms, transfer_id",
            (since_ms,),
        ).fetchall()
        return tuple(_transfer_record(r) for r in rows)

    def open_transfers(self) -> tuple[TransferRecord, ...]:
        """Transfers not yet completed, failed or canceled, oldest first."""
        marks = ", ".join("?" * len(_OPEN_TRANSFER_STATES))
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE state IN ({marks}) "
            "ORDER BY created_ts_ms, transfer_id",
            tuple(_OPEN_TRANSFER_STATES),
        ).fetchall()
        return tuple(_transfer_record(r) for r in rows)
