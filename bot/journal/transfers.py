"""Transfer records: journaled PENDING before they are sent, like orders.

A finished transfer (completed, failed, canceled) never changes state again.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from bot.journal.db import Db
from bot.journal.errors import JournalError
from bot.journal.machine import StateMachine
from bot.journal.schema import row_fields

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


def _legal(transfer_id: str, current: TransferState, new: TransferState) -> None:
    if current not in _OPEN_TRANSFER_STATES and new is not current:
        raise JournalError(f"transfer {transfer_id} is {current.value}: cannot become {new.value}")


class TransferStore:
    """The ``transfers`` and ``transfer_states`` tables."""

    def __init__(self, db: Db) -> None:
        self._machine = StateMachine[TransferRecord, TransferState](
            db,
            noun="transfer",
            table="transfers",
            history="transfer_states",
            key="transfer_id",
            columns=_TRANSFER_COLUMNS,
            read=_transfer_record,
            states=TransferState,
            open_states=_OPEN_TRANSFER_STATES,
            rule=_legal,
        )

    def record(
        self, request: TransferRequest, ts_ms: int, decision_id: str | None = None
    ) -> TransferRecord:
        """Journal a transfer as PENDING before it is sent; a known id is refused."""
        fields = {**row_fields(request), "decision_id": decision_id}
        return self._machine.record(request.transfer_id, fields, TransferState.PENDING, ts_ms)

    def has(self, transfer_id: TransferId) -> bool:
        """Whether ``transfer_id`` was ever journaled (whatever became of it)."""
        return self._machine.has(transfer_id)

    def get(self, transfer_id: TransferId) -> TransferRecord:
        return self._machine.get(transfer_id)

    def mark(
        self,
        transfer_id: TransferId,
        new_state: TransferState,
        ts_ms: int,
        report: TransferReport | None = None,
    ) -> TransferRecord:
        """Move a transfer on; a finished one (completed, failed, canceled) never changes."""
        changes = (
            {"venue_transfer_id": report.venue_transfer_id, "fee": report.fee} if report else {}
        )
        return self._machine.mark(transfer_id, new_state, ts_ms, lambda _current: changes)

    def transitions(
        self, transfer_id: TransferId
    ) -> tuple[tuple[TransferState | None, TransferState, int], ...]:
        """Every recorded ``(from, to, ts_ms)`` of a transfer, oldest first."""
        return self._machine.transitions(transfer_id)

    def since(self, since_ms: int) -> tuple[TransferRecord, ...]:
        """Every transfer journaled at or after ``since_ms``, whatever became of it."""
        return self._machine.where("created_ts_ms >= ?", (since_ms,))

    def open(self) -> tuple[TransferRecord, ...]:
        """Transfers not yet completed, failed or canceled, oldest first."""
        return self._machine.open()
