"""The :class:`~bot.venues.base.Venue` protocol over ``ccxt.async_support``.

ccxt does the HTTP, signing and error-code mapping; the exchange's normaliser
turns its answers into domain values; :mod:`bot.venues.errors` decides what a
failure means. Every HTTP request ccxt makes passes through this venue's
token bucket (ccxt's ``throttle`` hook, with ccxt's own per-endpoint cost),
so a ccxt method that needs three requests pays for three; the same hook
turns off aiohttp's silent resend of GET requests (see
:func:`~bot.venues.errors.no_resent_requests`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import replace
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar

from bot.domain.freshness import VenueClock
from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import Instrument
from bot.domain.orders import (
    Accepted,
    Ambiguous,
    DepositAddress,
    Fill,
    OrderReport,
    OrderRequest,
    OrderState,
    Rejected,
    SendOutcome,
    TimeInForce,
    TransferKind,
    TransferOutcome,
    TransferReport,
    TransferRequest,
    report_from_fills,
)
from bot.domain.pnl import FundingPayment
from bot.domain.snapshot import Balance, Mark, Position, VenueSnapshot
from bot.venues.ccxt_transfers import CcxtTransfers
from bot.venues.errors import (
    RetryPolicy,
    Sleep,
    TokenBucket,
    classify,
    describe,
    no_resent_requests,
    no_write_retries,
    retry_read,
    write_outcome,
)
from bot.venues.normalise import MalformedResponseError, MarkBatch, Normaliser, VenueMarket
from bot.venues.normalise.common import mapping, text

T = TypeVar("T")

_ORDER_REQUEST: ContextVar[bool] = ContextVar("deltabot_order_request", default=False)
"""Set while an order request is on its way, so ccxt's throttle hook knows what it pays for."""
_SHOWN = 5
"""How many offending symbols an error message lists."""


def _listed(symbols: Iterable[str]) -> str:
    items = sorted(symbols)
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


