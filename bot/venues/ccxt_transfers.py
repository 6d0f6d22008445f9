"""Collateral movements of one ccxt account: sub-account transfers, withdrawals, deposits.

Money movements are writes like orders: sent once, Rejected only when the
venue refused, Ambiguous when the answer is lost or unreadable. The
venue's own id comes back in the report beside our idempotency id.

Where the venue takes a client-chosen id (see each normaliser's
``transfer_id_params``) our ``transfer_id`` goes out with the request, so a
duplicated request cannot move the money twice and a lost answer can be
matched later by the id the venue echoes. A venue refusing an id it already
has is Ambiguous: the first request may have gone through.
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
        self,
        request: TransferRequest,
        kind: TransferKind,
        call: Callable[[dict[str, Any]], Awaitable[Any]],
    ) -> TransferOutcome:
        """Send once with the id params; ``call`` gets the ccxt params to pass."""
        if request.venue != self._venue:
            return Rejected(f"transfer for venue {request.venue} sent to {self._venue}")
        if request.kind is not kind:
            return Rejected(f"transfer {request.transfer_id} is a {request.kind.value}")
        try:
            params = self._norm.transfer_params(request)
            wire_id = self._norm.wire_transfer_id(kind, request.transfer_id)
        except ValueError as exc:
            return Rejected(f"not sent: {exc}")
        no_write_retries(self._client)
        try:
            answer = await call(params)
        except Exception as exc:
            if self._norm.duplicate_transfer(exc):
                return Ambiguous(
                    f"the venue already has transfer id {wire_id}: look it up, never resend "
                    f"({describe(exc)})"
                )
            return write_outcome(exc)
        try:
            payload = dict(mapping(answer, "transfer"))
            for key, sent in (("amount", request.amount), ("currency", request.currency)):
                if payload.get(key) is None:  # a bare acknowledgement (Binance, Bybit: an id)
                    payload[key] = sent
            report = self._norm.transfer_report(kind, payload, self._clock_ms())
            echo = self._norm.echoed_transfer_id(kind, payload)
        except Exception as exc:
            return Ambiguous(f"sent, answer unreadable: {describe(exc)}")
        if echo is not None and echo != wire_id:
            return Ambiguous(f"answer names transfer id {echo}, sent {wire_id}")
        return replace(report, transfer_id=request.transfer_id)

    async def transfer_to_subaccount(self, request: TransferRequest) -> TransferOutcome:
        return await self._send(
            request,
            TransferKind.SUBACCOUNT,
            lambda params: self._client.transfer(
                request.currency, request.amount, self._account, request.destination, params
            ),
        )

    async def withdraw(self, request: TransferRequest) -> TransferOutcome:
        network = {"network": request.network} if request.network else {}
        return await self._send(
            request,
            TransferKind.WITHDRAWAL,
            lambda params: self._client.withdraw(
                request.currency, request.amount, request.destination, params=network | params
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
        """Deposits or withdrawals of ``currency`` since ``since_ms``, as the venue reports them.

        A withdrawal carries our ``transfer_id`` where the venue echoes the id we sent.
        """
        method = getattr(self._client, _HISTORY[kind])
        answer = await self._read(lambda: method(currency, since_ms))
        now = self._clock_ms()
        return tuple(
            self._norm.transfer_report(kind, mapping(tx, kind.value), now) for tx in answer
        )
