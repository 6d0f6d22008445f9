"""Deribit v2 over websocket (``/ws/api/v2``): JSON-RPC requests, logins, subscriptions, pushes.

Unmodified ``ccxt.pro.deribit`` talks to this exactly as to
``wss://www.deribit.com/ws/api/v2``. A connection logs in with ``public/auth``
(``client_credentials``, the HMAC ``client_signature`` flow or
``refresh_token``, the same keys as REST); the login belongs to the connection,
so ``private/subscribe`` and ``private/*`` calls on it act for that account.
``public/set_heartbeat`` makes the emulator send ``test_request`` every
interval and close a connection that stayed silent through a whole interval,
as Deribit does. Any other ``public/*`` or ``private/*`` method is served as
over HTTP.

Pushes: :meth:`DeribitWs.publish` diffs the exchange (:mod:`bot.sim.deribit_channels`)
and sends every subscriber the changes its channels select, as
``{"method": "subscription", "params": {"channel", "data"}}``: a ``raw`` channel
at once, a ``100ms`` or ``agg2`` one once its interval ends on ``push_clock``
(the wall clock; tests inject a manual one), with the interval's latest state. It runs every
``push_interval_ms`` of wall time while anyone subscribes, and at once after
every private HTTP or websocket call that is not a read (an order's own
updates are pushed before its HTTP answer is written). Each connection has one
writer task: the delay, reorder and drop knobs (:mod:`bot.sim.faults`) act
there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from bot.clock import Clock, SystemClock
from bot.sim.auth import INVALID_CREDENTIALS, signature
from bot.sim.deribit_channels import INVALID_PARAMS, Change, ChangeFeed, Channel, Held, Topic
from bot.sim.deribit_params import Params
from bot.sim.deribit_private import PRIVATE_METHODS
from bot.sim.deribit_public import PUBLIC_METHODS
from bot.sim.deribit_rpc import (
    METHOD_NOT_FOUND,
    dumps,
    envelope,
    internal_error,
    now_us,
    parse_request,
)
from bot.sim.errors import UNAUTHORIZED, SimError, bad_param
from bot.sim.exchange import SimExchange
from bot.sim.faults import FaultAction, Faults

_log = structlog.get_logger(__name__)

WS_PATH = "/ws/api/v2"
PUSH_INTERVAL_MS = 2
"""How often (wall ms) the emulator looks for changes to push while anyone subscribes."""
MIN_HEARTBEAT_S = 10.0
"""Deribit's smallest ``public/set_heartbeat`` interval."""
TOKEN_LIFETIME_S = 31_536_000
VERSION = "1.2.26"
GRANT_TYPES = ("client_credentials", "client_signature", "refresh_token")


@dataclass(slots=True, eq=False)
class _Connection:
    """One websocket client: its login, subscriptions, heartbeat and outbound queue."""

    ws: web.WebSocketResponse
    account_id: int | None = None
    channels: dict[str, Channel] = field(default_factory=dict)
    heartbeat_s: float | None = None
    heard: bool = True
    """Whether the client sent anything since the last ``test_request``."""
    outbox: asyncio.Queue[tuple[float, str]] = field(default_factory=asyncio.Queue)
    held: dict[str, Held] = field(default_factory=dict)
    """Changes each aggregated channel holds until its interval ends, by channel name."""


