"""Deribit websocket channels: what a subscription names, and what changed on the exchange.

:class:`Channel` parses a channel name (``ticker.BTC-PERPETUAL.100ms``,
``deribit_price_index.btc_usd``, ``user.changes.future.BTC.raw``,
``user.orders.BTC-PERPETUAL.raw``, ``user.trades.any.any.raw``,
``user.portfolio.btc``) and renders the data one subscriber gets from a batch of
:class:`Change` s. :class:`ChangeFeed` diffs the exchange against what it last
pushed (index prices, tickers, orders, trades, positions, portfolios), reading
only what is new: a cursor over the order and trade logs plus the orders still
open. Data shapes are Deribit's (the REST views of the same objects). A ``raw``
channel gets every change as it is seen; a ``100ms`` or ``agg2`` one is
aggregated as Deribit does (:class:`Held`): at most one push per interval, with
the latest state of each thing and every trade of the interval.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.sim.deribit_params import to_json
from bot.sim.errors import SimError
from bot.sim.exchange import SimExchange

INVALID_PARAMS = -32602
INTERVAL_MS = {"raw": 0, "100ms": 100, "agg2": 100}
"""Each subscription interval's aggregation period (0: none). Deribit documents ``agg2`` as
aggregated without stating its period: the emulator gives it 100 ms."""
KINDS = frozenset({"future", "option", "spot", "future_combo", "option_combo", "combo", "any"})


class Topic(StrEnum):
    """What a change is about; a channel listens to one topic or, ``user.changes``, three."""

    INDEX = "index"
    TICKER = "ticker"
    ORDERS = "orders"
    TRADES = "trades"
    POSITIONS = "positions"
    PORTFOLIO = "portfolio"


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that changed: ``key`` is the index name, instrument or currency it is about;
    private changes carry their account and the instrument's kind and currency."""

    topic: Topic
    key: str
    data: Any
    account_id: int | None = None
    kind: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A parsed channel name; ``instrument`` or (``kind``, ``currency``) scope a user channel."""

    name: str
    topics: frozenset[Topic]
    key: str | None = None
    instrument: str | None = None
    kind: str | None = None
    currency: str | None = None
    interval_ms: int = 0
    """How long changes are aggregated before a push (0: ``raw``, each change at once)."""

    @property
    def private(self) -> bool:
        """User channels need an authenticated connection."""
        return self.name.startswith("user.")

    @classmethod
    def parse(cls, name: str) -> Channel:
        """The channel ``name`` names; -32602 invalid params for one the emulator does not serve."""
        parts = name.split(".") if isinstance(name, str) else []
        head = parts[0] if parts else ""
        if head == "deribit_price_index" and len(parts) == 2:
            return cls(name, frozenset({Topic.INDEX}), key=parts[1].lower())
        interval_ms = INTERVAL_MS.get(parts[-1]) if parts else None
        if head == "ticker" and len(parts) == 3 and interval_ms is not None:
            return cls(name, frozenset({Topic.TICKER}), key=parts[1], interval_ms=interval_ms)
        if head == "user" and len(parts) == 3 and parts[1] == "portfolio":
            return cls(name, frozenset({Topic.PORTFOLIO}), key=parts[2].upper())
        if head == "user" and len(parts) in (4, 5) and interval_ms is not None:
            topics = _USER_TOPICS.get(parts[1])
            if topics is not None and len(parts) == 4:
                return cls(name, topics, instrument=parts[2], interval_ms=interval_ms)
            if topics is not None and parts[2] in KINDS:
                currency = None if parts[3] == "any" else parts[3].upper()
                kind = None if parts[2] == "any" else parts[2]
                return cls(name, topics, kind=kind, currency=currency, interval_ms=interval_ms)
        raise SimError(INVALID_PARAMS, "Invalid params", {"reason": f"unknown channel {name!r}"})

    def wants(self, change: Change, account_id: int | None) -> bool:
        """Whether this channel's subscriber (logged in as ``account_id``) gets ``change``."""
        if change.topic not in self.topics:
            return False
        if change.account_id is not None and change.account_id != account_id:
            return False
        if self.key is not None:
            return change.key == self.key
        if self.instrument is not None:
            return change.key == self.instrument
        return self.kind in (None, change.kind) and self.currency in (None, change.currency)

    def render(self, changes: Iterable[Change]) -> list[Any]:
        """The notifications' ``data`` for this channel, in Deribit's shapes: one per index,
        ticker, portfolio or order (an aggregated orders channel: one list of them); one
        list of trades; one ``user.changes`` object per instrument (its orders, trades and
        positions together)."""
        mine = list(changes)
        if self.topics == {Topic.ORDERS} and self.interval_ms:
            return [[c.data for c in mine]] if mine else []
        if Topic.POSITIONS in self.topics:  # user.changes
            grouped: dict[str, dict[str, Any]] = {}
            for c in mine:
                entry = grouped.setdefault(
                    c.key, {"instrument_name": c.key, "orders": [], "trades": [], "positions": []}
                )
                entry[str(c.topic)].append(c.data)
            return list(grouped.values())
        if self.topics == {Topic.TRADES}:
            return [[c.data for c in mine]] if mine else []
        return [c.data for c in mine]


