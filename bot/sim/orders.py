"""Order records of the simulated exchange and their Deribit views.

An :class:`ExchangeOrder` is the engine's mutable record; :meth:`ExchangeOrder.view`
freezes it into the :class:`~bot.sim.views.OrderView` the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sim.accounts import OpenOrderMargin
from bot.sim.contracts import SimContract
from bot.sim.views import OrderView, TradeView


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """A validated order as the client asked for it (``price`` None for market orders)."""

    contract: SimContract
    is_buy: bool
    amount: float
    order_type: str
    price: float | None
    time_in_force: str
    post_only: bool
    reduce_only: bool
    label: str


@dataclass(slots=True)
class ExchangeOrder:
    """One order's life: fills, fees and state ``open`` → ``filled`` / ``cancelled``."""

    order_id: str
    account_id: int
    request: OrderTicket
    created_ms: int
    updated_ms: int
    state: str = "open"
    filled: float = 0.0
    notional: float = 0.0
    commission: float = 0.0
    profit_loss: float = 0.0
    is_liquidation: bool = False
    cancel_reason: str | None = None

    @property
    def contract(self) -> SimContract:
        return self.request.contract

    @property
    def remaining(self) -> float:
        return round(self.request.amount - self.filled, 10)

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def record_fill(self, amount: float, price: float, fee: float, pnl: float, ts_ms: int) -> None:
        self.filled = round(self.filled + amount, 10)
        self.notional += amount * price
        self.commission += fee
        self.profit_loss += pnl
        self.updated_ms = ts_ms
        if self.remaining <= 1e-12:
            self.state = "filled"

    def close(self, ts_ms: int, reason: str) -> None:
        """Cancel what is left (IOC remainder, FOK miss, user cancel, expiry)."""
        if self.is_open:
            self.state, self.cancel_reason, self.updated_ms = "cancelled", reason, ts_ms

    def margin(self) -> OpenOrderMargin:
        price = self.request.price if self.request.price is not None else 0.0
        return OpenOrderMargin(self.contract, self.request.is_buy, self.remaining, price)

    def view(self) -> OrderView:
        r = self.request
        return OrderView(
            order_id=self.order_id,
            order_state=self.state,
            order_type=r.order_type,
            instrument_name=r.contract.instrument_name,
            direction="buy" if r.is_buy else "sell",
            amount=r.amount,
            filled_amount=self.filled,
            contracts=r.amount / r.contract.contract_size,
            price=r.price,
            average_price=self.notional / self.filled if self.filled else 0.0,
            time_in_force=r.time_in_force,
            post_only=r.post_only,
            reduce_only=r.reduce_only,
            label=r.label,
            creation_timestamp=self.created_ms,
            last_update_timestamp=self.updated_ms,
            commission=self.commission,
            profit_loss=self.profit_loss,
            is_liquidation=self.is_liquidation,
            replaced=False,
            api=True,
            web=False,
            risk_reducing=False,
            mmp=False,
            max_show=r.amount,
            cancel_reason=self.cancel_reason,
            reject_reason=None,
        )


def trade_view(
    o: ExchangeOrder,
    *,
    trade_id: str,
    trade_seq: int,
    ts_ms: int,
    amount: float,
    price: float,
    fee: float,
    pnl: float,
    maker: bool,
    mark_price: float,
    index_usd: float,
    underlying_usd: float | None,
) -> TradeView:
    """The :class:`TradeView` of one fill of ``o`` (recorded after the fill)."""
    r = o.request
    return TradeView(
        trade_id=trade_id,
        trade_seq=trade_seq,
        timestamp=ts_ms,
        instrument_name=r.contract.instrument_name,
        order_id=o.order_id,
        order_type=r.order_type,
        direction="buy" if r.is_buy else "sell",
        amount=amount,
        contracts=amount / r.contract.contract_size,
        price=price,
        mark_price=mark_price,
        index_price=index_usd,
        underlying_price=underlying_usd,
        iv=None,
        fee=fee,
        fee_currency=r.contract.currency,
        liquidity="M" if maker else "T",
        label=r.label,
        state=o.state,
        tick_direction=0 if r.is_buy else 2,
        matching_id=None,
        post_only=r.post_only,
        reduce_only=r.reduce_only,
        profit_loss=pnl,
        liquidation="T" if o.is_liquidation else None,
        api=True,
    )
