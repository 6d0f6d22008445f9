"""Deribit: inverse futures count USD, options count coin and are priced in coin.

From the Deribit API v2 documentation (``private/get_positions``): a
BTC-PERPETUAL position has ``size`` in USD and ``size_currency`` in BTC, so
``size`` = -30,000 at a mark of 60,000 is ``size_currency`` = -0.5. Options
have ``size`` in BTC, ``mark_price`` in BTC and ``mark_iv`` in percent
(60.0 means 0.60). ccxt's wire amount is Deribit's own ``amount``, so one ccxt
unit is one domain unit here. The signed size is read from the raw ``size``
and checked against ``size_currency`` (ccxt's ``side`` calls a flat position
short).

Greeks: ``public/get_book_summary_by_currency`` (the bulk marks) has none.
``public/ticker`` has ``greeks.delta``, documented as "the Black Scholes Delta"
of one unit (1 coin) of the option, i.e. not premium-adjusted: Deribit's
``delta_total`` is the "Net Transaction Delta" = Black-Scholes delta - mark
price, which the exposure code derives itself (docs/architecture.md §3). The
``delta`` of ``private/get_positions`` would cost no extra request, but it is
documented only as "Delta parameter" (a position total whose premium
adjustment is not stated), so the per-unit venue delta of a held option comes
from one ``public/ticker`` per held option (never for the whole chain). During
the 30-minute settlement window Deribit decays expiring deltas linearly to 0,
in the API too; the cross-check sees that decay.

Transfers: ``private/submit_transfer_to_subaccount`` (currency, amount,
destination) and ``private/withdraw`` (currency, address, amount, priority)
take no client-chosen id or label, so neither is idempotent at the venue and
Deribit never echoes our transfer id: a lost answer is Ambiguous and only the
history (amount, address, time) can settle it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import InstrumentKind
from bot.domain.orders import TransferKind, TransferReport, TransferState
from bot.domain.snapshot import Balance, Mark
from bot.venues.normalise.base import Normaliser
from bot.venues.normalise.common import (
    MalformedResponseError,
    MarkBatch,
    Payload,
    VenueDelta,
    VenueMarket,
    info,
    mapping,
    ms,
    num,
    opt_num,
    opt_positive,
    positive,
    text,
)

DELIVERY_DAYS = 10
"""Delivery days read per call: the recorder asks after each passed expiry, and ten days
cover a daemon stopped for a week over the daily expiries."""

_WITHDRAWAL_STATES = {
    "unconfirmed": TransferState.PROCESSING,
    "confirmed": TransferState.PROCESSING,  # confirmed by the user, not yet sent
    "pending": TransferState.PROCESSING,
    "completed": TransferState.COMPLETED,
    "replaced": TransferState.CANCELED,
    "cancelled": TransferState.CANCELED,
    "interrupted": TransferState.FAILED,
    "rejected": TransferState.FAILED,
}


class DeribitNormaliser(Normaliser):
    exchange: ClassVar[str] = "deribit"
    implied_vol_orders: ClassVar[bool] = True
    client_id_param: ClassVar[str] = "label"
    raw_client_id_keys: ClassVar[tuple[str, ...]] = ("label",)
    order_rate: ClassVar[tuple[float, float] | None] = (20.0, 5.0)
    fetch_currencies: ClassVar[bool] = True
    """``public/get_currencies`` (public, one call): Deribit holds USDT as collateral, which
    no derivative it lists settles in, so ccxt could not withdraw it knowing the markets only."""
    """Deribit's matching-engine credits (buy, sell, edit, cancel) are a pool apart from the
    other requests': 5 a second with a burst of 20 on the default tier."""

    def position_size(self, vm: VenueMarket, position: Payload) -> float:
        raw = info(position, f"deribit position {vm.symbol}")
        where = f"deribit position {vm.symbol}"
        size = num(raw, "size", where)
        size_coin = opt_num(raw, "size_currency", where)
        if size_coin is not None and size * size_coin < 0:
            raise MalformedResponseError(
                f"{where}: size {size} and size_currency {size_coin} have opposite signs"
            )
        return size

    def balances(self, balance: Payload, account: str) -> list[Balance]:
        raw = info(balance, "deribit balance")
        summaries = raw.get("summaries", [raw])
        if not isinstance(summaries, list):
            raise MalformedResponseError("deribit balance: summaries must be a list")
        out = []
        for i, item in enumerate(summaries):
            where = f"deribit balance summaries[{i}]"
            entry = mapping(item, where)
            out.append(
                Balance(
                    currency=Currency(text(entry, "currency", where)),
                    equity=num(entry, "equity", where),
                    available=num(entry, "available_funds", where),
                    initial_margin=num(entry, "initial_margin", where),
                    maintenance_margin=num(entry, "maintenance_margin", where),
                    account=account,
                    options_value=opt_num(entry, "options_value", where),
                )
            )
        return out

    def mark(self, vm: VenueMarket, summary: Payload) -> Mark:
        """Mark from one ``public/get_book_summary_by_currency`` entry (IV percent → fraction)."""
        return _mark(vm, summary, f"deribit book summary {vm.symbol}", _SUMMARY_KEYS)

    async def fetch_marks(
        self, client: Any, markets: Sequence[VenueMarket], now_ms: int
    ) -> MarkBatch:
        """One ``get_book_summary_by_currency`` per settlement currency covers every market.

        Book summaries carry no Greeks, so ``venue_delta`` stays None here; a
        snapshot adds it for held options (:meth:`fetch_venue_deltas`).
        """
        wanted = {vm.market_id: vm for vm in markets}
        marks: dict[Symbol, Mark] = {}
        index: dict[Currency, float] = {}
        index_ts: dict[Currency, int] = {}
        for settle in sorted({vm.instrument.settle for vm in markets}):
            tickers = await client.fetch_tickers(None, {"code": settle})
            for ticker in mapping(tickers, "deribit tickers").values():
                raw = info(mapping(ticker, "deribit ticker"), "deribit ticker")
                vm = wanted.get(str(raw.get("instrument_name")))
                if vm is None:
                    continue
                mark = self.mark(vm, raw)
                marks[vm.symbol] = mark
                delivery = opt_positive(raw, "estimated_delivery_price", f"deribit {vm.symbol}")
                if delivery is not None:
                    index[vm.instrument.underlying] = delivery
                    index_ts[vm.instrument.underlying] = mark.ts_ms
        return MarkBatch(marks, index, index_ts)

    async def fetch_snapshot_marks(
        self, client: Any, markets: Sequence[VenueMarket], held_options: int, now_ms: int
    ) -> MarkBatch:
        """One ``public/ticker`` per instrument when that costs no more requests than the
        book summaries plus the held options' tickers (:meth:`fetch_venue_deltas`).

        A ticker carries the mark, the index and the option's delta, and answers for
        one instrument: the summaries answer for the whole chain (hundreds of
        instruments the venue renders and ccxt parses, most of a triggered cycle's
        read on loopback) when a snapshot wants the few it holds.
        """
        settles = {vm.instrument.settle for vm in markets}
        if len(markets) > len(settles) + held_options:
            return await self.fetch_marks(client, markets, now_ms)
        answers = await asyncio.gather(*(client.fetch_ticker(vm.symbol) for vm in markets))
        marks: dict[Symbol, Mark] = {}
        index: dict[Currency, float] = {}
        index_ts: dict[Currency, int] = {}
        for vm, answer in zip(markets, answers, strict=True):
            raw = info(mapping(answer, "deribit ticker"), "deribit ticker")
            mark = self.ticker_mark(vm, raw)
            marks[vm.symbol] = mark
            delivery = opt_positive(raw, "estimated_delivery_price", f"deribit {vm.symbol}")
            underlying = vm.instrument.underlying
            if delivery is not None and mark.ts_ms >= index_ts.get(underlying, 0):
                index[underlying] = delivery  # the newest of the tickers' readings
                index_ts[underlying] = mark.ts_ms
        return MarkBatch(marks, index, index_ts)

    def ticker_mark(self, vm: VenueMarket, ticker: Payload) -> Mark:
        """Mark of one instrument from its ``public/ticker`` answer: the book summary's
        fields under the ticker's names, and an option's Black-Scholes delta."""
        where = f"deribit ticker {vm.symbol}"
        name = ticker.get("instrument_name")
        if name != vm.market_id:
            raise MalformedResponseError(f"{where}: answer is for {name!r}")
        mark = _mark(vm, ticker, where, _TICKER_KEYS)
        if not vm.instrument.is_option:
            return mark
        return replace(mark, venue_delta=self.venue_delta(vm, ticker).delta)

    async def fetch_delivery_prices(self, client: Any, underlying: Currency) -> dict[str, float]:
        """The last :data:`DELIVERY_DAYS` days of ``public/get_delivery_prices`` of the
        ``<coin>_usd`` index, e.g. ``{"date": "2020-06-01", "delivery_price": 9485.6}``."""
        index_name = f"{underlying.lower()}_usd"
        answer = await client.publicGetGetDeliveryPrices(
            {"index_name": index_name, "count": DELIVERY_DAYS}
        )
        where = f"deribit get_delivery_prices {index_name}"
        result = mapping(mapping(answer, where).get("result"), f"{where}.result")
        rows = result.get("data")
        if not isinstance(rows, list):
            raise MalformedResponseError(f"{where}: result.data is not a list")
        out: dict[str, float] = {}
        for row in rows:
            entry = mapping(row, f"{where} row")
            day = text(entry, "date", where)
            try:
                date.fromisoformat(day)
            except ValueError:
                raise MalformedResponseError(f"{where}: date {day!r} is not YYYY-MM-DD") from None
            out[day] = positive(entry, "delivery_price", where)
        return out

    def venue_delta(self, vm: VenueMarket, ticker: Payload) -> VenueDelta:
        """Black-Scholes delta per coin of one option from its ``public/ticker`` answer,
        with the ticker's ``timestamp``."""
        where = f"deribit ticker {vm.symbol}"
        name = ticker.get("instrument_name")
        if name != vm.market_id:
            raise MalformedResponseError(f"{where}: answer is for {name!r}")
        greeks = mapping(ticker.get("greeks"), f"{where}.greeks")
        return VenueDelta(num(greeks, "delta", f"{where}.greeks"), ms(ticker, "timestamp", where))

    async def fetch_venue_deltas(
        self, client: Any, markets: Sequence[VenueMarket]
    ) -> Mapping[Symbol, VenueDelta]:
        """One ``public/ticker`` per held option, concurrently (the budget paces them)."""
        options = [vm for vm in markets if vm.instrument.is_option]
        tickers = await asyncio.gather(*(client.fetch_ticker(vm.symbol) for vm in options))
        return {
            vm.symbol: self.venue_delta(vm, info(mapping(t, "deribit ticker"), "deribit ticker"))
            for vm, t in zip(options, tickers, strict=True)
        }

    def transfer_report(self, kind: TransferKind, tx: Payload, now_ms: int) -> TransferReport:
        """ccxt parses a withdrawal's envelope instead of its ``result``: read the raw state."""
        raw = info(tx, f"deribit {kind.value}")
        raw = mapping(raw.get("result", raw), f"deribit {kind.value} result")
        if kind is TransferKind.SUBACCOUNT:
            return super().transfer_report(kind, tx, now_ms)
        where = f"deribit {kind.value} {raw.get('id')!r}"
        state_text = text(raw, "state", where)
        state = _WITHDRAWAL_STATES.get(state_text)
        if state is None:
            raise MalformedResponseError(f"{where}: unknown state {state_text!r}")
        created = raw.get("created_timestamp", raw.get("received_timestamp"))
        return TransferReport(
            transfer_id=None,
            venue_transfer_id=str(raw["id"]) if raw.get("id") is not None else None,
            kind=kind,
            state=state,
            currency=Currency(text(raw, "currency", where)),
            amount=num(raw, "amount", where),
            fee=opt_num(raw, "fee", where),
            ts_ms=int(created) if isinstance(created, int) and created > 0 else now_ms,
        )


