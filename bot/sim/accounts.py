"""Account ledgers of the simulated exchange: balances, positions, valuation, margin.

Deribit segregates margin per settlement currency (standard margin), so
everything here is per (account, currency). Cash follows Deribit: an option
trade moves the premium through the balance at once; a futures trade books
its realised P&L and fees to the balance (the venue does so at the daily
settlement; the sim does it at the fill). Equity = balance + options value +
futures unrealised P&L; available funds = equity − initial margin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.margin.linear import BINANCE_BTCUSDT_2021, TierTable, tiered_margin
from bot.domain.units import position_coin
from bot.sim.contracts import SimContract
from bot.sim.dialect import Dialect
from bot.sim.margin import future_margin_rates, inverse_pnl_coin, short_option_margin
from bot.sim.marks import MarkRow, net_delta
from bot.sim.spec import AccountSpec


@dataclass(slots=True)
class PositionState:
    """Signed ``size`` in the contract's amount unit; ``average_price`` in its price unit."""

    size: float = 0.0
    average_price: float = 0.0
    realized_pnl: float = 0.0
    realized_funding: float = 0.0


@dataclass(slots=True)
class AccountState:
    spec: AccountSpec
    is_main: bool
    balances: dict[str, float]
    positions: dict[str, PositionState] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenOrderMargin:
    """What an open order reserves: its contract, side and remaining amount at its price."""

    contract: SimContract
    is_buy: bool
    remaining: float
    price: float


@dataclass(frozen=True, slots=True)
class Valuation:
    """One account in one currency, all amounts in that currency (deltas in coin).

    ``delta_total`` is Deribit's: futures in coin plus the options' Net
    Transaction Delta (:func:`bot.sim.marks.net_delta`); ``options_delta`` sums
    the options' Black-Scholes deltas.
    """

    balance: float
    options_value: float
    options_upl: float
    futures_upl: float
    initial_margin: float
    maintenance_margin: float
    open_orders_margin: float
    delta_total: float
    options_delta: float
    options_gamma: float
    options_vega: float
    options_theta: float

    @property
    def equity(self) -> float:
        return self.balance + self.options_value + self.futures_upl

    @property
    def available_funds(self) -> float:
        return self.equity - self.initial_margin

    @property
    def available_withdrawal_funds(self) -> float:
        """Cash not needed as margin; unrealised gains are not withdrawable."""
        return max(0.0, min(self.balance, self.available_funds))


BINANCE_TIERS = TierTable.from_rows(BINANCE_BTCUSDT_2021)
"""Binance USDⓈ-M margin tiers; the simulator applies BTCUSDT's table to ETHUSDT too."""


def _sign(x: float) -> float:
    return math.copysign(1.0, x)


def closed_pnl(c: SimContract, closed_size: float, entry: float, exit_price: float) -> float:
    """P&L of closing ``closed_size`` (signed like the position) opened at ``entry``."""
    if c.is_inverse and not c.is_option:
        return inverse_pnl_coin(closed_size, entry, exit_price)
    return closed_size * (exit_price - entry)


def apply_fill(
    acc: AccountState, c: SimContract, signed_amount: float, price: float, fee: float
) -> float:
    """Book a fill of ``signed_amount`` (> 0 buy) at ``price``; returns the realised P&L."""
    pos = acc.positions.setdefault(c.instrument_name, PositionState())
    pnl = 0.0
    if pos.size == 0 or _sign(pos.size) == _sign(signed_amount):
        pos.average_price = _average(c, pos.size, pos.average_price, signed_amount, price)
        pos.size += signed_amount
    else:
        closing = min(abs(signed_amount), abs(pos.size)) * _sign(pos.size)
        pnl = closed_pnl(c, closing, pos.average_price, price)
        pos.size += signed_amount
        if abs(pos.size) < c.lot * 1e-6:
            pos.size = 0.0
        elif _sign(pos.size) == _sign(signed_amount):  # flipped through zero
            pos.average_price = price
    pos.size = round(pos.size, 10)
    pos.realized_pnl += pnl
    cash = -signed_amount * price if c.is_option else pnl
    acc.balances[c.currency] = acc.balances.get(c.currency, 0.0) + cash - fee
    return pnl


