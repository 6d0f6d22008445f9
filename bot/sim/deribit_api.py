"""Deribit v2 HTTP facade over :class:`SimExchange`: routes, JSON-RPC envelope, faults, admin.

Unmodified ccxt talks to this exactly as to www.deribit.com: ``GET
/api/v2/{public,private}/<method>?<query>`` with a ``deri-hmac-sha256`` header on
private calls. A JSON-RPC body on ``POST`` (to the method path or to ``/api/v2``)
is accepted too. Every answer carries Deribit's envelope; errors keep Deribit's
codes so ccxt raises the same exception classes as against the venue. Like
Deribit, an error answer has HTTP status 400 (ccxt keys off the code in the
body, not the status); an emulator bug is 500 with 11094 ``internal_server_error``.
``testnet`` is always true, so nothing mistakes the emulator for production.

Fault knobs (:mod:`bot.sim.faults`) are applied here, around the engine call,
and ``/_sim/*`` serves read-only state (plus the fault knobs) for tests. The
websocket API (:mod:`bot.sim.deribit_ws`) is served on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.sim.admin import add_admin_routes
from bot.sim.auth import MAX_CLOCK_SKEW_MS, authenticate
from bot.sim.deribit_params import Params
from bot.sim.deribit_private import PRIVATE_METHODS
from bot.sim.deribit_public import PUBLIC_METHODS
from bot.sim.deribit_rpc import (
    INTERNAL_SERVER_ERROR,
    METHOD_NOT_FOUND,
    dumps,
    envelope,
    internal_error,
    now_us,
    parse_request,
)
from bot.sim.deribit_ws import MIN_HEARTBEAT_S, DeribitWs, mount
from bot.sim.errors import SimError
from bot.sim.exchange import SimExchange
from bot.sim.faults import MARKET_DATA_METHODS, DropMode, FaultAction, Faults

_log = structlog.get_logger(__name__)

ERROR_STATUS = 400


class DeribitApi:
    """Request handling of one emulator; an aiohttp app is built around it by :func:`build_app`.

    ``auth_clock`` is the wall clock signed timestamps are checked against
    (clients sign with theirs), independent of the simulated exchange's clock;
    ``ws_push_clock`` the wall clock websocket channel intervals are counted on.
    """

    def __init__(
        self,
        exchange: SimExchange,
        faults: Faults,
        *,
        auth_clock: Clock | None = None,
        max_clock_skew_ms: int = MAX_CLOCK_SKEW_MS,
        ws_min_heartbeat_s: float = MIN_HEARTBEAT_S,
        ws_push_clock: Clock | None = None,
    ) -> None:
        self.exchange = exchange
        self.faults = faults
        self._auth_clock = auth_clock or SystemClock()
        self._max_skew_ms = max_clock_skew_ms
        self._released = asyncio.Event()
        self._last_market_data: dict[tuple[str, str], Any] = {}
        self.ws = DeribitWs(
            exchange,
            faults,
            auth_clock=self._auth_clock,
            max_skew_ms=max_clock_skew_ms,
            min_heartbeat_s=ws_min_heartbeat_s,
            push_clock=ws_push_clock,
        )

    def release_held(self) -> None:
        """End every request a drop or latency fault is holding (called when the server stops)."""
        self._released.set()

    # -- HTTP entry points ------------------------------------------------------------------

    async def handle_get(self, request: web.Request) -> web.StreamResponse:
        method = f"{request.match_info['scope']}/{request.match_info['name']}"
        params = {key: request.query[key] for key in request.query}
        return await self._serve(request, method, params, rpc_id=None, body="")

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        path_method = (
            f"{request.match_info['scope']}/{request.match_info['name']}"
            if "scope" in request.match_info
            else None
        )
        try:
            method, params, rpc_id = parse_request(body, path_method)
        except SimError as exc:
            return self._reply(now_us(), None, error=exc)
        params = {**{key: request.query[key] for key in request.query}, **params}
        return await self._serve(request, method, params, rpc_id=rpc_id, body=body)

    # -- one call ---------------------------------------------------------------------------

    async def _serve(
        self,
        request: web.Request,
        method: str,
        raw_params: dict[str, Any],
        *,
        rpc_id: Any,
        body: str,
    ) -> web.StreamResponse:
        us_in = now_us()
        delay_ms = self.faults.latency_ms(method)
        if delay_ms:
            with contextlib.suppress(TimeoutError):  # the normal end of the delay
                await asyncio.wait_for(self._released.wait(), delay_ms / 1000.0)
            if self._released.is_set():  # the server is stopping: do not start new work
                return await self._drop(request, DropMode.CLOSE)
        rule = self.faults.decide(method)
        if rule is not None and rule.action is FaultAction.ERROR:
            return self._reply(us_in, rpc_id, error=rule.as_error())
        if rule is not None and rule.action is FaultAction.DROP_BEFORE_SEEN:
            return await self._drop(request, rule.drop)
        result: Any = None
        error: SimError | None = None
        try:
            result = self._call(request, method, Params(raw_params), body)
        except SimError as exc:
            error = exc
        except Exception:
            _log.exception("sim_venue_internal_error", method=method)
            error = internal_error()
        if error is None and method in PRIVATE_METHODS and not method.startswith("private/get"):
            await self.ws.publish()  # the websocket sees an order's updates before its answer
        if rule is not None and rule.action is FaultAction.FILL_THEN_DROP:
            return await self._drop(request, rule.drop)
        return self._reply(us_in, rpc_id, result=result, error=error)

    def _call(self, request: web.Request, method: str, params: Params, body: str) -> Any:
        """Run ``method`` in the engine (or serve the knob's answer instead)."""
        if method in PUBLIC_METHODS:
            # Market data is remembered as last served, so freezing it replays what
            # the client saw last, exactly like a venue whose feed got stuck.
            key = (method, dumps(params.as_dict(), sort_keys=True))
            if self.faults.stale_marks(method) and key in self._last_market_data:
                return self._last_market_data[key]
            result = PUBLIC_METHODS[method](self.exchange, params)
            if method in MARKET_DATA_METHODS:
                self._last_market_data[key] = result
            return result
        handler = PRIVATE_METHODS.get(method)
        if handler is None:
            raise SimError(METHOD_NOT_FOUND, "Method not found", {"method": method})
        account_id = self._authenticate(request, body)
        if self.faults.empty_positions(method):
            return []
        return handler(self.exchange, account_id, params)

    def _authenticate(self, request: web.Request, body: str) -> int:
        api_key = authenticate(
            request.headers.get("Authorization"),
            method=request.method,
            uri=request.raw_path,
            body=body,
            secret_for_key=self.exchange.api_secret_for_key,
            now_ms=self._auth_clock.now_ms(),
            max_skew_ms=self._max_skew_ms,
        )
        account_id = self.exchange.account_id_for_key(api_key)
        if account_id is None:  # a key with a secret but no account is an engine bug
            raise internal_error()
        return account_id

    async def _drop(self, request: web.Request, mode: DropMode) -> web.StreamResponse:
        """Never answer: hold the connection until the server stops, or close it now."""
        if mode is DropMode.HANG:
            await self._released.wait()
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)  # written to a closed transport: never seen

    def _reply(
        self,
        us_in: int,
        rpc_id: Any,
        *,
        result: Any = None,
        error: SimError | None = None,
    ) -> web.Response:
        status = 200 if error is None else ERROR_STATUS
        if error is not None and error.code == INTERNAL_SERVER_ERROR:
            status = 500
        answer = envelope(us_in, rpc_id, result=result, error=error)
        try:
            text = dumps(answer)
        except ValueError:  # NaN or infinity from the engine: a bug, not a venue answer
            _log.exception("sim_venue_unserialisable_result")
            return self._reply(us_in, rpc_id, error=internal_error())
        return web.Response(text=text, status=status, content_type="application/json")


def build_app(api: DeribitApi) -> web.Application:
    """The aiohttp application serving ``api``: Deribit routes plus ``/_sim`` admin."""
    app = web.Application()
    scope = "{scope:public|private}"
    app.router.add_get(f"/api/v2/{scope}/{{name}}", api.handle_get)
    app.router.add_post(f"/api/v2/{scope}/{{name}}", api.handle_post)
    app.router.add_post("/api/v2", api.handle_post)
    app.router.add_post("/api/v2/", api.handle_post)
    add_admin_routes(app, api.exchange, api.faults)
    mount(app, api.ws)
    return app
