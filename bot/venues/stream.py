"""A venue's event stream over ccxt.pro: index ticks and account changes, with reconnection.

The stream only tells the engine *that* something happened (an index moved, an
order or trade changed on the account); the engine decides whether to run a
cycle, and the cycle reads the venue over REST. So a lost, late, reordered or
duplicated message can delay a hedge, never make a wrong one.

Deribit: one connection logs in (ccxt.pro's ``client_signature`` flow), asks for
a heartbeat and subscribes to ``deribit_price_index.<u>_usd`` for each routed
underlying plus ``user.changes.any.any.raw`` (orders, trades and positions in
one message; ccxt.pro watches orders and trades but not positions, hence the
subclass below, which adds these channels and answers Deribit's
``test_request``). A dropped connection is reopened after a back-off that
doubles from ``reconnect_min_s`` to ``reconnect_max_s`` and resets once a
message arrives; every reconnection is reported so the engine reconciles over
REST before it trusts anything again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ccxt.pro as ccxtpro
import structlog

from bot.domain.ids import Currency, VenueId
from bot.venues.errors import describe

log = structlog.get_logger("deltabot.stream")

EVENTS = "deltabot.events"
"""ccxt message hash the subclass resolves with every index or account message."""
HEARTBEAT = "deltabot.heartbeat"
CHANGES = "user.changes.any.any.raw"
MIN_HEARTBEAT_S = 10
"""Deribit's smallest heartbeat interval."""


@dataclass(frozen=True, slots=True)
class IndexTick:
    """An index price the venue pushed, stamped with the venue's time."""

    venue: VenueId
    underlying: Currency
    index_usd: float
    ts_ms: int


@dataclass(frozen=True, slots=True)
class AccountChange:
    """Orders and trades of the account changed on one instrument (``labels``: the orders'
    client labels, empty for an order placed without one)."""

    venue: VenueId
    instrument: str
    order_ids: tuple[str, ...]
    labels: tuple[str, ...]
    trade_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StreamState:
    """The stream came up (``reconnect``: not for the first time) or went down (``reason``)."""

    venue: VenueId
    up: bool
    reconnect: bool = False
    reason: str = ""


StreamEvent = IndexTick | AccountChange | StreamState