class CcxtVenue:
    """One exchange account through one ccxt client.

    ``clock_ms`` stamps snapshots and answers without a venue time;
    ``account`` is the sub-account name that balances are reported under and
    transfers leave from; ``subaccounts`` (label -> the exchange's identifier)
    and ``subaccount_wallet`` (account type) fill sub-account transfer requests.
    """

    def __init__(
        self,
        venue: VenueId,
        client: Any,
        normaliser: Normaliser,
        *,
        account: str,
        budget: TokenBucket,
        order_budget: TokenBucket | None = None,
        clock_ms: Callable[[], int],
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        subaccounts: Mapping[str, str] | None = None,
        subaccount_wallet: str | None = None,
        on_rate_limited: Callable[[VenueId, str], None] | None = None,
    ) -> None:
        if getattr(client, "id", None) != normaliser.exchange:
            raise ValueError(
                f"venue {venue}: ccxt client is {getattr(client, 'id', None)!r} but the "
                f"normaliser is for {normaliser.exchange!r}"
            )
        self._venue = venue
        self._client = client
        self._norm = normaliser
        self._account = account
        self._budget = budget
        self._order_budget = order_budget or budget
        self._clock_ms = clock_ms
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._on_rate_limited = on_rate_limited
        self._markets: dict[Symbol, VenueMarket] = {}
        self._unreadable: dict[str, str] = {}
        self._skew_ms = 0
        """The venue's clock minus ours at the last :meth:`read_clock` (0 before one)."""
        self._transfers = CcxtTransfers(
            venue,
            client,
            normaliser,
            account=account,
            clock_ms=clock_ms,
            read=self._read,
            subaccounts=subaccounts,
            subaccount_wallet=subaccount_wallet,
        )
        no_write_retries(client)
        client.enableRateLimit = True
        client.throttle = self._throttle

    @property
    def venue_id(self) -> VenueId:
        return self._venue

    @property
    def budget(self) -> TokenBucket:
        """This venue's request budget (its fill level is worth a metric)."""
        return self._budget

    @property
    def order_budget(self) -> TokenBucket:
        """The budget order requests pay (the read budget where the venue keeps no other)."""
        return self._order_budget

    @property
    def normaliser(self) -> Normaliser:
        return self._norm

    @property
    def markets(self) -> Mapping[Symbol, VenueMarket]:
        """Loaded markets with their wire facts (empty before the first load)."""
        return MappingProxyType(self._markets)

    @property
    def client(self) -> Any:
        """The ccxt client (for the factory's checks and tests; not for trading)."""
        return self._client

    async def _throttle(self, cost: float | None = None) -> None:
        """ccxt calls this before every HTTP request: pay the budget, then guard the session.

        An order request pays the venue's order budget when it keeps one apart (one token
        a request): a burst of reads never delays a hedge, nor do orders starve reads.
        """
        if _ORDER_REQUEST.get() and self._order_budget is not self._budget:
            await self._order_budget.acquire(1.0)
        else:
            await self._budget.acquire(min(float(cost or 1.0), self._budget.capacity))
        no_resent_requests(self._client)

    def _slowed(self, budget: TokenBucket, exc: BaseException) -> None:
        """The venue said we were too fast (10028, HTTP 429): empty ``budget`` and tell the
        daemon (an alert), which must never fail the request's caller."""
        budget.drain()
        if self._on_rate_limited is not None:
            self._on_rate_limited(self._venue, describe(exc))

    async def _read(self, call: Callable[[], Awaitable[T]]) -> T:
        return await retry_read(
            call, self._retry, self._sleep, lambda exc: self._slowed(self._budget, exc)
        )

    async def _write(self, call: Callable[[], Awaitable[T]]) -> T:
        """One order request, never retried: on the order budget, which a rate-limit answer
        empties so the next order waits for the credits to refill."""
        no_write_retries(self._client)
        token = _ORDER_REQUEST.set(True)
        try:
            return await call()
        except Exception as exc:
            if classify(exc).backoff:
                self._slowed(self._order_budget, exc)
            raise
        finally:
            _ORDER_REQUEST.reset(token)

    # --- instruments -----------------------------------------------------------------

    async def load_instruments(self, reload: bool = False) -> Mapping[Symbol, Instrument]:
        """Derivatives the venue lists. A listing that cannot be read is set aside with
        its reason (one odd listing must not stop hedging); using it raises that reason."""
        if reload or not self._markets:
            await self._read(lambda: self._client.load_markets(reload))
            markets: dict[Symbol, VenueMarket] = {}
            unreadable: dict[str, str] = {}
            for key, raw in mapping(self._client.markets, f"{self._venue} markets").items():
                try:
                    vm = self._norm.venue_market(self._venue, mapping(raw, f"{self._venue} market"))
                except ValueError as exc:  # MalformedResponseError or an Instrument invariant
                    unreadable[str(key)] = str(exc)
                    continue
                if vm is not None:
                    markets[vm.symbol] = vm
            if not markets:
                raise MalformedResponseError(
                    f"{self._venue}: no readable derivatives ({len(unreadable)} unreadable)"
                )
            self._markets, self._unreadable = markets, unreadable
        return {s: vm.instrument for s, vm in self._markets.items()}

    @property
    def unreadable(self) -> Mapping[str, str]:
        """Listings set aside at the last load, with the reason (worth a warning)."""
        return MappingProxyType(self._unreadable)

    async def _market(self, symbol: str) -> VenueMarket:
        """The market of ``symbol``, reloading once for instruments listed since the last load."""
        if not self._markets:
            await self.load_instruments()
        vm = self._markets.get(Symbol(symbol))
        if vm is None:
            await self.load_instruments(reload=True)
            vm = self._markets.get(Symbol(symbol))
        if vm is None:
            reason = self._unreadable.get(symbol)
            if reason is not None:
                raise MalformedResponseError(f"{self._venue}: {symbol} is unreadable: {reason}")
            raise MalformedResponseError(f"{self._venue}: unknown instrument {symbol!r}")
        return vm

    # --- account reads ---------------------------------------------------------------

    async def fetch_positions(self) -> tuple[Position, ...]:
        payloads = await self._read(lambda: self._norm.fetch_position_payloads(self._client))
        out = []
        for payload in payloads:
            vm = await self._market(text(payload, "symbol", f"{self._venue} position"))
            position = self._norm.position(vm, payload)
            if position.size != 0:
                out.append(position)
        return tuple(out)

    async def fetch_balances(self) -> tuple[Balance, ...]:
        balances = await self._read(lambda: self._norm.fetch_balances(self._client, self._account))
        return tuple(balances)

    async def _marks(
        self, symbols: Iterable[Symbol], require_all: bool, held_options: int | None = None
    ) -> MarkBatch:
        """Marks of ``symbols``; ``held_options`` given: a snapshot's, that many of them
        held options (:meth:`Normaliser.fetch_snapshot_marks`)."""
        wanted = [await self._market(s) for s in dict.fromkeys(symbols)]
        if not wanted:
            return MarkBatch({}, {}, {})
        # A quote without a time of its own is stamped on the venue's clock as last
        # measured, so that the skew correction brings it back to the read time.
        now = self._clock_ms() + self._skew_ms
        norm, client = self._norm, self._client
        batch = await self._read(
            lambda: (
                norm.fetch_marks(client, wanted, now)
                if held_options is None
                else norm.fetch_snapshot_marks(client, wanted, held_options, now)
            )
        )
        missing = {vm.symbol for vm in wanted} - set(batch.marks)
        if require_all and missing:
            raise MalformedResponseError(f"{self._venue}: no mark for {_listed(missing)}")
        return batch

    async def fetch_marks(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Mark]:
        return (await self._marks(symbols, require_all=True)).marks

    async def read_clock(self) -> VenueClock:
        """The venue's clock (ccxt ``fetch_time``) between two readings of ours.

        Its stamps on marks and indexes are on that clock; the skew converts them
        to ours (see :mod:`bot.domain.freshness`). Marks read afterwards that
        carry no time of their own are stamped with it.
        """
        sent_ms = self._clock_ms()
        venue_ms = await self._read(self._client.fetch_time)
        received_ms = self._clock_ms()
        if isinstance(venue_ms, bool) or not isinstance(venue_ms, int) or venue_ms <= 0:
            raise MalformedResponseError(f"{self._venue}: server time {venue_ms!r} is not epoch ms")
        clock = VenueClock(venue_ms, sent_ms, received_ms)
        self._skew_ms = clock.skew_ms
        return clock

    async def fetch_option_chain(self, underlying: Currency) -> Mapping[Symbol, Mark]:
        await self.load_instruments()
        now = self._clock_ms()
        options = [
            s
            for s, vm in self._markets.items()
            if vm.instrument.is_option
            and vm.instrument.underlying == underlying
            and (vm.instrument.expiry_ms or 0) > now
        ]
        return (await self._marks(options, require_all=False)).marks

    async def snapshot(self, watch: Iterable[Symbol] = ()) -> VenueSnapshot:
        ts = self._clock_ms()
        instruments = await self.load_instruments()
        positions, balances, clock = await asyncio.gather(
            self.fetch_positions(), self.fetch_balances(), self.read_clock()
        )
        # A watched symbol the venue does not list is the route's problem (the plan says
        # route_unusable for it alone), never a reason to fail the whole read.
        listed = [s for s in watch if s in instruments]
        batch = await self._marks(
            [p.instrument.symbol for p in positions] + listed,
            require_all=True,
            held_options=sum(1 for p in positions if p.instrument.is_option),
        )
        marks = dict(batch.marks)
        await self._add_venue_deltas(positions, marks)
        return VenueSnapshot(
            venue=self._venue,
            ts_ms=ts,
            instruments=instruments,
            positions=positions,
            balances=balances,
            marks=marks,
            index_usd=batch.index_usd,
            index_ts_ms=batch.index_ts_ms,
            clock=clock,
        )

    async def _add_venue_deltas(
        self, positions: Sequence[Position], marks: dict[Symbol, Mark]
    ) -> None:
        """Fill ``venue_delta`` of held options whose marks came without one.

        The engine cross-checks its delta against the venue's for held options
        only, so venues whose bulk marks lack Greeks (Deribit) pay for these
        alone, not for the whole chain. The mark is then as old as the older
        of its two payloads.
        """
        lacking = [
            await self._market(p.instrument.symbol)
            for p in positions
            if p.instrument.is_option and marks[p.instrument.symbol].venue_delta is None
        ]
        if not lacking:
            return
        deltas = await self._read(lambda: self._norm.fetch_venue_deltas(self._client, lacking))
        for symbol, delta in deltas.items():
            mark = marks[symbol]
            ts_ms = min(mark.ts_ms, delta.ts_ms)
            marks[symbol] = replace(mark, venue_delta=delta.delta, ts_ms=ts_ms)

    # --- orders ----------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> SendOutcome:
        if request.venue != self._venue:
            return Rejected(f"order for venue {request.venue} sent to {self._venue}")
        try:
            vm = await self._market(request.symbol)
            args = self._norm.order_args(request, vm)
        except Exception as exc:  # nothing was sent
            return Rejected(f"not sent: {describe(exc)}")
        try:
            order = await self._write(
                lambda: self._client.create_order(
                    args.symbol, args.type, args.side, args.amount, args.price, dict(args.params)
                )
            )
        except Exception as exc:
            if self._norm.duplicate_order(exc):
                return Ambiguous(
                    f"the venue already has client id {request.client_id}: look it up, never "
                    f"resend ({describe(exc)})"
                )
            if self._norm.refused_unprocessed(exc):
                return Rejected(f"refused before matching, send again later: {describe(exc)}")
            return write_outcome(exc)
        return await self._accepted(request, vm, order)

    async def _accepted(self, request: OrderRequest, vm: VenueMarket, order: Any) -> SendOutcome:
        """Outcome of an answered send; an unreadable answer is Ambiguous, not Rejected."""
        try:
            payload = mapping(order, f"{self._venue} order")
            report = self._norm.order_report(vm, payload, self._clock_ms())
            fills = tuple(
                self._norm.fill(vm, mapping(t, "trade")) for t in payload.get("trades") or ()
            )
        except Exception as exc:
            return Ambiguous(f"sent, answer unreadable: {describe(exc)}")
        if report.client_id not in (None, request.client_id):
            return Ambiguous(f"answer names client id {report.client_id}, sent {request.client_id}")
        if report.client_id is None:
            report = replace(report, client_id=request.client_id)
        if report.state is OrderState.REJECTED:
            return Rejected(f"venue reports order {report.venue_order_id} rejected")
        bare_ack = payload.get("status") is None
        if bare_ack and request.tif is not TimeInForce.GTC:
            report = await self._settled(report, vm)
        if not fills and report.filled_amount > 0 and not self._norm.fills_in_order_answer:
            fills = await self._order_fills(report, vm)
        return Accepted(report, fills)

    async def _order_fills(self, report: OrderReport, vm: VenueMarket) -> tuple[Fill, ...]:
        """The trades of a filled order whose answer carries none (Binance futures), read by
        order id; none on error (the reconciler and the fills job read them later)."""
        try:
            trades = await self._read(
                lambda: self._client.fetch_my_trades(
                    vm.symbol, None, None, {"orderId": report.venue_order_id}
                )
            )
            fills = (self._norm.fill(vm, mapping(t, "trade")) for t in trades or ())
            return tuple(
                f if f.client_id else replace(f, client_id=report.client_id) for f in fills
            )
        except Exception:
            return ()

    async def _settled(self, report: OrderReport, vm: VenueMarket) -> OrderReport:
        """Follow a bare acknowledgement (OKX, Bybit) with one order read; keep the ack on error."""
        try:
            order = await self._read(
                lambda: self._client.fetch_order(report.venue_order_id, vm.symbol)
            )
            settled = self._norm.order_report(vm, mapping(order, "order"), self._clock_ms())
        except Exception:
            return report
        return settled if settled.client_id else replace(settled, client_id=report.client_id)

    async def cancel_order(self, venue_order_id: str, symbol: Symbol) -> SendOutcome:
        try:
            vm = await self._market(symbol)
        except Exception as exc:
            return Rejected(f"not sent: {describe(exc)}")
        try:
            order = await self._write(lambda: self._client.cancel_order(venue_order_id, vm.symbol))
        except Exception as exc:
            return write_outcome(exc)
        try:
            payload = dict(mapping(order, f"{self._venue} cancel"))
            payload.setdefault("id", venue_order_id)
            if payload.get("status") is None:
                payload["status"] = "canceled"
            return Accepted(self._norm.order_report(vm, payload, self._clock_ms()))
        except Exception as exc:
            return Ambiguous(f"cancel sent, answer unreadable: {describe(exc)}")

    async def find_order(self, client_id: ClientOrderId, symbol: Symbol) -> OrderReport | None:
        """Open orders, then closed orders, then trades carrying the client id.

        Found only in trades, see :func:`~bot.domain.orders.report_from_fills`.
        """
        vm = await self._market(symbol)
        now = self._clock_ms()
        if self._norm.direct_order_lookup:
            order = await self._read(
                lambda: self._norm.order_by_client_id(self._client, vm, client_id)
            )
            return None if order is None else self._norm.order_report(vm, order, now)
        for method in ("fetch_open_orders", "fetch_closed_orders"):
            orders = await self._read(partial(getattr(self._client, method), vm.symbol))
            for order in orders or ():
                payload = mapping(order, f"{self._venue} order")
                if self._norm.client_id_of(payload) == client_id:
                    return self._norm.order_report(vm, payload, now)
        trades = await self._read(lambda: self._client.fetch_my_trades(vm.symbol))
        fills = [
            self._norm.fill(vm, mapping(t, "trade"))
            for t in trades or ()
            if self._norm.client_id_of(mapping(t, "trade")) == client_id
        ]
        return report_from_fills(fills) if fills else None

    async def fetch_fills(self, since_ms: int, symbols: Sequence[Symbol]) -> tuple[Fill, ...]:
        out: list[Fill] = []
        for symbol in dict.fromkeys(symbols):
            vm = await self._market(symbol)
            trades = await self._read(partial(self._client.fetch_my_trades, vm.symbol, since_ms))
            out.extend(self._norm.fill(vm, mapping(t, "trade")) for t in trades or ())
        return tuple(sorted((f for f in out if f.ts_ms >= since_ms), key=lambda f: f.ts_ms))

    async def fetch_funding(self, since_ms: int) -> tuple[FundingPayment, ...]:
        return await self._read(
            lambda: self._norm.fetch_funding(self._client, self.venue_id, since_ms)
        )

    async def fetch_delivery_prices(self, underlying: Currency) -> Mapping[str, float]:
        return await self._read(lambda: self._norm.fetch_delivery_prices(self._client, underlying))

    # --- collateral (see CcxtTransfers) ----------------------------------------------

    async def transfer_to_subaccount(self, request: TransferRequest) -> TransferOutcome:
        return await self._transfers.transfer_to_subaccount(request)

    async def withdraw(self, request: TransferRequest) -> TransferOutcome:
        return await self._transfers.withdraw(request)

    async def deposit_address(self, currency: Currency) -> DepositAddress:
        return await self._transfers.deposit_address(currency)

    async def deposit_status(self, currency: Currency, since_ms: int) -> tuple[TransferReport, ...]:
        return await self._transfers.history(TransferKind.DEPOSIT, currency, since_ms)

    async def withdrawal_status(
        self, currency: Currency, since_ms: int
    ) -> tuple[TransferReport, ...]:
        return await self._transfers.history(TransferKind.WITHDRAWAL, currency, since_ms)

    async def close(self) -> None:
        await self._client.close()
