"""Synthetic order book around each mark, and walking it to fill an order.

The simulated venue has no other traders, so liquidity is a ladder of
``OrderBookSpec.levels`` price levels either side of the mark. The ladder is
rebuilt from the mark on every read: the sim models the cost of crossing a
spread and of walking depth, not queue position or market impact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.sim.contracts import SimContract
from bot.sim.spec import OrderBookSpec


@dataclass(frozen=True, slots=True)
class Level:
    """One price level: ``amount`` in the contract's amount unit."""

    price: float
    amount: float


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids best (highest) first, asks best (lowest) first."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    def top(self) -> tuple[Level | None, Level | None]:
        """The best bid and ask (None: that side is empty)."""
        return (self.bids[0] if self.bids else None), (self.asks[0] if self.asks else None)


def synthetic_book(c: SimContract, mark: float, spec: OrderBookSpec) -> OrderBook:
    """The ladder quoted around ``mark`` for ``c``, prices on the contract's ticks."""
    if c.is_option:
        return _option_book(c, mark, spec)
    return _future_book(c, mark, spec)


def best_levels(
    c: SimContract, mark: float, spec: OrderBookSpec
) -> tuple[Level | None, Level | None]:
    """The best bid and ask of :func:`synthetic_book` (None: that side is empty), without
    building an option's whole ladder: a ticker needs only its top."""
    if c.is_option:
        bid, ask = _option_top(c, mark, spec)
        amount = c.instrument.min_size * spec.option_depth_min_sizes
        return (Level(bid, amount) if bid > 0 and spec.levels > 0 else None), (
            Level(ask, amount) if spec.levels > 0 else None
        )
    return _future_book(c, mark, spec).top()


def _lots(amount: float, lot: float) -> float:
    return max(1, math.floor(amount / lot + 1e-9)) * lot


def _future_book(c: SimContract, mark: float, spec: OrderBookSpec) -> OrderBook:
    depth_coin = spec.future_depth_coin
    amount = _lots(depth_coin * mark if c.is_inverse else depth_coin, c.lot)
    bids, asks = [], []
    for i in range(spec.levels):
        off = mark * (spec.future_half_spread + i * spec.future_level_step)
        bids.append(Level(c.round_price(mark - off, up=False), amount))
        asks.append(Level(c.round_price(mark + off, up=True), amount))
    return OrderBook(_dedupe(bids), _dedupe(asks))


def _option_book(c: SimContract, mark: float, spec: OrderBookSpec) -> OrderBook:
    amount = c.instrument.min_size * spec.option_depth_min_sizes
    bids, asks = [], []
    bid, ask = _option_top(c, mark, spec)
    for _ in range(spec.levels):
        if bid > 0:
            bids.append(Level(bid, amount))
        asks.append(Level(ask, amount))
        bid = round(bid - spec.option_level_step_ticks * c.tick_at(bid), 10)
        ask = round(ask + spec.option_level_step_ticks * c.tick_at(ask), 10)
    return OrderBook(tuple(bids), tuple(asks))


def _option_top(c: SimContract, mark: float, spec: OrderBookSpec) -> tuple[float, float]:
    """An option's best bid and ask prices (the bid may be 0 or less: no bid)."""
    tick = c.tick_at(mark)
    half = max(mark * spec.option_half_spread, spec.option_min_half_spread_ticks * tick)
    bid = c.round_price(mark - half, up=False)
    ask = max(c.round_price(mark + half, up=True), c.instrument.tick_size)
    return bid, ask


def _dedupe(levels: list[Level]) -> tuple[Level, ...]:
    """Merge levels that rounded to the same tick (tiny spreads on coarse ticks)."""
    out: list[Level] = []
    for lv in levels:
        if out and out[-1].price == lv.price:
            out[-1] = Level(lv.price, out[-1].amount + lv.amount)
        else:
            out.append(lv)
    return tuple(out)


def walk(
    levels: tuple[Level, ...], amount: float, limit: float | None, is_buy: bool
) -> list[Level]:
    """Fills taking ``amount`` from ``levels`` (the opposite side) up to ``limit``.

    A buy takes asks priced at or below ``limit``, a sell bids at or above it;
    ``limit`` None (a market order) takes every level. Each fill is one level.
    """
    fills: list[Level] = []
    left = amount
    for lv in levels:
        if left <= 1e-12:
            break
        if limit is not None and (lv.price > limit if is_buy else lv.price < limit):
            break
        take = min(left, lv.amount)
        fills.append(Level(lv.price, round(take, 10)))
        left = round(left - take, 10)
    return fills