def _average(c: SimContract, size: float, avg: float, add: float, price: float) -> float:
    """Entry price after adding to a position: harmonic for inverse futures (USD-weighted)."""
    if size == 0:
        return price
    a, b = abs(size), abs(add)
    if c.is_inverse and not c.is_option:
        return (a + b) / (a / avg + b / price)
    return (a * avg + b * price) / (a + b)


def position_upl(c: SimContract, pos: PositionState, mark: float) -> float:
    return closed_pnl(c, pos.size, pos.average_price, mark)


def position_margin(c: SimContract, size: float, row: MarkRow) -> tuple[float, float]:
    """(IM, MM) of a position of ``size`` in the contract's settlement currency."""
    if size == 0:
        return 0.0, 0.0
    if c.is_option:
        if size > 0:
            return 0.0, 0.0
        im, mm = short_option_margin(c.is_call, c.strike_usd, row.underlying_usd, row.mark_price)
        return im * -size, mm * -size
    coin = abs(position_coin(c.instrument, size, row.mark_price))
    if c.dialect is Dialect.BINANCE_USDM:
        tier_im, tier_mm = tiered_margin(coin * row.mark_price, BINANCE_TIERS)
        return float(tier_im), float(tier_mm)
    im_rate, mm_rate = future_margin_rates(coin, c.underlying)
    notional = coin if c.is_inverse else coin * row.mark_price
    return im_rate * notional, mm_rate * notional


def order_margin(o: OpenOrderMargin, row: MarkRow) -> float:
    """Initial margin an open order reserves: premium for option buys, IM otherwise."""
    c = o.contract
    if c.is_option and o.is_buy:
        return o.remaining * o.price
    if c.is_option:
        return position_margin(c, -o.remaining, row)[0]
    return position_margin(c, o.remaining, MarkRow(o.price, row.index_usd, o.price))[0]


def value(
    acc: AccountState,
    currency: str,
    contracts: Mapping[str, SimContract],
    marks: Mapping[str, MarkRow],
    open_orders: Iterable[OpenOrderMargin] = (),
) -> Valuation:
    """Valuation of ``acc`` in ``currency`` at ``marks``."""
    opt_value = opt_upl = fut_upl = im = mm = 0.0
    delta = o_delta = o_gamma = o_vega = o_theta = 0.0
    for name, pos in acc.positions.items():
        c = contracts[name]
        if c.currency != currency or pos.size == 0 or name not in marks:
            continue
        row = marks[name]
        p_im, p_mm = position_margin(c, pos.size, row)
        im, mm = im + p_im, mm + p_mm
        if c.is_option:
            opt_value += pos.size * row.mark_price
            opt_upl += position_upl(c, pos, row.mark_price)
            delta += pos.size * net_delta(c, row)
            o_delta += pos.size * row.delta
            o_gamma += pos.size * (row.gamma or 0.0)
            o_vega += pos.size * (row.vega_usd_per_volpt or 0.0)
            o_theta += pos.size * (row.theta_usd_per_day or 0.0)
        else:
            fut_upl += position_upl(c, pos, row.mark_price)
            delta += position_coin(c.instrument, pos.size, row.mark_price)
    oo = sum(
        order_margin(o, marks[o.contract.instrument_name])
        for o in open_orders
        if o.contract.currency == currency and o.contract.instrument_name in marks
    )
    return Valuation(
        balance=acc.balances.get(currency, 0.0),
        options_value=opt_value,
        options_upl=opt_upl,
        futures_upl=fut_upl,
        initial_margin=im + oo,
        maintenance_margin=mm,
        open_orders_margin=oo,
        delta_total=delta,
        options_delta=o_delta,
        options_gamma=o_gamma,
        options_vega=o_vega,
        options_theta=o_theta,
    )
