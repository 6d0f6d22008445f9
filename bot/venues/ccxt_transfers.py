"""Collateral movements of one ccxt account: sub-account transfers, withdrawals, deposits.

Money movements are writes like orders: sent once, Rejected only when the
venue refused, Ambiguous when the answer is lost or unreadable. The
venue's own id comes back in the report beside our idempotency id.

Where the venue takes a client-chosen id (see each normaliser's
``transfer_id_params``) our ``transfer_id`` goes out with the request, so a
duplicated request cannot move the money twice and a lost answer can be
matched later by the id the venue echoes. A venue refusing an id it already
has is Ambiguous: the first request may have gone through.

Sub-account transfers go from this venue's ``account`` to the destination
label. Where ccxt's unified ``transfer`` only moves money between one user's
account types (OKX, Bybit, Binance), the normaliser names the venue's
sub-account endpoint, filled from the configured ``subaccounts`` identifiers
and ``subaccount_wallet``; a label without an identifier is never sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
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
from bot.venues.normalise import Normaliser, SubaccountRoute
from bot.venues.normalise.common import mapping, opt_text, text

Read = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
"""The venue's read wrapper (budget and bounded retries)."""
Prepared = tuple[Callable[[], Awaitable[Any]], Callable[[Any], Any]]
"""The call that sends a transfer, and what turns its answer into a ccxt transfer structure."""

_HISTORY = MappingProxyType(
    {TransferKind.DEPOSIT: "fetch_deposits", TransferKind.WITHDRAWAL: "fetch_withdrawals"}
)


def _unified(answer: Any) -> Any:
    """A unified ccxt method's answer is already a ccxt structure."""
    return answer


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
        subaccounts: Mapping[str, str] | None = None,
        subaccount_wallet: str | None = None,
    ) -> None:
        self._venue, self._client, self._norm = venue, client, normaliser
        self._account, self._clock_ms, self._read = account, clock_ms, read
        self._subaccounts = MappingProxyType(dict(subaccounts or {}))
        self._wallet = subaccount_wallet

    async def _send(
        self,
        request: TransferRequest,
        kind: TransferKind,
        prepare: Callable[[dict[str, Any]], Prepared],
    ) -> TransferOutcome:
        """Send once with the id params.

        ``prepare`` gets the ccxt id params and returns the call to make and the
        reader of its answer; a ValueError from it means the request cannot be
        formed: Rejected, unsent. An answer the reader cannot read is Ambiguous.
        """
        if request.venue != self._venue:
            return Rejected(f"transfer for venue {request.venue} sent to {self._venue}")
        if request.kind is not kind:
            return Rejected(f"transfer {request.transfer_id} is a {request.kind.value}")
        try:
            params = self._norm.transfer_params(request)
            wire_id = self._norm.wire_transfer_id(kind, request.transfer_id)
            call, structure = prepare(params)
        except ValueError as exc:
            return Rejected(f"not sent: {exc}")
        no_write_retries(self._client)
        try:
            answer = await call()
        except Exception as exc:
            if self._norm.duplicate_transfer(exc):
                return Ambiguous(
                    f"the venue already has transfer id {wire_id}: look it up, never resend "
                    f"({describe(exc)})"
                )
            return write_outcome(exc)
        try:
            payload = dict(mapping(structure(answer), "transfer"))
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

    def _subaccount_call(self, request: TransferRequest, params: dict[str, Any]) -> Prepared:
        """The venue's sub-account endpoint, or ccxt's unified transfer where that is one."""
        route = SubaccountRoute(self._account, request.destination, self._subaccounts, self._wallet)
        endpoint = self._norm.subaccount_transfer_call(request, route, params)
        if endpoint is None:
            return (
                lambda: self._client.transfer(
                    request.currency, request.amount, self._account, request.destination, params
                ),
                _unified,
            )
        method = getattr(self._client, endpoint.method)
        return (
            lambda: method(dict(endpoint.params)),
            lambda answer: self._norm.subaccount_transfer_answer(self._client, answer),
        )

    async def transfer_to_subaccount(self, request: TransferRequest) -> TransferOutcome:
        return await self._send(
            request,
            TransferKind.SUBACCOUNT,
            lambda params: self._subaccount_call(request, params),
        )

    async def withdraw(self, request: TransferRequest) -> TransferOutcome:
        network = {"network": request.network} if request.network else {}
        return await self._send(
            request,
            TransferKind.WITHDRAWAL,
            lambda params: (
                lambda: self._client.withdraw(
                    request.currency, request.amount, request.destination, params=network | params
                ),
                _unified,
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