@dataclass(slots=True)
class Held:
    """What an aggregated channel holds until ``due_ms``, the end of the interval its first
    change fell in: the latest state of each index, ticker, portfolio, order and position,
    and every trade (a trade is an event, not a state)."""

    due_ms: int
    changes: dict[tuple[Topic, str, int | None, str | None], Change] = field(default_factory=dict)

    @classmethod
    def starting(cls, now_ms: int, interval_ms: int) -> Held:
        """Held changes of the interval ``now_ms`` falls in (intervals aligned on 0)."""
        return cls((now_ms // interval_ms + 1) * interval_ms)

    def add(self, changes: Iterable[Change]) -> None:
        """Keep ``changes``, each replacing an older state of the same thing."""
        for c in changes:
            ident = None
            if c.topic in (Topic.ORDERS, Topic.TRADES):
                ident = str(c.data["order_id" if c.topic is Topic.ORDERS else "trade_id"])
            slot = (c.topic, c.key, c.account_id, ident)
            self.changes.pop(slot, None)
            self.changes[slot] = c  # the latest, in the order last changed


_USER_TOPICS = {
    "orders": frozenset({Topic.ORDERS}),
    "trades": frozenset({Topic.TRADES}),
    "changes": frozenset({Topic.ORDERS, Topic.TRADES, Topic.POSITIONS}),
}


class ChangeFeed:
    """What changed on one exchange since the last :meth:`changes`; starts from now (a
    subscriber gets changes, not history, as on Deribit)."""

    def __init__(self, exchange: SimExchange) -> None:
        self._exchange = exchange
        self._orders_seen, orders = exchange.orders_after(0)
        self._trades_seen, _ = exchange.trades_after(0)
        self._open = {v.order_id: to_json(v) for _, v in orders if v.order_state == "open"}
        self._last: dict[tuple[Topic, str, int | None], Any] = {}
        self._market_changes((), ())  # the index as it is now: later moves are changes

    def prime(self, tickers: Iterable[str], accounts: Iterable[int]) -> None:
        """Take ``tickers`` and the portfolios of ``accounts`` as they are now (a new
        subscription): the next push is their next change."""
        self._market_changes(tickers, accounts)

    def changes(self, tickers: Iterable[str], accounts: Iterable[int]) -> list[Change]:
        """Index moves, ``tickers`` that moved, every account's order/trade/position changes
        and the portfolios of ``accounts`` (those with a subscriber) that changed."""
        market = self._market_changes(tickers, ())
        return market + self._account_changes() + self._market_changes((), accounts)

    def _market_changes(self, tickers: Iterable[str], accounts: Iterable[int]) -> list[Change]:
        ex = self._exchange
        out = [
            Change(Topic.INDEX, name, {"index_name": name, "price": price, "timestamp": now})
            for now in (ex.time_ms(),)
            for name, price in ex.index_prices().items()
            if self._moved(Topic.INDEX, name, None, price)
        ]
        for name in sorted(set(tickers)):
            try:
                ticker = to_json(ex.ticker(name))
            except SimError:  # expired since the subscription: nothing more to push
                continue
            moved = {k: v for k, v in ticker.items() if k != "timestamp"}
            if self._moved(Topic.TICKER, name, None, moved):
                out.append(Change(Topic.TICKER, name, ticker))
        for account_id in sorted(set(accounts)):
            for currency in ex.spec.currencies:
                summary = to_json(ex.account_summary(account_id, currency))
                if self._moved(Topic.PORTFOLIO, currency, account_id, summary):
                    out.append(Change(Topic.PORTFOLIO, currency, summary, account_id))
        return out

    def _moved(self, topic: Topic, key: str, account_id: int | None, value: Any) -> bool:
        """Whether ``value`` differs from what was last seen; remembers it."""
        slot = (topic, key, account_id)
        if self._last.get(slot) == value:
            return False
        self._last[slot] = value
        return True

    def _account_changes(self) -> list[Change]:
        ex = self._exchange
        self._orders_seen, new_orders = ex.orders_after(self._orders_seen)
        orders = ex.orders_now(self._open) + new_orders
        self._trades_seen, trades = ex.trades_after(self._trades_seen)
        out: list[Change] = []
        for account_id, view in orders:
            data = to_json(view)
            if self._open.get(view.order_id) != data:
                out.append(self._private(Topic.ORDERS, account_id, view.instrument_name, data))
            if view.order_state == "open":
                self._open[view.order_id] = data
            else:
                self._open.pop(view.order_id, None)
        traded: dict[int, set[str]] = {}
        for account_id, trade in trades:
            traded.setdefault(account_id, set()).add(trade.instrument_name)
            out.append(
                self._private(Topic.TRADES, account_id, trade.instrument_name, to_json(trade))
            )
        for account_id, names in sorted(traded.items()):
            for position in ex.positions_on(account_id, sorted(names)):
                data = to_json(position)
                out.append(
                    self._private(Topic.POSITIONS, account_id, position.instrument_name, data)
                )
        return out

    def _private(self, topic: Topic, account_id: int, instrument: str, data: Any) -> Change:
        kind, currency = self._exchange.instrument_scope(instrument)
        return Change(topic, instrument, data, account_id, kind, currency)
