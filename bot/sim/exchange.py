"""The simulated exchange's API: Deribit semantics over a :class:`~bot.sim.market.MarketModel`.

Every method first brings the world up to ``clock.now_ms()`` (see
:class:`~bot.sim.world.SimWorld`), then answers with frozen views whose
fields are Deribit v2 result keys. Synchronous and deterministic given the
sequence of clock readings; no HTTP or JSON-RPC here (``bot.sim.server`` is
the facade).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from bot.clock import Clock
from bot.domain.ids import Symbol
from bot.domain.pnl import utc_day
from bot.sim.accounts import order_margin
from bot.sim.advanced import Advanced, coin_price
from bot.sim.contracts import SimContract
from bot.sim.errors import ORDER_NOT_FOUND, bad_param, sim_error
from bot.sim.market import MarketModel
from bot.sim.marks import MarkRow
from bot.sim.network import SimNetwork
from bot.sim.order_book import OrderBook, best_levels, synthetic_book
from bot.sim.orders import ExchangeOrder
from bot.sim.render import (
    Activity,
    account_summary_view,
    book_summary_view,
    currency_view,
    instrument_view,
    order_book_view,
    position_view,
    subaccount_view,
    ticker_view,
)
from bot.sim.render_cache import RenderCache
from bot.sim.spec import ExchangeSpec
from bot.sim.validation import validate_order
from bot.sim.views import (
    AccountSummaryView,
    BookSummaryView,
    CurrencyView,
    DeliveryPricesView,
    DeliveryPriceView,
    DepositAddressView,
    DepositView,
    IndexPriceView,
    InstrumentView,
    OrderBookView,
    OrderView,
    PositionView,
    SubaccountView,
    TickerView,
    TradeView,
    TransferView,
    WithdrawalView,
)
from bot.sim.wallet import check_currency
from bot.sim.world import FundingPayment, SimWorld

Direction = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]
TimeInForce = Literal["good_til_cancelled", "immediate_or_cancel", "fill_or_kill"]


def _check_count(count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise bad_param("count", f"must be a positive int, got {count!r}")
    return count


class SimExchange:
    """One simulated venue; all state lives in a private :class:`SimWorld`."""

    def __init__(
        self,
        market: MarketModel,
        clock: Clock,
        config: ExchangeSpec,
        network: SimNetwork | None = None,
    ) -> None:
        self._w = SimWorld(market, clock, config, network)
        self._keys = {a.client_id: a for a in config.accounts}
        self._tickers: RenderCache[str, TickerView] = RenderCache(
            lambda view, now: replace(view, timestamp=now)
        )
        self._summaries: RenderCache[tuple[str, str | None], list[BookSummaryView]] = RenderCache(
            lambda views, now: [replace(v, creation_timestamp=now) for v in views]
        )

    @property
    def name(self) -> str:
        return self._w.config.name

    @property
    def spec(self) -> ExchangeSpec:
        """What this venue is: its dialect, listing, fees and accounts."""
        return self._w.config

    def _currency(self, currency: str) -> str:
        return check_currency(currency, self._w.config.currencies)

    # ---------------------------------------------- dialect-neutral reads (facades)
    def live_contracts(self) -> list[tuple[SimContract, MarkRow]]:
        """Every live contract with its current marks, in listing order."""
        w = self._w
        w.sync()
        return [(c, w.marks[n]) for n, c in w.contracts.items() if n not in w.expired]

    def contract_marks(self, instrument_name: str) -> tuple[SimContract, MarkRow]:
        """One live contract and its current marks (SimError if unknown or expired)."""
        self._w.sync()
        return self._w.contract(instrument_name)

    def quote(self, instrument_name: str) -> tuple[SimContract, MarkRow, OrderBook, Activity, int]:
        """A live contract, its marks, its synthetic book and activity, and the time now."""
        now = self._w.sync()
        c, row = self._w.contract(instrument_name)
        book = synthetic_book(c, row.mark_price, self._w.config.book)
        return c, row, book, self._w.activity(instrument_name, now), now

    def funding_payments(
        self, account_id: int, start_ms: int = 0, end_ms: int | None = None
    ) -> list[FundingPayment]:
        """The account's discrete funding settlements in [start_ms, end_ms], oldest first."""
        now = self._w.sync()
        self._w.account(account_id)
        hi = now if end_ms is None else end_ms
        return [
            p for p in self._w.funding if p.account_id == account_id and start_ms <= p.ts_ms <= hi
        ]

    # ------------------------------------------------------------ public data
    def time_ms(self) -> int:
        """``public/get_time``: the exchange's clock (simulated time), epoch milliseconds.

        The stale-marks knob never freezes it: a stuck feed does not stop the venue's clock.
        """
        return self._w.sync()

    def currencies(self) -> list[CurrencyView]:
        return [currency_view(c, self._w.config.wallet) for c in self._w.config.currencies]

    def instruments(
        self, currency: str, kind: str | None = None, expired: bool = False
    ) -> list[InstrumentView]:
        """Instruments settling in ``currency`` (or ``any``), live or expired."""
        self._w.sync()
        if currency != "any":
            self._currency(currency)
        if kind not in (None, "future", "option"):
            raise bad_param("kind", f"must be 'future' or 'option', got {kind!r}")
        w = self._w
        return [
            instrument_view(c, w.config.fees, expired)
            for n, c in w.contracts.items()
            if (n in w.expired) == expired
            and currency in ("any", c.currency)
            and kind in (None, c.deribit_kind)
        ]

    def hedge_symbols(self) -> frozenset[Symbol]:
        """ccxt unified symbols of the live futures and perpetuals listed here (what a
        ``[[hedges]]`` route may name)."""
        w = self._w
        return frozenset(
            c.instrument.symbol
            for n, c in w.contracts.items()
            if not c.is_option and n not in w.expired
        )

    def ticker(self, instrument_name: str) -> TickerView:
        """``public/ticker``; kept while the world's marks and trades hold (a push round
        reads every subscribed ticker)."""
        now = self._w.sync()
        return self._tickers.get(
            instrument_name,
            self._w.render_state(now),
            now,
            lambda: self._ticker_at(instrument_name, now),
        )

    def _ticker_at(self, instrument_name: str, now: int) -> TickerView:
        c, row = self._w.contract(instrument_name)
        top = best_levels(c, row.mark_price, self._w.config.book)
        return ticker_view(c, row, top, now, self._w.activity(instrument_name, now))

    def order_book(self, instrument_name: str, depth: int = 5) -> OrderBookView:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise bad_param("depth", f"must be a positive int, got {depth!r}")
        now = self._w.sync()
        c, row = self._w.contract(instrument_name)
        book = synthetic_book(c, row.mark_price, self._w.config.book)
        ticker = ticker_view(c, row, book.top(), now, self._w.activity(instrument_name, now))
        return order_book_view(ticker, book, depth, self._w.marks_step)

    def index_price(self, index_name: str) -> IndexPriceView:
        """``btc_usd`` style index names of the listed underlyings."""
        self._w.sync()
        name = index_name.lower() if isinstance(index_name, str) else ""
        und = name.removesuffix("_usd").upper()
        if not name.endswith("_usd") or und not in self._w.config.underlyings:
            raise bad_param("index_name", f"unknown index {index_name!r}")
        index = self._w.market.index_usd(und)
        return IndexPriceView(index, index)

    def delivery_prices(self, index_name: str, offset: int, count: int) -> DeliveryPricesView:
        """``public/get_delivery_prices``: the index's delivery price per passed expiry day,
        newest first, ``count`` of them from ``offset``."""
        self._w.sync()
        name = index_name.lower() if isinstance(index_name, str) else ""
        und = name.removesuffix("_usd").upper()
        if not name.endswith("_usd") or und not in self._w.config.underlyings:
            raise bad_param("index_name", f"unknown index {index_name!r}")
        days = sorted(self._w.deliveries.get(und, {}).items(), reverse=True)
        rows = [
            DeliveryPriceView(utc_day(expiry_ms), price)
            for expiry_ms, price in days[offset : offset + count]
        ]
        return DeliveryPricesView(rows, len(days))

    def book_summaries(self, currency: str, kind: str | None = None) -> list[BookSummaryView]:
        """One summary per instrument, all at one instant (one sync, like the venue's snapshot).

        Kept while the world's marks and trades hold: a chain is hundreds of summaries,
        and the marks change once per grid step.
        """
        now = self._w.sync()
        if currency != "any":
            self._currency(currency)
        if kind not in (None, "future", "option"):
            raise bad_param("kind", f"must be 'future' or 'option', got {kind!r}")
        w = self._w

        def render() -> list[BookSummaryView]:
            return [
                book_summary_view(c, self._ticker_at(n, now))
                for n, c in w.contracts.items()
                if n not in w.expired
                and currency in ("any", c.currency)
                and kind in (None, c.deribit_kind)
            ]

        return self._summaries.get((currency, kind), w.render_state(now), now, render)

    # ------------------------------------------------------------------ auth
    def account_id_for_key(self, api_key: str) -> int | None:
        spec = self._keys.get(api_key)
        return spec.id if spec else None

    def api_secret_for_key(self, api_key: str) -> str | None:
        spec = self._keys.get(api_key)
        return spec.client_secret if spec else None

    # --------------------------------------------------------------- account
    def account_summary(self, account_id: int, currency: str) -> AccountSummaryView:
        self._w.sync()
        return self._summary(account_id, self._currency(currency))

    def _summary(self, account_id: int, currency: str) -> AccountSummaryView:
        w = self._w
        acc = w.account(account_id)
        v = w.desk.valuation(acc, currency, w.marks)
        fut_rpl = opt_rpl = 0.0
        for name, pos in acc.positions.items():
            c = w.contracts[name]
            if c.currency == currency:
                if c.is_option:
                    opt_rpl += pos.realized_pnl
                else:
                    fut_rpl += pos.realized_pnl + pos.realized_funding
        return account_summary_view(
            acc,
            currency,
            v,
            futures_rpl=fut_rpl,
            options_rpl=opt_rpl,
            creation_ms=w.config.start_ms,
        )

    def positions(
        self, account_id: int, currency: str, kind: str | None = None
    ) -> list[PositionView]:
        """Open positions settling in ``currency`` (or ``any``), optionally of one ``kind``."""
        self._w.sync()
        if currency != "any":
            self._currency(currency)
        return self._positions(account_id, currency, kind)

    def _positions(self, account_id: int, currency: str, kind: str | None) -> list[PositionView]:
        w = self._w
        acc = w.account(account_id)
        out = []
        for name, pos in acc.positions.items():
            c = w.contracts[name]
            if pos.size == 0 or name not in w.marks:
                continue
            if currency not in ("any", c.currency) or kind not in (None, c.deribit_kind):
                continue
            oo = sum(
                (
                    order_margin(o.margin(), w.marks[name])
                    for o in self._orders(account_id, None, name)
                    if o.is_open and not o.request.reduce_only
                ),
                0.0,
            )
            out.append(position_view(c, pos, w.marks[name], oo))
        return out

    # ---------------------------------------------------------------- orders
    def place_order(
        self,
        account_id: int,
        *,
        direction: Direction,
        instrument_name: str,
        amount: float,
        type: OrderType = "limit",
        price: float | None = None,
        time_in_force: TimeInForce = "good_til_cancelled",
        post_only: bool = False,
        reduce_only: bool = False,
        label: str | None = None,
        advanced: Advanced | None = None,
    ) -> tuple[OrderView, list[TradeView]]:
        """Place an order; taker fills come back with it, the rest rests (GTC) or is cancelled.

        Post-only orders that would take are rejected (11054), as Deribit does
        with ``reject_post_only``; Deribit's default of repricing is not modelled.
        An option order's ``advanced`` price (implied vol in percent, or USD) becomes its
        coin price at placement (:mod:`bot.sim.advanced`).
        """
        now = self._w.sync()
        acc = self._w.account(account_id)
        c, _ = self._w.contract(instrument_name)
        if advanced is not None and price is not None:
            price = coin_price(
                c,
                advanced,
                price,
                forward_usd=self._w.marks[instrument_name].underlying_usd,
                tau_years=self._w.market.tau_years(c.expiry_ms),
                buying=direction == "buy",
            )
        req = validate_order(
            c,
            direction=direction,
            amount=amount,
            order_type=type,
            price=price,
            time_in_force=time_in_force,
            post_only=post_only,
            reduce_only=reduce_only,
            label=label,
        )
        return self._w.desk.place(acc, req, now, self._w.marks)

    def cancel(self, account_id: int, order_id: str) -> OrderView:
        now = self._w.sync()
        self._w.account(account_id)
        return self._w.desk.cancel(account_id, order_id, now)

    def _orders(
        self, account_id: int, currency: str | None, instrument_name: str | None
    ) -> list[ExchangeOrder]:
        self._w.account(account_id)
        return [
            o
            for o in self._w.desk.orders.values()
            if o.account_id == account_id
            and currency in (None, o.contract.currency)
            and instrument_name in (None, o.contract.instrument_name)
        ]

    def open_orders(
        self, account_id: int, currency: str | None = None, instrument_name: str | None = None
    ) -> list[OrderView]:
        self._w.sync()
        return [o.view() for o in self._orders(account_id, currency, instrument_name) if o.is_open]

    def order_history(
        self,
        account_id: int,
        currency: str | None = None,
        instrument_name: str | None = None,
        count: int = 20,
    ) -> list[OrderView]:
        """Closed orders (filled or cancelled), newest first."""
        self._w.sync()
        closed = [o for o in self._orders(account_id, currency, instrument_name) if not o.is_open]
        return [o.view() for o in reversed(closed)][: _check_count(count)]

    def order_state(self, account_id: int, order_id: str) -> OrderView:
        self._w.sync()
        self._w.account(account_id)
        o = self._w.desk.orders.get(order_id)
        if o is None or o.account_id != account_id:
            raise sim_error(
                ORDER_NOT_FOUND, param="order_id", reason="no such order in this account"
            )
        return o.view()

    def orders_of(self, account_id: int, instrument_name: str) -> list[OrderView]:
        """Every order of the account on one instrument, open or closed, oldest first."""
        self._w.sync()
        return [o.view() for o in self._orders(account_id, None, instrument_name)]

    def orders_by_label(self, account_id: int, currency: str, label: str) -> list[OrderView]:
        """Every order of the account in ``currency`` carrying ``label``, oldest first."""
        self._w.sync()
        return [
            o.view() for o in self._orders(account_id, currency, None) if o.request.label == label
        ]

    def user_trades(  # noqa: PLR0917 - positional order agreed with the HTTP facade
        self,
        account_id: int,
        currency: str | None = None,
        instrument_name: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
        count: int = 10,
    ) -> list[TradeView]:
        """The account's trades, newest first, filtered like ``get_user_trades_by_*``."""
        self._w.sync()
        self._w.account(account_id)
        lo = start_timestamp if start_timestamp is not None else 0
        hi = end_timestamp if end_timestamp is not None else self._w.ts
        out = []
        for acc_id, t in reversed(self._w.desk.trades):
            c = self._w.contracts[t.instrument_name]
            if acc_id != account_id or not lo <= t.timestamp <= hi:
                continue
            if currency in (None, c.currency) and instrument_name in (None, t.instrument_name):
                out.append(t)
        return out[: _check_count(count)]

    # ----------------------------------------------------------------- funds
    def subaccounts(self, account_id: int) -> list[SubaccountView]:
        """The main account and every sub-account, with per-currency portfolios."""
        self._w.sync()
        self._w.account(account_id)
        return [
            subaccount_view(a, {c: self._summary(a.spec.id, c) for c in self._w.config.currencies})
            for a in self._w.accounts.values()
        ]

    def transfer_to_subaccount(
        self, account_id: int, currency: str, amount: float, destination: int
    ) -> TransferView:
        now = self._w.sync()
        acc = self._w.account(account_id)
        available = self._w.desk.valuation(acc, self._currency(currency), self._w.marks)
        return self._w.wallet.transfer(
            acc,
            destination,
            currency,
            amount,
            available=available.available_withdrawal_funds,
            now=now,
        )

    def withdraw(
        self, account_id: int, currency: str, address: str, amount: float
    ) -> WithdrawalView:
        now = self._w.sync()
        acc = self._w.account(account_id)
        available = self._w.desk.valuation(acc, self._currency(currency), self._w.marks)
        return self._w.wallet.withdraw(
            acc, currency, address, amount, available=available.available_withdrawal_funds, now=now
        )

    def deposit_address(self, account_id: int, currency: str) -> DepositAddressView:
        self._w.account(account_id)
        address = self._w.wallet.address(account_id, self._currency(currency))
        return DepositAddressView(address, currency, "deposit", self._w.config.start_ms)

    def deposits(self, account_id: int, currency: str) -> list[DepositView]:
        now = self._w.sync()
        self._w.account(account_id)
        return self._w.wallet.deposits(account_id, self._currency(currency), now)

    def withdrawals(self, account_id: int, currency: str) -> list[WithdrawalView]:
        now = self._w.sync()
        self._w.account(account_id)
        return self._w.wallet.withdrawals(account_id, self._currency(currency), now)

    # ------------------------------------------- change feed (websocket pushes)
    def index_prices(self) -> dict[str, float]:
        """``btc_usd`` style index name -> index price of every listed underlying, now."""
        self._w.sync()
        return {f"{u.lower()}_usd": self._w.market.index_usd(u) for u in self._w.config.underlyings}

    def instrument_scope(self, instrument_name: str) -> tuple[str, str]:
        """(Deribit ``kind``, settlement currency) of a listed instrument, live or expired:
        what a ``user.*.{kind}.{currency}`` channel filters on."""
        c = self._w.contracts[instrument_name]
        return c.deribit_kind, c.currency

    def orders_after(self, seen: int) -> tuple[int, list[tuple[int, OrderView]]]:
        """Orders of every account placed after the first ``seen`` (with their account), and
        the new count: the websocket feed's cursor, so a push never re-reads the whole log."""
        self._w.sync()
        orders = list(self._w.desk.orders.values())
        return len(orders), [(o.account_id, o.view()) for o in orders[seen:]]

    def orders_now(self, order_ids: Iterable[str]) -> list[tuple[int, OrderView]]:
        """The current state of ``order_ids`` (with their account), in the order given."""
        self._w.sync()
        desk = self._w.desk.orders
        return [(desk[i].account_id, desk[i].view()) for i in order_ids if i in desk]

    def trades_after(self, seen: int) -> tuple[int, list[tuple[int, TradeView]]]:
        """Trades of every account recorded after the first ``seen`` (with their account),
        and the new count."""
        self._w.sync()
        trades = self._w.desk.trades
        return len(trades), list(trades[seen:])

    def positions_on(self, account_id: int, instrument_names: Iterable[str]) -> list[PositionView]:
        """The account's positions on ``instrument_names`` as Deribit pushes them after a trade:
        a position the trade closed is there with size 0 (a read of open positions drops it)."""
        w = self._w
        w.sync()
        acc = w.account(account_id)
        out = []
        for name in instrument_names:
            pos = acc.positions.get(name)
            if pos is not None and name in w.marks:
                out.append(position_view(w.contracts[name], pos, w.marks[name], 0.0))
        return out

    # --------------------------------------------------- introspection (tests)
    def order_log(self) -> list[OrderView]:
        """Every order of every account, oldest first (liquidations included)."""
        self._w.sync()
        return [o.view() for o in self._w.desk.orders.values()]

    def all_positions(self) -> dict[int, list[PositionView]]:
        self._w.sync()
        return {i: self._positions(i, "any", None) for i in self._w.accounts}

    def all_balances(self) -> dict[int, dict[str, AccountSummaryView]]:
        self._w.sync()
        currencies = self._w.config.currencies
        return {i: {c: self._summary(i, c) for c in currencies} for i in self._w.accounts}
