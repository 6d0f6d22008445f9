"""The matching desk: places, fills, cancels and liquidates orders against the synthetic book.

Taker fills walk the ladder of :mod:`bot.sim.order_book`; resting GTC orders fill
as makers, at their own price, once the mark crosses them. Margin is checked
on the account as it would be after the order (10009 ``not_enough_funds``),
except for reduce-only orders and orders that lower the initial margin.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping

from bot.sim.accounts import AccountState, OpenOrderMargin, Valuation, apply_fill, value
from bot.sim.contracts import SimContract
from bot.sim.errors import (
    ALREADY_CLOSED,
    ALREADY_FILLED,
    NOT_ENOUGH_FUNDS,
    ORDER_NOT_FOUND,
    OTHER_REJECT,
    POST_ONLY_REJECT,
    SimError,
    sim_error,
)
from bot.sim.margin import future_fee, option_fee_coin
from bot.sim.marks import MarkRow
from bot.sim.order_book import Level, synthetic_book, walk
from bot.sim.orders import ExchangeOrder, OrderTicket, trade_view
from bot.sim.spec import FeeSchedule, OrderBookSpec
from bot.sim.views import OrderView, TradeView


class Desk:
    """All orders and trades of one exchange (engine state, never handed out)."""

    def __init__(
        self, contracts: Mapping[str, SimContract], fees: FeeSchedule, book: OrderBookSpec
    ) -> None:
        self._contracts = contracts
        self._fees = fees
        self._book = book
        self.orders: dict[str, ExchangeOrder] = {}
        self.trades: list[tuple[int, TradeView]] = []
        self._by_instrument: dict[str, list[TradeView]] = {}
        self._open: dict[str, ExchangeOrder] = {}
        self._order_seq = 0
        self._trade_seq: dict[str, int] = {}

    def open_orders(self) -> list[ExchangeOrder]:
        """Orders still open, oldest first (closed ones are dropped from the index)."""
        self._open = {k: o for k, o in self._open.items() if o.is_open}
        return list(self._open.values())

    def trades_of(self, instrument_name: str) -> list[TradeView]:
        return self._by_instrument.get(instrument_name, [])

    def open_margin(self, account_id: int) -> list[OpenOrderMargin]:
        return [
            o.margin()
            for o in self.open_orders()
            if o.account_id == account_id and not o.request.reduce_only
        ]

    def valuation(
        self, acc: AccountState, currency: str, marks: Mapping[str, MarkRow]
    ) -> Valuation:
        return value(acc, currency, self._contracts, marks, self.open_margin(acc.spec.id))

    def place(
        self, acc: AccountState, req: OrderTicket, now: int, marks: Mapping[str, MarkRow]
    ) -> tuple[OrderView, list[TradeView]]:
        """Match ``req`` for ``acc`` at ``now``; the order and its fills, or a SimError."""
        c = req.contract
        row = marks[c.instrument_name]
        if req.reduce_only:
            req = self._reduce_only(acc, req)
        book = synthetic_book(c, row.mark_price, self._book)
        side = book.asks if req.is_buy else book.bids
        if req.post_only and side and _crosses(req, side[0].price):
            raise sim_error(POST_ONLY_REJECT, param="price", reason="post-only order would take")
        fills = [] if req.post_only else walk(side, req.amount, req.price, req.is_buy)
        taken = round(sum(f.amount for f in fills), 10)
        if req.time_in_force == "fill_or_kill" and taken < req.amount:
            fills, taken = [], 0.0
        rests = req.order_type == "limit" and req.time_in_force == "good_til_cancelled"
        if not req.reduce_only:
            self._check_margin(
                acc, req, fills, reserved=req.amount if rests else taken, marks=marks
            )
        self._order_seq += 1
        order = ExchangeOrder(f"{c.currency}-{self._order_seq}", acc.spec.id, req, now, now)
        self.orders[order.order_id] = order
        self._open[order.order_id] = order
        trades = [
            self._fill(acc, order, f.amount, f.price, now=now, row=row, maker=False) for f in fills
        ]
        if not rests:
            reason = (
                "fill_or_kill" if req.time_in_force == "fill_or_kill" else "immediate_or_cancel"
            )
            order.close(now, reason)
        return order.view(), trades

    def cancel(self, account_id: int, order_id: str, now: int) -> OrderView:
        o = self.orders.get(order_id)
        if o is None or o.account_id != account_id:
            raise sim_error(
                ORDER_NOT_FOUND, param="order_id", reason="no such order in this account"
            )
        if o.state == "filled":
            raise sim_error(ALREADY_FILLED, param="order_id", reason="order is filled")
        if not o.is_open:
            raise sim_error(ALREADY_CLOSED, param="order_id", reason=f"order is {o.state}")
        o.close(now, "user_request")
        return o.view()

    def fill_resting(
        self, accounts: Mapping[int, AccountState], now: int, marks: Mapping[str, MarkRow]
    ) -> None:
        """Fill open limit orders the mark has crossed, at their own price, as makers."""
        for o in self.open_orders():
            row = marks.get(o.contract.instrument_name)
            if not o.is_open or row is None or o.request.price is None:
                continue
            if _crosses(o.request, row.mark_price):
                acc = accounts[o.account_id]
                amount = o.remaining
                if o.request.reduce_only:
                    amount = min(amount, self._reducible(acc, o.request))
                    if amount <= 0:
                        o.close(now, "reduce_only")
                        continue
                self._fill(acc, o, amount, o.request.price, now=now, row=row, maker=True)
                if o.request.reduce_only:
                    o.close(now, "reduce_only")

    def cancel_contract(self, instrument_name: str, now: int, reason: str) -> None:
        for o in self.open_orders():
            if o.contract.instrument_name == instrument_name:
                o.close(now, reason)

    def liquidate(
        self, acc: AccountState, currency: str, now: int, marks: Mapping[str, MarkRow]
    ) -> None:
        """Cancel the account's orders in ``currency`` and close its positions there at mark."""
        for o in self.open_orders():
            if o.account_id == acc.spec.id and o.contract.currency == currency:
                o.close(now, "autoliquidation")
        for name, pos in list(acc.positions.items()):
            c = self._contracts[name]
            if c.currency != currency or pos.size == 0 or name not in marks:
                continue
            row = marks[name]
            req = OrderTicket(
                c,
                pos.size < 0,
                abs(pos.size),
                "market",
                None,
                "immediate_or_cancel",
                post_only=False,
                reduce_only=True,
                label="liquidation",
            )
            self._order_seq += 1
            order = ExchangeOrder(f"{c.currency}-{self._order_seq}", acc.spec.id, req, now, now)
            order.is_liquidation = True
            self.orders[order.order_id] = order
            self._fill(
                acc, order, req.amount, row.mark_price, now=now, row=row, maker=False, fee=0.0
            )

    def _fill(
        self,
        acc: AccountState,
        o: ExchangeOrder,
        amount: float,
        price: float,
        *,
        now: int,
        row: MarkRow,
        maker: bool,
        fee: float | None = None,
    ) -> TradeView:
        c = o.contract
        fee = self.fee(c, amount, price, maker) if fee is None else fee
        signed = amount if o.request.is_buy else -amount
        pnl = apply_fill(acc, c, signed, price, fee)
        o.record_fill(amount, price, fee, pnl, now)
        seq = self._trade_seq.get(c.instrument_name, 0) + 1
        self._trade_seq[c.instrument_name] = seq
        trade = trade_view(
            o,
            trade_id=f"{c.currency}-T{len(self.trades) + 1}",
            trade_seq=seq,
            ts_ms=now,
            amount=amount,
            price=price,
            fee=fee,
            pnl=pnl,
            maker=maker,
            mark_price=row.mark_price,
            index_usd=row.index_usd,
            underlying_usd=row.underlying_usd if c.is_option else None,
        )
        self.trades.append((acc.spec.id, trade))
        self._by_instrument.setdefault(c.instrument_name, []).append(trade)
        return trade

    def fee(self, c: SimContract, amount: float, price: float, maker: bool) -> float:
        """Deribit's fee for one fill, in the contract's settlement currency."""
        f = self._fees
        if c.is_option:
            return option_fee_coin(amount, price, f.option_rate, f.option_cap)
        return future_fee(amount, price, f.future_maker if maker else f.future_taker, c.is_inverse)

    def _reducible(self, acc: AccountState, req: OrderTicket) -> float:
        pos = acc.positions.get(req.contract.instrument_name)
        size = pos.size if pos else 0.0
        opposite = size < 0 if req.is_buy else size > 0
        return abs(size) if opposite else 0.0

    def _reduce_only(self, acc: AccountState, req: OrderTicket) -> OrderTicket:
        """Clamp a reduce-only order to the position it reduces; refuse one that would not."""
        reducible = self._reducible(acc, req)
        if reducible <= 0:
            raise SimError(
                OTHER_REJECT,
                "other_reject reduce_only",
                {"param": "reduce_only", "reason": "no position on the other side to reduce"},
            )
        if req.amount <= reducible:
            return req
        return dataclasses.replace(req, amount=reducible)

    def _check_margin(
        self,
        acc: AccountState,
        req: OrderTicket,
        fills: list[Level],
        *,
        reserved: float,
        marks: Mapping[str, MarkRow],
    ) -> None:
        """Refuse (10009) an order after which the initial margin would exceed equity.

        An option buy must also be paid from cash: balance plus futures P&L after
        the premium must stay non-negative. Orders that lower the IM always pass.
        """
        c = req.contract
        before = self.valuation(acc, c.currency, marks)
        trial = copy.deepcopy(acc)
        for f in fills:
            signed = f.amount if req.is_buy else -f.amount
            apply_fill(trial, c, signed, f.price, self.fee(c, f.amount, f.price, maker=False))
        taken = sum(f.amount for f in fills)
        rest = round(reserved - taken, 10)
        extra = [OpenOrderMargin(c, req.is_buy, rest, req.price or 0.0)] if rest > 0 else []
        after = value(
            trial, c.currency, self._contracts, marks, self.open_margin(acc.spec.id) + extra
        )
        short_of_margin = after.initial_margin > after.equity + 1e-12
        short_of_cash = c.is_option and req.is_buy and after.balance + after.futures_upl < -1e-12
        raises_im = after.initial_margin > before.initial_margin + 1e-12
        if (short_of_margin and raises_im) or short_of_cash:
            raise sim_error(
                NOT_ENOUGH_FUNDS,
                param="amount",
                reason=f"initial margin {after.initial_margin:.8f} would exceed equity "
                f"{after.equity:.8f} {c.currency}",
            )


def _crosses(req: OrderTicket, price: float) -> bool:
    """A buy at ``req.price`` crosses an offer at ``price`` (a sell, a bid) when it would trade."""
    assert req.price is not None
    return price <= req.price if req.is_buy else price >= req.price
