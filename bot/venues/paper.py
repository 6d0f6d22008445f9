"""Paper trading: real public market data, fills simulated locally, a local book.

Nothing here ever holds credentials: the market data source is any object
with the three public reads below (in practice a :class:`CcxtVenue` built
without keys). Orders fill in full at the touch (the ask for a buy, the bid
for a sell) if the limit allows, else not at all: the venue's published depth
is not modelled, so paper results flatter large orders. GTC orders are
refused because nothing would ever work them.

Fees are ``taker_fee_rate`` times the notional in the settlement currency.
Equity per settlement currency is the starting cash minus fees plus every
position's value at mark minus its cost basis, which realises P&L as
positions close. Initial and maintenance margin are the configured margin
model's (``margin``: the ``[margin]`` model of this venue, standard or
portfolio, applied per settlement currency to the paper positions at the read's
marks, :func:`bot.domain.margin.account.settlement_margin`), so status, the
margin job and the dashboard show what the real account would need; without
one they are 0. Available is equity less initial margin, as venues report it.

Shadow paper: ``starting_positions`` (``[[paper.book]]``) is the options book a
trader holds for real, taken on at the first read's marks (cost basis = value
at mark, so equity starts at the cash); from then on it is marked from the
public data and hedged locally like any paper position. Every change (a fill,
the book taken on) is handed to ``on_change``, which the daemon journals; a
restart passes the saved :class:`PaperBook` as ``restored`` and the venue
holds it again instead of the declared book.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.freshness import VenueClock
from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument
from bot.domain.margin.account import CurrencyMargin
from bot.domain.orders import (
    Accepted,
    DepositAddress,
    Fill,
    OrderReport,
    OrderRequest,
    OrderState,
    Rejected,
    SendOutcome,
    Side,
    TimeInForce,
    TransferKind,
    TransferOutcome,
    TransferReport,
    TransferRequest,
    TransferState,
)
from bot.domain.paper_book import PaperBook
from bot.domain.pnl import FundingPayment
from bot.domain.snapshot import Balance, Mark, Position, VenueSnapshot
from bot.venues.errors import describe
from bot.venues.normalise.base import off_grid

MarginOf = Callable[[VenueSnapshot], Mapping[Currency, CurrencyMargin]]
"""The margin model of a paper account: IM and MM per settlement currency of a read."""


class MarketData(Protocol):
    """The public reads paper trading needs; :class:`CcxtVenue` without keys has them."""

    async def load_instruments(self, reload: bool = False) -> Mapping[Symbol, Instrument]: ...

    async def fetch_marks(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Mark]: ...

    async def fetch_option_chain(self, underlying: Currency) -> Mapping[Symbol, Mark]: ...

    async def read_clock(self) -> VenueClock: ...

    async def fetch_delivery_prices(self, underlying: Currency) -> Mapping[str, float]: ...

    async def close(self) -> None: ...


def value_in_settle(instrument: Instrument, amount: float, price: float) -> float:
    """Value of ``amount`` at ``price`` in the settlement currency, up to a constant.

    Coin-counted: amount × price. USD-counted (inverse): −amount / price, whose
    change is the inverse contract's coin P&L, amount × (1/entry − 1/exit):
    short 30,000 USD from 60,000 to 50,000 gains 30,000 × (1/50,000 − 1/60,000)
    = 0.1 BTC.
    """
    if instrument.amount_unit is AmountUnit.USD:
        return -amount / price
    return amount * price


@dataclass
class _Holding:
    instrument: Instrument
    size: float = 0.0
    basis: float = 0.0
    """Sum of ``value_in_settle`` of every signed fill: what the position cost."""


class PaperVenue:
    """A :class:`~bot.venues.base.Venue` that trades against real quotes without a venue."""

    def __init__(
        self,
        venue: VenueId,
        market_data: MarketData,
        *,
        starting_cash: Mapping[Currency, float],
        clock_ms: Callable[[], int],
        account: str = "main",
        taker_fee_rate: float = 0.0005,
        starting_positions: Mapping[Symbol, float] | None = None,
        restored: PaperBook | None = None,
        on_change: Callable[[PaperBook], None] | None = None,
        margin: MarginOf | None = None,
    ) -> None:
        if not (math.isfinite(taker_fee_rate) and 0 <= taker_fee_rate < 0.1):
            raise ValueError(f"taker_fee_rate must be in [0, 0.1), got {taker_fee_rate}")
        for currency, amount in starting_cash.items():
            if not (math.isfinite(amount) and amount >= 0):
                raise ValueError(f"starting cash {currency} must be >= 0, got {amount}")
        self._venue = venue
        self._data = market_data
        self._clock_ms = clock_ms
        self._account = account
        self._fee_rate = taker_fee_rate
        self._cash: dict[Currency, float] = dict(starting_cash)
        self._book: dict[Symbol, _Holding] = {}
        self._orders: dict[ClientOrderId, OrderReport] = {}
        self._fills: list[Fill] = []
        self._transfers: list[TransferReport] = []
        self._ids = itertools.count(1)
        self._declared: dict[Symbol, float] = dict(starting_positions or {})
        """The declared book (shadow paper), taken on at the first read's marks."""
        self._restored: dict[Symbol, tuple[float, float]] = {}
        """Positions saved by an earlier run, held again once the instruments are loaded."""
        if restored is not None:  # the declared book was taken on by that earlier run
            self._cash = dict(restored.cash)
            self._restored, self._declared = dict(restored.holdings), {}
        self._on_change = on_change
        self._margin = margin

    @property
    def venue_id(self) -> VenueId:
        return self._venue

    @property
    def market_data(self) -> MarketData:
        """The public source quotes come from (it never holds credentials)."""
        return self._data

    async def load_instruments(self, reload: bool = False) -> Mapping[Symbol, Instrument]:
        return await self._data.load_instruments(reload)

    async def fetch_marks(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Mark]:
        return await self._data.fetch_marks(symbols)

    async def fetch_option_chain(self, underlying: Currency) -> Mapping[Symbol, Mark]:
        return await self._data.fetch_option_chain(underlying)

    async def fetch_delivery_prices(self, underlying: Currency) -> Mapping[str, float]:
        return await self._data.fetch_delivery_prices(underlying)

    def book(self) -> PaperBook:
        """What this venue holds now: its cash and positions (sizes and cost bases)."""
        return PaperBook(
            dict(self._cash), {s: (h.size, h.basis) for s, h in self._book.items() if h.size}
        )

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.book())

    async def _take_on_declared(self) -> None:
        """Hold the declared positions from now on, as if bought at the current mark, so
        equity starts at the cash and P&L counts from the first read (shadow paper mode);
        or hold again what an earlier run saved."""
        if self._restored:
            listed = await self._data.load_instruments()
            for symbol, (size, basis) in self._restored.items():
                if symbol in listed:  # an expired option is gone from the listing
                    self._book[symbol] = _Holding(listed[symbol], size, basis)
            self._restored = {}
        if not self._declared:
            return
        listed = await self._data.load_instruments()
        unlisted = sorted(s for s in self._declared if s not in listed)
        if unlisted:
            raise ValueError(
                f"[[paper.book]] of venue {self._venue}: not listed there: {', '.join(unlisted)}"
            )
        marks = await self._data.fetch_marks(list(self._declared))
        for symbol, size in self._declared.items():
            instrument = listed[symbol]
            self._book[symbol] = _Holding(
                instrument, size, value_in_settle(instrument, size, marks[symbol].mark_price)
            )
        self._declared = {}
        self._changed()

    async def fetch_positions(self) -> tuple[Position, ...]:
        await self._take_on_declared()
        return tuple(Position(h.instrument, h.size) for h in self._book.values() if h.size != 0)

    def _margin_of(
        self, marks: Mapping[Symbol, Mark], ts_ms: int
    ) -> Mapping[Currency, CurrencyMargin]:
        """The model's requirement of the held positions at ``marks`` (none without a model)."""
        held = {s: h for s, h in self._book.items() if h.size != 0}
        if self._margin is None or not held:
            return {}
        positions = tuple(Position(h.instrument, h.size) for h in held.values())
        instruments = {s: h.instrument for s, h in held.items()}
        read = VenueSnapshot(self._venue, ts_ms, instruments, positions, (), marks)
        return self._margin(read)

    def _balances(self, marks: Mapping[Symbol, Mark], ts_ms: int) -> tuple[Balance, ...]:
        equity = dict(self._cash)
        for symbol, h in self._book.items():
            if h.size == 0 and h.basis == 0:
                continue
            price = marks[symbol].mark_price if h.size != 0 else 1.0
            pnl = value_in_settle(h.instrument, h.size, price) - h.basis
            equity[h.instrument.settle] = equity.get(h.instrument.settle, 0.0) + pnl
        margin = self._margin_of(marks, ts_ms)
        for ccy in margin:
            equity.setdefault(ccy, 0.0)
        none = CurrencyMargin(0.0, 0.0)
        return tuple(
            Balance(
                ccy,
                eq,
                eq - margin.get(ccy, none).initial,
                margin.get(ccy, none).initial,
                margin.get(ccy, none).maintenance,
                self._account,
            )
            for ccy, eq in sorted(equity.items())
        )

    async def fetch_balances(self) -> tuple[Balance, ...]:
        await self._take_on_declared()
        held = [s for s, h in self._book.items() if h.size != 0]
        return self._balances(await self._data.fetch_marks(held) if held else {}, self._clock_ms())

    async def snapshot(self, watch: Iterable[Symbol] = ()) -> VenueSnapshot:
        ts = self._clock_ms()
        instruments = await self._data.load_instruments()
        positions = await self.fetch_positions()
        listed = (s for s in watch if s in instruments)  # an unlisted route is the plan's problem
        wanted = list(dict.fromkeys([*(p.instrument.symbol for p in positions), *listed]))
        clock = await self._data.read_clock()  # first: it stamps marks that carry no time
        marks = await self._data.fetch_marks(wanted) if wanted else {}
        return VenueSnapshot(
            self._venue, ts, instruments, positions, self._balances(marks, ts), marks, clock=clock
        )

    # --- orders ----------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> SendOutcome:
        if request.venue != self._venue:
            return Rejected(f"order for venue {request.venue} sent to {self._venue}")
        if request.client_id in self._orders:
            return Rejected(f"client id {request.client_id} already used")
        if request.tif is TimeInForce.GTC:
            return Rejected("the paper venue fills IOC and FOK orders only")
        try:
            await self._take_on_declared()
        except Exception as exc:  # no book to add the fill to: nothing filled
            return Rejected(f"paper book not taken on, nothing filled: {describe(exc)}")
        try:
            instrument = (await self._data.load_instruments())[request.symbol]
        except KeyError:
            return Rejected(f"unknown instrument {request.symbol}")
        except Exception as exc:
            return Rejected(f"no instruments, nothing filled: {describe(exc)}")
        problem = off_grid(request, instrument)
        if problem is not None:
            return Rejected(problem)
        try:
            mark = (await self._data.fetch_marks([request.symbol]))[request.symbol]
        except Exception as exc:  # no quote read: nothing was filled
            return Rejected(f"no quote, nothing filled: {describe(exc)}")
        buy = request.side is Side.BUY
        touch = mark.ask if buy else mark.bid
        if touch is None:
            return Rejected(f"no {'ask' if buy else 'bid'} quote on {request.symbol}")
        limit = request.limit_price
        crosses = limit is None or (touch <= limit if buy else touch >= limit)
        return Accepted(*self._execute(request, instrument, touch if crosses else None))

    def _execute(
        self, request: OrderRequest, instrument: Instrument, price: float | None
    ) -> tuple[OrderReport, tuple[Fill, ...]]:
        now = self._clock_ms()
        order_id = f"paper-{next(self._ids)}"
        if price is None:
            report = OrderReport(
                request.client_id, order_id, request.symbol, OrderState.CANCELED, 0.0, None, now
            )
            self._orders[request.client_id] = report
            return report, ()
        signed = request.side.sign * request.amount
        notional = abs(value_in_settle(instrument, request.amount, price))
        fee = self._fee_rate * notional
        fill = Fill(
            f"{order_id}-1",
            request.client_id,
            order_id,
            request.symbol,
            request.side,
            request.amount,
            price,
            fee,
            instrument.settle,
            now,
        )
        holding = self._book.setdefault(request.symbol, _Holding(instrument))
        holding.size += signed
        holding.basis += value_in_settle(instrument, signed, price)
        self._cash[instrument.settle] = self._cash.get(instrument.settle, 0.0) - fee
        report = OrderReport(
            request.client_id,
            order_id,
            request.symbol,
            OrderState.FILLED,
            request.amount,
            price,
            now,
        )
        self._orders[request.client_id] = report
        self._fills.append(fill)
        self._changed()
        return report, (fill,)

    async def cancel_order(self, venue_order_id: str, symbol: Symbol) -> SendOutcome:
        return Rejected(f"no open order {venue_order_id}: paper orders never rest")

    async def find_order(self, client_id: ClientOrderId, symbol: Symbol) -> OrderReport | None:
        report = self._orders.get(client_id)
        return report if report is not None and report.symbol == symbol else None

    async def fetch_fills(self, since_ms: int, symbols: Sequence[Symbol]) -> tuple[Fill, ...]:
        wanted = set(symbols)
        return tuple(f for f in self._fills if f.ts_ms >= since_ms and f.symbol in wanted)

    async def fetch_funding(self, since_ms: int) -> tuple[FundingPayment, ...]:
        """None: paper positions pay no funding."""
        return ()

    # --- collateral: money leaves the paper account, nothing arrives -----------------

    def _move_out(self, request: TransferRequest, kind: TransferKind) -> TransferOutcome:
        if request.venue != self._venue or request.kind is not kind:
            return Rejected(f"{request.kind.value} {request.transfer_id} is not for this call")
        cash = self._cash.get(request.currency, 0.0)
        if request.amount > cash:
            return Rejected(f"paper {request.currency} cash {cash} < {request.amount}")
        self._cash[request.currency] = cash - request.amount
        report = TransferReport(
            request.transfer_id,
            f"paper-transfer-{next(self._ids)}",
            kind,
            TransferState.COMPLETED,
            request.currency,
            request.amount,
            0.0,
            self._clock_ms(),
        )
        self._transfers.append(report)
        return report

    async def transfer_to_subaccount(self, request: TransferRequest) -> TransferOutcome:
        return self._move_out(request, TransferKind.SUBACCOUNT)

    async def withdraw(self, request: TransferRequest) -> TransferOutcome:
        return self._move_out(request, TransferKind.WITHDRAWAL)

    async def deposit_address(self, currency: Currency) -> DepositAddress:
        return DepositAddress(currency, f"paper:{self._venue}:{currency}")

    async def deposit_status(self, currency: Currency, since_ms: int) -> tuple[TransferReport, ...]:
        return ()

    async def withdrawal_status(
        self, currency: Currency, since_ms: int
    ) -> tuple[TransferReport, ...]:
        return tuple(
            t
            for t in self._transfers
            if t.kind is TransferKind.WITHDRAWAL and t.currency == currency and t.ts_ms >= since_ms
        )

    async def close(self) -> None:
        await self._data.close()
