"""Collateral movements of one ccxt account: sub-account transfers, withdrawals, deposits.

Money movements are writes like orders: sent once, Rejected only when the
venue refused, Ambiguous when the answer is lost or unreadable. The
venue's own id comes back in the report beside our idempotency id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from bot.domain.ids import Currency, VenueId
from bot.domain.orders import (
    Ambiguous,
    DepositAddress,
    Rejected,
    TransferKind,
    TransferOutcome,
    TransferReport,
    TransferRequest,
)
from bot.venues.errors import describe, no_write_retries, write_outcome
from bot.venues.normalise import Normaliser
from bot.venues.normalise.common import mapping, opt_text, text

Read = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
"""The venue's read wrapper (budget and bounded retries)."""

_HISTORY = MappingProxyType(
    {TransferKind.DEPOSIT: "fetch_deposits", TransferKind.WITHDRAWAL: "fetch_withdrawals"}
)


class CcxtTransfers:
    """Transfers of one account (``account`` is the sub-account money leaves from)."""

    def __init__(
        self,
        venue: VenueId,
        client: Any,
        normaliser: Normaliser,
        *,
        account: str,
        clock_ms: Callable[[], int],
        read: Read,
    ) -> None:
        self._venue, self._client, self._norm = venue, client, normaliser
        self._account, self._clock_ms, self._read = account, clock_ms, read

    async def _send(
        self, request: TransferRequest, kind: TransferKind, call: Callable[[], Awaitable[Any]]
    ) -> TransferOutcome:
        if request.venue != self._venue:
            return Rejected(f"transfer for venue {request.venue} sent to {self._venue}")
        if request.kind is not kind:
            return Rejected(f"transfer {request.transfer_id} is a {request.kind.value}")
        no_write_retries(self._client)
        try:
            answer = await call()
        except Exception as exc:
            return write_outcome(exc)
        try:
            report = self._norm.transfer_report(kind, mapping(answer, "transfer"), self._clock_ms())
        except Exception as exc:
            return Ambiguous(f"sent, answer unreadable: {describe(exc)}")
        return replace(report, transfer_id=request.transfer_id)

    async def transfer_to_subaccount(self, request: TransferRequest) -> TransferOutcome:
        return await self._send(
            request,
            TransferKind.SUBACCOUNT,
            lambda: self._client.transfer(
                request.currency, request.amount, self._account, request.destination
            ),
        )

    async def withdraw(self, request: TransferRequest) -> TransferOutcome:
        params = {"network": request.network} if request.network else {}
        return await self._send(
            request,
            TransferKind.WITHDRAWAL,
            lambda: self._client.withdraw(
                request.currency, request.amount, request.destination, params=params
            ),
        )

    async def deposit_address(self, currency: Currency) -> DepositAddress:
        where = f"{self._venue} deposit address {currency}"
        answer = mapping(
            await self._read(lambda: self._client.fetch_deposit_address(currency)), where
        )
        return DepositAddress(
            currency,
            text(answer, "address", where),
            opt_text(answer, "network"),
            opt_text(answer, "tag"),
        )

    async def history(
        self, kind: TransferKind, currency: Currency, since_ms: int
    ) -> tuple[TransferReport, ...]:
        """Deposits or withdrawals of ``currency`` since ``since_ms``, as the venue reports them."""
        method = getattr(self._client, _HISTORY[kind])
        answer = await self._read(lambda: method(currency, since_ms))
        now = self._clock_ms()
        return tuple(
            self._norm.transfer_report(kind, mapping(tx, kind.value), now) for tx in answer
        )