class DeribitWs:
    """The websocket side of one Deribit emulator (mounted by :func:`mount`)."""

    def __init__(
        self,
        exchange: SimExchange,
        faults: Faults,
        *,
        auth_clock: Clock,
        max_skew_ms: int,
        push_interval_ms: int = PUSH_INTERVAL_MS,
        min_heartbeat_s: float = MIN_HEARTBEAT_S,
        push_clock: Clock | None = None,
    ) -> None:
        self.exchange = exchange
        self.faults = faults
        self._auth_clock = auth_clock
        self._push_clock = push_clock or SystemClock()
        self._max_skew_ms = max_skew_ms
        self._push_s = push_interval_ms / 1000.0
        self._min_heartbeat_s = min_heartbeat_s
        self._feed: ChangeFeed | None = None
        self._connections: set[_Connection] = set()
        self._refresh_tokens: dict[str, int] = {}
        self._pump: asyncio.Task[None] | None = None
        self._publishing = asyncio.Lock()
        self._session: dict[str, Callable[[_Connection, Params], Any]] = {
            "public/auth": self._login,
            "public/subscribe": partial(self._subscribe, private=False),
            "private/subscribe": partial(self._subscribe, private=True),
            "public/unsubscribe": self._unsubscribe,
            "private/unsubscribe": self._unsubscribe,
            "public/unsubscribe_all": self._unsubscribe_all,
            "private/unsubscribe_all": self._unsubscribe_all,
            "public/set_heartbeat": self._set_heartbeat,
            "public/disable_heartbeat": self._disable_heartbeat,
            "public/test": self._test,
            "public/hello": self._test,
        }
        """The methods about the connection itself (login, subscriptions, heartbeat)."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, _app: web.Application) -> None:
        """Start the push loop (an aiohttp ``on_startup`` hook)."""
        self._feed = ChangeFeed(self.exchange)
        self._pump = asyncio.create_task(self._push_loop(), name="sim-ws-push")

    async def close(self, _app: web.Application | None = None) -> None:
        """Stop pushing and close every connection (``on_shutdown``: before aiohttp waits)."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        await self.disconnect_all()

    async def disconnect_all(self) -> None:
        """Close every websocket (the drop-connection knob; the server stopping)."""
        for conn in list(self._connections):
            await conn.ws.close()

    # -- one connection -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one websocket connection until either side closes it."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        tasks = [
            asyncio.create_task(self._writer(conn), name="sim-ws-writer"),
            asyncio.create_task(self._heartbeat(conn), name="sim-ws-heartbeat"),
        ]
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                conn.heard = True
                if not await self._request(conn, message.data):
                    break
        finally:
            self._connections.discard(conn)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ws.close()
        return ws

    async def _request(self, conn: _Connection, text: str) -> bool:
        """Answer one JSON-RPC request; False when a drop rule closes the connection."""
        us_in = now_us()
        rpc_id: Any = None
        try:
            method, params, rpc_id = parse_request(text, None)
        except SimError as exc:
            self._queue(conn, envelope(us_in, rpc_id, error=exc))
            return True
        rule = self.faults.decide(method)
        if rule is not None and rule.action is not FaultAction.ERROR:
            return False  # lost on the way: Deribit's side of a dropped connection
        result: Any = None
        error: SimError | None = rule.as_error() if rule is not None else None
        if error is None and method.endswith("/subscribe"):
            await self.publish()  # older changes go to the older subscribers, not this one
        if error is None:
            try:
                result = self._call(conn, method, Params(params))
            except SimError as exc:
                error = exc
            except Exception:
                _log.exception("sim_ws_internal_error", method=method)
                error = internal_error()
        if error is None and method.startswith("private/") and not method.startswith("private/get"):
            await self.publish()  # the call's own updates go out before its answer
        self._queue(conn, envelope(us_in, rpc_id, result=result, error=error))
        return True

    def _call(self, conn: _Connection, method: str, params: Params) -> Any:
        session = self._session.get(method)
        if session is not None:
            return session(conn, params)
        if method in PUBLIC_METHODS:
            return PUBLIC_METHODS[method](self.exchange, params)
        handler = PRIVATE_METHODS.get(method)
        if handler is None:
            raise SimError(METHOD_NOT_FOUND, "Method not found", {"method": method})
        return handler(self.exchange, self._account(conn), params)

    def _unsubscribe(self, conn: _Connection, params: Params) -> list[str]:
        names = _channel_names(params)
        for name in names:
            conn.held.pop(name, None)
        return [name for name in names if conn.channels.pop(name, None)]

    def _unsubscribe_all(self, conn: _Connection, _params: Params) -> str:
        conn.channels.clear()
        conn.held.clear()
        return "ok"

    def _set_heartbeat(self, conn: _Connection, params: Params) -> str:
        interval_s = params.number("interval")
        if interval_s < self._min_heartbeat_s:
            raise SimError(
                INVALID_PARAMS,
                "Invalid params",
                {"param": "interval", "reason": f"must be >= {self._min_heartbeat_s:g}"},
            )
        conn.heartbeat_s = interval_s
        return "ok"

    def _disable_heartbeat(self, conn: _Connection, _params: Params) -> str:
        conn.heartbeat_s = None
        return "ok"

    def _test(self, _conn: _Connection, _params: Params) -> dict[str, str]:
        return {"version": VERSION}

    def _account(self, conn: _Connection) -> int:
        if conn.account_id is None:
            raise SimError(UNAUTHORIZED, "unauthorized", {"reason": "log in with public/auth"})
        return conn.account_id

    def _login(self, conn: _Connection, params: Params) -> dict[str, Any]:
        """``public/auth``: the three grant types Deribit offers an API key."""
        grant = params.choice("grant_type", GRANT_TYPES)
        if grant is None:
            raise bad_param("grant_type", "value required")
        if grant == "refresh_token":
            account_id = self._refresh_tokens.get(params.text("refresh_token"))
            if account_id is None:
                raise SimError(
                    INVALID_CREDENTIALS, "invalid_credentials", {"reason": "unknown token"}
                )
        else:
            client_id = params.text("client_id")
            secret = self.exchange.api_secret_for_key(client_id)
            found = self.exchange.account_id_for_key(client_id)
            if secret is None or found is None:
                raise SimError(
                    INVALID_CREDENTIALS, "invalid_credentials", {"reason": "unknown client id"}
                )
            if grant == "client_credentials":
                ok = hmac.compare_digest(params.text("client_secret"), secret)
            else:
                ok = self._signed(params, secret)
            if not ok:
                raise SimError(
                    INVALID_CREDENTIALS,
                    "invalid_credentials",
                    {"reason": "bad secret or signature"},
                )
            account_id = found
        conn.account_id = account_id
        refresh = secrets.token_hex(16)
        self._refresh_tokens[refresh] = account_id
        return {
            "access_token": secrets.token_hex(16),
            "refresh_token": refresh,
            "expires_in": TOKEN_LIFETIME_S,
            "scope": "connection mainaccount trade:read_write wallet:read_write account:read",
            "token_type": "bearer",
        }

    def _signed(self, params: Params, secret: str) -> bool:
        """Deribit's ``client_signature``: HMAC-SHA256 of ``timestamp\\nnonce\\ndata``."""
        ts_ms = params.integer("timestamp")
        if abs(self._auth_clock.now_ms() - ts_ms) > self._max_skew_ms:
            raise SimError(UNAUTHORIZED, "unauthorized", {"reason": "timestamp too far from now"})
        nonce, data = params.text("nonce"), params.opt_text("data") or ""
        expected = signature(secret, ts_ms, nonce, data)
        return hmac.compare_digest(expected, params.text("signature").lower())

    def _subscribe(self, conn: _Connection, params: Params, *, private: bool) -> list[str]:
        """Subscribe to every channel named; all or nothing, so a bad name changes nothing."""
        parsed = [Channel.parse(name) for name in _channel_names(params)]
        for channel in parsed:
            if channel.private and not private:
                raise SimError(
                    INVALID_PARAMS,
                    "Invalid params",
                    {"reason": f"{channel.name} needs private/subscribe"},
                )
            if channel.private:
                self._account(conn)
        if self._feed is not None:
            tickers = [ch.key for ch in parsed if Topic.TICKER in ch.topics and ch.key]
            wants_portfolio = any(Topic.PORTFOLIO in ch.topics for ch in parsed)
            accounts = [conn.account_id] if wants_portfolio and conn.account_id else []
            self._feed.prime(tickers, accounts)
        for channel in parsed:
            conn.channels[channel.name] = channel
        return [channel.name for channel in parsed]

    # -- pushes -------------------------------------------------------------------------------

    async def publish(self) -> None:
        """Push what changed since the last push to every subscriber that wants it."""
        if self.faults.take_ws_disconnect():
            await self.disconnect_all()
            return
        if self._feed is None or not any(c.channels for c in self._connections):
            return
        async with self._publishing:
            tickers = {
                ch.key
                for c in self._connections
                for ch in c.channels.values()
                if Topic.TICKER in ch.topics and ch.key is not None
            }
            accounts = {
                c.account_id
                for c in self._connections
                if c.account_id is not None
                and any(Topic.PORTFOLIO in ch.topics for ch in c.channels.values())
            }
            changes = self._feed.changes(tickers, {a for a in accounts if a is not None})
            if not changes and not any(c.held for c in self._connections):
                return
            now_ms = self._push_clock.now_ms()
            for conn in self._connections:
                for channel in conn.channels.values():
                    if self.faults.ws_stalled(channel.name):
                        continue
                    wanted = [c for c in changes if channel.wants(c, conn.account_id)]
                    for data in _due(conn, channel, wanted, now_ms):
                        if self.faults.take_ws_drop():
                            continue
                        note = {
                            "jsonrpc": "2.0",
                            "method": "subscription",
                            "params": {"channel": channel.name, "data": data},
                        }
                        self._queue(conn, note, push=True)

    async def _push_loop(self) -> None:
        while True:
            await asyncio.sleep(self._push_s)
            try:
                await self.publish()
            except Exception:  # a push bug must not stop the pushes that work
                _log.exception("sim_ws_push_failed")

    def _queue(self, conn: _Connection, message: dict[str, Any], *, push: bool = False) -> None:
        """Send ``message`` after the connection's earlier ones; a push waits ``ws_delay_ms``."""
        delay_ms = self.faults.ws_delay_ms if push else 0
        due = time.monotonic() + delay_ms / 1000.0
        conn.outbox.put_nowait((due, dumps(message)))

    async def _writer(self, conn: _Connection) -> None:
        """Send the connection's messages in order, each at its due time; under the reorder
        knob a message waits for the next one and goes out after it."""
        held: str | None = None
        while True:
            due, text = await conn.outbox.get()
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.faults.ws_reorder and held is None and _is_push(text):
                held = text
                continue
            await conn.ws.send_str(text)
            if held is not None:
                await conn.ws.send_str(held)
                held = None

    async def _heartbeat(self, conn: _Connection) -> None:
        """Deribit's heartbeat: a ``test_request`` every interval; silence through a whole
        interval closes the connection."""
        while True:
            interval_s = conn.heartbeat_s
            await asyncio.sleep(interval_s or self._min_heartbeat_s)
            if interval_s is None or conn.heartbeat_s is None:
                continue
            if not conn.heard:
                await conn.ws.close()
                return
            conn.heard = False
            self._queue(
                conn, {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
            )


def mount(app: web.Application, stream: DeribitWs) -> None:
    """Serve ``stream`` at ``/ws/api/v2`` on ``app``, pushing while the app runs."""
    app.router.add_get(WS_PATH, stream.handle)
    app.on_startup.append(stream.start)
    app.on_shutdown.append(stream.close)


def _due(conn: _Connection, channel: Channel, wanted: list[Change], now_ms: int) -> list[Any]:
    """What ``channel`` pushes now: ``wanted`` at once when ``raw``; else nothing until the
    interval ends, then one push of what it held (Deribit's aggregation)."""
    if not channel.interval_ms:
        return channel.render(wanted)
    held = conn.held.get(channel.name)
    if wanted:
        if held is None:
            held = conn.held[channel.name] = Held.starting(now_ms, channel.interval_ms)
        held.add(wanted)
    if held is None or now_ms < held.due_ms:
        return []
    del conn.held[channel.name]
    return channel.render(held.changes.values())


def _channel_names(params: Params) -> list[str]:
    raw = params.as_dict().get("channels")
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        raise SimError(
            INVALID_PARAMS, "Invalid params", {"param": "channels", "reason": "a list of names"}
        )
    return list(raw)


def _is_push(text: str) -> bool:
    return bool(json.loads(text).get("method") == "subscription")