_SUMMARY_KEYS = ("creation_timestamp", "bid_price", "ask_price")
_TICKER_KEYS = ("timestamp", "best_bid_price", "best_ask_price")
"""Where a book summary and a ticker keep their time, best bid and best ask."""


def _mark(vm: VenueMarket, raw: Payload, where: str, keys: tuple[str, str, str]) -> Mark:
    """Mark from a book summary or a ticker (``keys``: their time, bid and ask names)."""
    ts_key, bid_key, ask_key = keys
    mark_price = positive(raw, "mark_price", where)
    iv_pct = opt_positive(raw, "mark_iv", where)
    if vm.instrument.is_option:
        underlying = positive(raw, "underlying_price", where)
        if iv_pct is None:
            raise MalformedResponseError(f"{where}: an option needs mark_iv")
    else:  # a future is its own forward; size_currency = size / mark
        underlying = mark_price
    return Mark(
        symbol=vm.symbol,
        mark_price=mark_price,
        underlying_usd=underlying,
        ts_ms=ms(raw, ts_key, where),
        mark_iv=iv_pct / 100.0 if iv_pct is not None and vm.instrument.is_option else None,
        bid=opt_positive(raw, bid_key, where),
        ask=opt_positive(raw, ask_key, where),
        open_interest=opt_positive(raw, "open_interest", where),
        funding_rate=opt_num(raw, "funding_8h", where)
        if vm.instrument.kind is InstrumentKind.PERPETUAL
        else None,
    )