class DeribitEvents(ccxtpro.deribit):  # type: ignore[misc]  # ccxt ships no type hints
    """ccxt.pro deribit plus the index and ``user.changes`` channels and heartbeat answers."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.deltabot_pending: list[dict[str, Any]] = []
        self.deltabot_heard_s = time.monotonic()
        self.deltabot_heartbeat_id: Any = None
        self.deltabot_sends: set[asyncio.Task[Any]] = set()

    async def watch_deltabot_events(
        self, underlyings: Sequence[str], heartbeat_s: int
    ) -> list[dict[str, Any]]:
        """The index and account messages since the last call (waits for one if none)."""
        if self.deltabot_pending:
            pending, self.deltabot_pending = self.deltabot_pending, []
            return pending
        url = self.urls["api"]["ws"]
        await self.authenticate()
        if HEARTBEAT not in self.client(url).subscriptions:  # once per connection
            self.deltabot_heartbeat_id = self.request_id()
            heartbeat = {
                "jsonrpc": "2.0",
                "id": self.deltabot_heartbeat_id,
                "method": "public/set_heartbeat",
                "params": {"interval": heartbeat_s},
            }
            await self.watch(url, HEARTBEAT, heartbeat, HEARTBEAT)
        channels = [f"deribit_price_index.{u.lower()}_usd" for u in underlyings]
        request = {
            "jsonrpc": "2.0",
            "id": self.request_id(),
            "method": "private/subscribe",
            "params": {"channels": [*channels, CHANGES]},
        }
        await self.watch(url, EVENTS, request, EVENTS)
        pending, self.deltabot_pending = self.deltabot_pending, []
        return pending

    def handle_message(self, client: Any, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if message.get("method") == "heartbeat":
            if (message.get("params") or {}).get("type") == "test_request":
                answer = {"jsonrpc": "2.0", "id": self.request_id(), "method": "public/test"}
                task = asyncio.ensure_future(client.send(answer))
                self.deltabot_sends.add(task)
                task.add_done_callback(self.deltabot_sends.discard)
            return
        if message.get("id") is not None and message.get("id") == self.deltabot_heartbeat_id:
            client.resolve(True, HEARTBEAT)
            return
        if CHANGES in (message.get("result") or ()):  # subscribed: the stream is up
            client.resolve(True, EVENTS)
            return
        channel = str((message.get("params") or {}).get("channel") or "")
        if channel.startswith(("deribit_price_index.", "user.changes.")):
            self.deltabot_heard_s = time.monotonic()
            self.deltabot_pending.append(message["params"])
            client.resolve(True, EVENTS)
            return
        if "error" in message:  # an answer refused (rate limit, auth): fail the watch
            client.reject(ccxtpro.ExchangeError(f"deribit {message['error']}"), EVENTS)
            return
        super().handle_message(client, message)


def parse_events(venue: VenueId, raw: Sequence[dict[str, Any]]) -> list[StreamEvent]:
    """Deribit channel messages as stream events; malformed ones are skipped and logged."""
    events: list[StreamEvent] = []
    for params in raw:
        channel, data = str(params.get("channel", "")), params.get("data")
        try:
            if channel.startswith("deribit_price_index.") and isinstance(data, dict):
                name = str(data["index_name"])
                underlying = Currency(name.removesuffix("_usd").upper())
                events.append(
                    IndexTick(venue, underlying, float(data["price"]), int(data["timestamp"]))
                )
            elif channel.startswith("user.changes.") and isinstance(data, dict):
                orders = [o for o in data.get("orders") or () if isinstance(o, dict)]
                trades = [t for t in data.get("trades") or () if isinstance(t, dict)]
                events.append(
                    AccountChange(
                        venue,
                        str(data["instrument_name"]),
                        tuple(str(o["order_id"]) for o in orders),
                        tuple(str(o.get("label") or "") for o in orders),
                        tuple(str(t["trade_id"]) for t in trades),
                    )
                )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("stream_message_malformed", venue=venue, channel=channel, error=str(exc))
    return events


class VenueStream:
    """One venue's event stream: :meth:`run` emits events until cancelled, reconnecting."""

    def __init__(
        self,
        venue: VenueId,
        client: DeribitEvents,
        underlyings: Sequence[Currency],
        *,
        heartbeat_s: int,
        reconnect_min_s: float,
        reconnect_max_s: float,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.venue = venue
        self._client = client
        self._underlyings = tuple(underlyings)
        self._heartbeat_s = max(MIN_HEARTBEAT_S, heartbeat_s)
        self._min_s, self._max_s = reconnect_min_s, reconnect_max_s
        self._sleep = sleep
        self.reconnects = 0

    def silent_s(self, now_s: float) -> float:
        """Wall seconds since the last index tick or account change. A live venue's index
        ticks every second or so; heartbeats keep the connection, not the data, alive, so a
        subscription stalled behind a healthy connection is silent too."""
        return max(0.0, now_s - self._client.deltabot_heard_s)

    async def run(self, emit: Callable[[StreamEvent], None]) -> None:
        """Stream until cancelled; each failure is reported, waited out and retried."""
        delay_s, up = self._min_s, False
        while True:
            try:
                raw = await self._client.watch_deltabot_events(self._underlyings, self._heartbeat_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if up:
                    emit(StreamState(self.venue, up=False, reason=describe(exc)))
                    log.warning("stream_down", venue=self.venue, reason=describe(exc))
                up = False
                await self._sleep(delay_s)
                delay_s = min(delay_s * 2, self._max_s)
                continue
            if not up:
                up, delay_s = True, self._min_s
                emit(StreamState(self.venue, up=True, reconnect=self.reconnects > 0))
                self.reconnects += 1
            for event in parse_events(self.venue, raw):
                emit(event)

    async def close(self) -> None:
        await self._client.close()
