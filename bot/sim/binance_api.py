"""Binance USDⓈ-M HTTP facade over :class:`SimExchange`: fapi routes, signing, weights, faults.

Unmodified ccxt ``binanceusdm`` talks to this exactly as to fapi.binance.com
once its ``urls['api']`` point here: ``/fapi/v1``, ``/fapi/v2`` and ``/fapi/v3``
paths and the wallet's ``/sapi/v1/capital`` withdraw and deposit endpoints (on the
exchange's withdrawal/deposit model, :mod:`bot.sim.wallet`), parameters in the
query (GET, DELETE) or a form body (POST, PUT),
``X-MBX-APIKEY`` plus an HMAC-SHA256 ``signature`` on private calls
(:mod:`bot.sim.binance_auth`). Every answer reports the weight used; limits
(:mod:`bot.sim.binance_limits`) answer 429 ``-1003``/``-1015`` with
``Retry-After``. Errors are ``{"code", "msg"}`` with Binance's codes
(:mod:`bot.sim.binance_errors`); an emulator bug is 500 ``-1000``.

Fault knobs (:mod:`bot.sim.faults`) name requests as ``"<HTTP method> <path>"``,
e.g. ``"POST /fapi/v1/order"`` or ``"GET /fapi/*"``; an error rule's ``code``
is a Binance code. ``/_sim/*`` serves the same read-only state and knobs as
the Deribit facade.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import structlog
from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.sim import binance_render as render
from bot.sim.admin import add_admin_routes
from bot.sim.binance_auth import api_key_of, verify
from bot.sim.binance_errors import (
    BAD_SYMBOL,
    DUPLICATED_CLIENT_ORDER_ID,
    INVALID_ORDER_TYPE,
    INVALID_PARAMETER,
    INVALID_QUANTITY,
    INVALID_SIDE,
    INVALID_TIF,
    MANDATORY_PARAM,
    MIN_NOTIONAL,
    NO_NEED_TO_CHANGE_MARGIN_TYPE,
    NO_SUCH_ORDER,
    UNKNOWN,
    BinanceError,
    binance_error,
    from_engine,
)
from bot.sim.binance_limits import Limits, RateMeter
from bot.sim.contracts import SimContract
from bot.sim.errors import SimError
from bot.sim.exchange import SimExchange, TimeInForce
from bot.sim.faults import DropMode, FaultAction, Faults
from bot.sim.views import OrderView

_log = structlog.get_logger(__name__)
_dumps = partial(json.dumps, allow_nan=False, separators=(",", ":"))
DEFAULT_LEVERAGE = 20
MAX_LEVERAGE = 125
_TIF: dict[str, TimeInForce] = {
    "GTC": "good_til_cancelled",
    "GTX": "good_til_cancelled",
    "IOC": "immediate_or_cancel",
    "FOK": "fill_or_kill",
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a handler sees it: parameters, the account (private calls), the time."""

    params: Mapping[str, str]
    account_id: int
    api_key: str

    def text(self, name: str) -> str:
        value = self.params.get(name, "")
        if not value:
            raise binance_error(MANDATORY_PARAM, name)
        return value

    def number(self, name: str) -> float:
        try:
            return float(self.text(name))
        except ValueError:
            raise binance_error(MANDATORY_PARAM, name) from None

    def int_or(self, name: str, default: int | None) -> int | None:
        raw = self.params.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError:
            raise binance_error(MANDATORY_PARAM, name) from None

    def flag(self, name: str) -> bool:
        return self.params.get(name, "false").lower() == "true"


Handler = Callable[["BinanceApi", Call], Any]


@dataclass(frozen=True, slots=True)
class Route:
    """What a path does: its handler, its request weight, and the key it needs."""

    handler: Handler
    weight: int
    auth: str = "none"
    """"none" (public), "key" (``X-MBX-APIKEY`` only: listenKey) or "signed"."""
    order: bool = False
    """Counts against the ORDERS limits (new orders only)."""


class BinanceApi:
    """Request handling of one Binance emulator; :func:`build_binance_app` wraps it."""

    def __init__(
        self,
        exchange: SimExchange,
        faults: Faults,
        *,
        auth_clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.exchange = exchange
        self.faults = faults
        self.meter = RateMeter(limits)
        self._auth_clock = auth_clock or SystemClock()
        self._released = asyncio.Event()
        self._leverage: dict[tuple[int, str], int] = {}
        self._withdraw_order_ids: dict[str, str] = {}
        """Our withdrawal id -> the client's ``withdrawOrderId``, echoed in the history."""
        self._last_market_data: dict[tuple[str, str], Any] = {}

    def release_held(self) -> None:
        """End every request a drop or latency fault is holding (called when the server stops)."""
        self._released.set()

    # -- HTTP ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Weigh, delay and fault the request as the knobs say, then run it."""
        method = f"{request.method} {request.path}"
        route = ROUTES.get((request.method, request.path))
        body = await request.text()
        if route is None:
            return _reply(web.HTTPNotFound.status_code, {"code": -5000, "msg": "Path not found"})
        now_ms = self._auth_clock.now_ms()
        try:
            used = self.meter.charge(now_ms, route.weight)
        except BinanceError as exc:
            return _error(exc)
        headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
        if not await self._delay(method):
            return await self._drop(request, DropMode.CLOSE)
        rule = self.faults.decide(method)
        if rule is not None and rule.action is FaultAction.ERROR:
            assert rule.code is not None
            return _error(binance_error(rule.code), headers)
        if rule is not None and rule.action is FaultAction.DROP_BEFORE_SEEN:
            return await self._drop(request, rule.drop)
        status, payload = self._run(request, route, method=method, body=body, headers=headers)
        if rule is not None and rule.action is FaultAction.FILL_THEN_DROP:
            return await self._drop(request, rule.drop)
        return _reply(status, payload, headers)

    def _run(
        self,
        request: web.Request,
        route: Route,
        *,
        method: str,
        body: str,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        """(HTTP status, JSON payload) of the request: its result or Binance's error."""
        try:
            return 200, self._call(request, route, method=method, body=body, headers=headers)
        except BinanceError as exc:
            if exc.retry_after_s is not None:
                headers["Retry-After"] = str(exc.retry_after_s)
            return exc.status, exc.body()
        except SimError as exc:
            error = from_engine(exc)
            return error.status, error.body()
        except Exception:
            _log.exception("sim_venue_internal_error", method=method)
            return 500, binance_error(UNKNOWN).body()

    async def _delay(self, method: str) -> bool:
        """Wait out the latency knob; False when the server stops meanwhile."""
        delay_ms = self.faults.latency_ms(method)
        if delay_ms:
            with contextlib.suppress(TimeoutError):  # the normal end of the delay
                await asyncio.wait_for(self._released.wait(), delay_ms / 1000.0)
        return not self._released.is_set()

    def _call(
        self,
        request: web.Request,
        route: Route,
        *,
        method: str,
        body: str,
        headers: dict[str, str],
    ) -> Any:
        """Authenticate as the route needs and run its handler."""
        now_ms = self._auth_clock.now_ms()
        if route.auth == "none":
            params = {k: request.query[k] for k in request.query}
            key = (method, _dumps(params, sort_keys=True))
            if self.faults.stale_marks(method) and key in self._last_market_data:
                return self._last_market_data[key]
            result = route.handler(self, Call(params, 0, ""))
            self._last_market_data[key] = result
            return result
        secret_for = self.exchange.api_secret_for_key
        if route.auth == "key":
            api_key = api_key_of(request.headers, secret_for)
            params = {k: request.query[k] for k in request.query}
        else:
            query = request.query_string
            api_key, params = verify(
                request.headers, query, body, secret_for_key=secret_for, now_ms=now_ms
            )
        account_id = self.exchange.account_id_for_key(api_key)
        if account_id is None:
            raise binance_error(UNKNOWN, status=500)
        if route.order:
            headers["X-MBX-ORDER-COUNT-1M"] = str(self.meter.count_order(now_ms, api_key))
        if self.faults.empty_positions(method):
            return []
        return route.handler(self, Call(params, account_id, api_key))

    async def _drop(self, request: web.Request, mode: DropMode) -> web.StreamResponse:
        if mode is DropMode.HANG:
            await self._released.wait()
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)

    # -- helpers ---------------------------------------------------------------------------

    def contract(self, symbol: str) -> SimContract:
        try:
            c, _ = self.exchange.contract_marks(symbol)
        except SimError:
            raise binance_error(BAD_SYMBOL) from None
        return c

    def leverage(self, account_id: int, symbol: str) -> int:
        return self._leverage.get((account_id, symbol), DEFAULT_LEVERAGE)

    def find(self, call: Call, c: SimContract) -> OrderView:
        """The order ``orderId`` or ``origClientOrderId`` names (``-2013`` if none)."""
        order_id = call.int_or("orderId", None)
        client_id = call.params.get("origClientOrderId")
        if order_id is not None:
            try:
                o = self.exchange.order_state(call.account_id, f"{c.currency}-{order_id}")
            except SimError:
                raise binance_error(NO_SUCH_ORDER) from None
            if o.instrument_name == c.instrument_name:
                return o
        elif client_id:
            found = self.exchange.orders_by_label(call.account_id, c.currency, client_id)
            mine = [o for o in found if o.instrument_name == c.instrument_name]
            if mine:
                return mine[-1]
        else:
            raise binance_error(MANDATORY_PARAM, "orderId")
        raise binance_error(NO_SUCH_ORDER)


def _reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    try:
        text = _dumps(payload)
    except ValueError:  # NaN from the engine: a bug, not a venue answer
        _log.exception("sim_venue_unserialisable_result")
        status, text = 500, _dumps(binance_error(UNKNOWN).body())
    return web.Response(
        text=text, status=status, content_type="application/json", headers=dict(headers or {})
    )


def _error(exc: BinanceError, headers: Mapping[str, str] | None = None) -> web.Response:
    extra = dict(headers or {})
    if exc.retry_after_s is not None:
        extra["Retry-After"] = str(exc.retry_after_s)
    return _reply(exc.status, exc.body(), extra)


# -- public market data -------------------------------------------------------------------


def _time(api: BinanceApi, call: Call) -> Any:
    return {"serverTime": api.exchange.time_ms()}


def _exchange_info(api: BinanceApi, call: Call) -> Any:
    listed = api.exchange.live_contracts()
    return {
        "timezone": "UTC",
        "serverTime": api.exchange.time_ms(),
        "futuresType": "U_MARGINED",
        "rateLimits": api.meter.limits.rate_limits(),
        "exchangeFilters": [],
        "assets": [
            {"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"}
            for a in api.exchange.spec.currencies
        ],
        "symbols": [render.symbol_info(c) for c, _ in listed],
    }


def _each(api: BinanceApi, call: Call, one: Callable[[str], Any]) -> Any:
    """One object for ``symbol``, else a list over every listed symbol (Binance's rule)."""
    symbol = call.params.get("symbol")
    if symbol:
        api.contract(symbol)
        return one(symbol)
    return [one(c.instrument_name) for c, _ in api.exchange.live_contracts()]


def _premium_index(api: BinanceApi, call: Call) -> Any:
    def one(symbol: str) -> Any:
        c, row, _, _, now = api.exchange.quote(symbol)
        return render.premium_index(c, row, now)

    return _each(api, call, one)


def _book_ticker(api: BinanceApi, call: Call) -> Any:
    def one(symbol: str) -> Any:
        c, _, book, _, now = api.exchange.quote(symbol)
        return render.book_ticker(c, book, now)

    return _each(api, call, one)


def _ticker_24h(api: BinanceApi, call: Call) -> Any:
    def one(symbol: str) -> Any:
        c, row, _, activity, now = api.exchange.quote(symbol)
        return render.ticker_24h(c, row, activity.last_price, activity.volume_24h, now)

    return _each(api, call, one)


def _depth(api: BinanceApi, call: Call) -> Any:
    c = api.contract(call.text("symbol"))
    limit = call.int_or("limit", 500) or 500
    _, _, book, _, now = api.exchange.quote(c.instrument_name)
    return render.depth(c, book, limit, now)


# -- trading ------------------------------------------------------------------------------


def _new_order(api: BinanceApi, call: Call) -> Any:
    c = api.contract(call.text("symbol"))
    side = call.text("side")
    if side not in ("BUY", "SELL"):
        raise binance_error(INVALID_SIDE)
    kind = call.text("type")
    if kind not in render.ORDER_TYPES:
        raise binance_error(INVALID_ORDER_TYPE)
    quantity = call.number("quantity")
    if quantity <= 0:
        raise binance_error(INVALID_QUANTITY)
    reduce_only = call.flag("reduceOnly")
    price = call.number("price") if kind == "LIMIT" else None
    tif = call.params.get("timeInForce", "GTC" if kind == "LIMIT" else "IOC")
    if tif not in render.TIME_IN_FORCE or (kind == "MARKET" and tif == "GTX"):
        raise binance_error(INVALID_TIF)
    client_id = call.params.get("newClientOrderId") or f"sim-{secrets.token_hex(8)}"
    open_ids = {o.label for o in api.exchange.open_orders(call.account_id, c.currency)}
    if client_id in open_ids:
        raise binance_error(DUPLICATED_CLIENT_ORDER_ID)
    _, row, _, _, _ = api.exchange.quote(c.instrument_name)
    notional = quantity * (price if price is not None else row.mark_price)
    if not reduce_only and notional < c.min_notional:
        raise binance_error(MIN_NOTIONAL, f"{c.min_notional:g}")
    order, _ = api.exchange.place_order(
        call.account_id,
        direction="buy" if side == "BUY" else "sell",
        instrument_name=c.instrument_name,
        amount=quantity,
        type="limit" if kind == "LIMIT" else "market",
        price=price,
        time_in_force=_TIF[tif],
        post_only=tif == "GTX",
        reduce_only=reduce_only,
        label=client_id,
    )
    return render.order(c, order)


def _query_order(api: BinanceApi, call: Call) -> Any:
    c = api.contract(call.text("symbol"))
    return render.order(c, api.find(call, c))


def _cancel_order(api: BinanceApi, call: Call) -> Any:
    c = api.contract(call.text("symbol"))
    found = api.find(call, c)
    return render.order(c, api.exchange.cancel(call.account_id, found.order_id))


def _symbols_of(api: BinanceApi, call: Call) -> list[SimContract]:
    symbol = call.params.get("symbol")
    if symbol:
        return [api.contract(symbol)]
    return [c for c, _ in api.exchange.live_contracts()]


def _open_orders(api: BinanceApi, call: Call) -> Any:
    return [
        render.order(c, o)
        for c in _symbols_of(api, call)
        for o in api.exchange.open_orders(call.account_id, c.currency, c.instrument_name)
    ]


def _all_orders(api: BinanceApi, call: Call) -> Any:
    """Every order of one symbol, oldest first, from ``startTime`` (at most ``limit``)."""
    c = api.contract(call.text("symbol"))
    since = call.int_or("startTime", 0) or 0
    limit = min(call.int_or("limit", 500) or 500, 1000)
    log = [
        o
        for o in api.exchange.orders_of(call.account_id, c.instrument_name)
        if o.creation_timestamp >= since
    ]
    return [render.order(c, o) for o in log[-limit:]]


def _user_trades(api: BinanceApi, call: Call) -> Any:
    c = api.contract(call.text("symbol"))
    limit = min(call.int_or("limit", 500) or 500, 1000)
    order_id = call.int_or("orderId", None)
    trades = api.exchange.user_trades(
        call.account_id,
        instrument_name=c.instrument_name,
        start_timestamp=call.int_or("startTime", None),
        end_timestamp=call.int_or("endTime", None),
        count=10**9,
    )
    orders = {o.order_id: o for o in api.exchange.orders_of(call.account_id, c.instrument_name)}
    out = [
        render.user_trade(c, t, orders[t.order_id])
        for t in reversed(trades)
        if order_id is None or render.seq_of(t.order_id) == order_id
    ]
    return out[-limit:]


def _force_orders(api: BinanceApi, call: Call) -> Any:
    """The account's liquidation orders, oldest first (``autoCloseType`` ADL: none, the
    simulator closes positions by liquidation alone)."""
    if call.params.get("autoCloseType") not in (None, "", "LIQUIDATION"):
        return []
    limit = min(call.int_or("limit", 50) or 50, 100)
    out = [
        o
        for c in _symbols_of(api, call)
        for o in api.exchange.orders_of(call.account_id, c.instrument_name)
        if o.is_liquidation and _in_window(call, o.creation_timestamp)
    ]
    out.sort(key=lambda o: o.creation_timestamp)
    return [render.order(api.contract(o.instrument_name), o) for o in out[-limit:]]


# -- account ------------------------------------------------------------------------------


def _positions(api: BinanceApi, call: Call) -> dict[str, Any]:
    return {p.instrument_name: p for p in api.exchange.positions(call.account_id, "USDT")}


def _position_risk_v2(api: BinanceApi, call: Call) -> Any:
    held = _positions(api, call)
    out = []
    for c in _symbols_of(api, call):
        _, row = api.exchange.contract_marks(c.instrument_name)
        lev = api.leverage(call.account_id, c.instrument_name)
        now = api.exchange.time_ms()
        out.append(render.position_v2(c, row, held.get(c.instrument_name), lev, now))
    return out


def _position_risk_v3(api: BinanceApi, call: Call) -> Any:
    held = _positions(api, call)
    out = []
    for c in _symbols_of(api, call):
        p = held.get(c.instrument_name)
        if p is not None:
            _, row = api.exchange.contract_marks(c.instrument_name)
            out.append(render.position_v3(c, row, p, api.exchange.time_ms()))
    return out


MARGIN_ASSET: Final = "USDT"
"""Single-asset mode: the USDT perpetuals are margined with USDT alone; the account's other
assets are reported with ``marginAvailable: false``."""


def _asset_lines(api: BinanceApi, call: Call) -> list[dict[str, Any]]:
    now = api.exchange.time_ms()
    held = _positions(api, call)
    lines = []
    for cur in api.exchange.spec.currencies:
        summary = api.exchange.account_summary(call.account_id, cur)
        margin = cur == MARGIN_ASSET
        oo = sum(p.open_orders_margin for p in held.values()) if margin else 0.0
        lines.append(render.asset_line(summary, oo, now, margin_available=margin))
    return lines


def _account(api: BinanceApi, call: Call) -> Any:
    now = api.exchange.time_ms()
    positions = []
    for name, p in _positions(api, call).items():
        c, row = api.exchange.contract_marks(name)
        positions.append(render.position_v3(c, row, p, now))
    return render.account(_asset_lines(api, call), positions)


def _balance(api: BinanceApi, call: Call) -> Any:
    alias = f"sim{call.account_id}"
    return [render.balance_line(line, alias) for line in _asset_lines(api, call)]


def _income(api: BinanceApi, call: Call) -> Any:
    """FUNDING_FEE entries (the only income type the simulator records), oldest first."""
    kind = call.params.get("incomeType")
    if kind not in (None, "", "FUNDING_FEE"):
        return []
    symbol = call.params.get("symbol")
    limit = min(call.int_or("limit", 100) or 100, 1000)
    payments = api.exchange.funding_payments(
        call.account_id, call.int_or("startTime", 0) or 0, call.int_or("endTime", None)
    )
    out = [render.income(p) for p in payments if symbol in (None, "", p.instrument_name)]
    return out[:limit]


# -- wallet (sapi/v1/capital) --------------------------------------------------------------


def _withdraw(api: BinanceApi, call: Call) -> Any:
    """Withdraw through the wallet model (its fee, minimum, delays); ``{"id"}`` only, as Binance."""
    client_id = call.params.get("withdrawOrderId") or None
    if client_id is not None and client_id in api._withdraw_order_ids.values():
        raise BinanceError(INVALID_PARAMETER, f"withdrawOrderId {client_id} is already used")
    w = api.exchange.withdraw(
        call.account_id, call.text("coin"), call.text("address"), call.number("amount")
    )
    if client_id is not None:
        api._withdraw_order_ids[str(w.id)] = client_id
    return {"id": str(w.id)}


def _in_window(call: Call, ts_ms: int) -> bool:
    start, end = call.int_or("startTime", None), call.int_or("endTime", None)
    return (start is None or ts_ms >= start) and (end is None or ts_ms <= end)


def _withdraw_history(api: BinanceApi, call: Call) -> Any:
    coin, wanted = call.text("coin"), call.params.get("withdrawOrderId") or None
    out = []
    for w in api.exchange.withdrawals(call.account_id, coin):
        client_id = api._withdraw_order_ids.get(str(w.id))
        if _in_window(call, w.created_timestamp) and wanted in (None, client_id):
            out.append(render.withdrawal(w, client_id))
    return out[: call.int_or("limit", 1000)]


def _deposit_history(api: BinanceApi, call: Call) -> Any:
    deposits = api.exchange.deposits(call.account_id, call.text("coin"))
    out = [render.deposit(d) for d in deposits if _in_window(call, d.received_timestamp)]
    return out[: call.int_or("limit", 1000)]


def _deposit_address(api: BinanceApi, call: Call) -> Any:
    return render.deposit_address(api.exchange.deposit_address(call.account_id, call.text("coin")))


def _leverage_bracket(api: BinanceApi, call: Call) -> Any:
    return [render.leverage_brackets(c) for c in _symbols_of(api, call)]


def _set_leverage(api: BinanceApi, call: Call) -> Any:
    c = api.contract(call.text("symbol"))
    leverage = call.int_or("leverage", None)
    if leverage is None or not 1 <= leverage <= MAX_LEVERAGE:
        raise binance_error(INVALID_PARAMETER)
    api._leverage[(call.account_id, c.instrument_name)] = leverage
    return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": c.instrument_name}


def _set_margin_type(api: BinanceApi, call: Call) -> Any:
    """Cross margin only: CROSSED needs no change (``-4046``), ISOLATED is refused."""
    api.contract(call.text("symbol"))
    if call.text("marginType") == "CROSSED":
        raise binance_error(NO_NEED_TO_CHANGE_MARGIN_TYPE)
    raise BinanceError(INVALID_PARAMETER, "the simulator supports cross margin only")


def _listen_key(api: BinanceApi, call: Call) -> Any:
    """A listen key for a user data stream the simulator never opens (no websockets)."""
    return {"listenKey": secrets.token_hex(32)}


def _empty(api: BinanceApi, call: Call) -> Any:
    return {}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/fapi/v1/ping"): Route(_empty, 1),
    ("GET", "/fapi/v1/time"): Route(_time, 1),
    ("GET", "/fapi/v1/exchangeInfo"): Route(_exchange_info, 1),
    ("GET", "/fapi/v1/premiumIndex"): Route(_premium_index, 1),
    ("GET", "/fapi/v1/ticker/bookTicker"): Route(_book_ticker, 2),
    ("GET", "/fapi/v1/ticker/24hr"): Route(_ticker_24h, 1),
    ("GET", "/fapi/v1/depth"): Route(_depth, 5),
    ("POST", "/fapi/v1/order"): Route(_new_order, 0, "signed", order=True),
    ("GET", "/fapi/v1/order"): Route(_query_order, 1, "signed"),
    ("DELETE", "/fapi/v1/order"): Route(_cancel_order, 1, "signed"),
    ("GET", "/fapi/v1/openOrders"): Route(_open_orders, 1, "signed"),
    ("GET", "/fapi/v1/allOrders"): Route(_all_orders, 5, "signed"),
    ("GET", "/fapi/v1/userTrades"): Route(_user_trades, 5, "signed"),
    ("GET", "/fapi/v1/forceOrders"): Route(_force_orders, 20, "signed"),
    ("GET", "/fapi/v2/positionRisk"): Route(_position_risk_v2, 5, "signed"),
    ("GET", "/fapi/v3/positionRisk"): Route(_position_risk_v3, 5, "signed"),
    ("GET", "/fapi/v2/account"): Route(_account, 5, "signed"),
    ("GET", "/fapi/v3/account"): Route(_account, 5, "signed"),
    ("GET", "/fapi/v2/balance"): Route(_balance, 5, "signed"),
    ("GET", "/fapi/v3/balance"): Route(_balance, 5, "signed"),
    ("GET", "/fapi/v1/income"): Route(_income, 30, "signed"),
    ("GET", "/fapi/v1/leverageBracket"): Route(_leverage_bracket, 1, "signed"),
    ("POST", "/fapi/v1/leverage"): Route(_set_leverage, 1, "signed"),
    ("POST", "/fapi/v1/marginType"): Route(_set_margin_type, 1, "signed"),
    ("POST", "/fapi/v1/listenKey"): Route(_listen_key, 1, "key"),
    ("PUT", "/fapi/v1/listenKey"): Route(_empty, 1, "key"),
    ("DELETE", "/fapi/v1/listenKey"): Route(_empty, 1, "key"),
    # Binance weighs sapi against its own per-UID limits; one unit here keeps it off fapi's.
    ("POST", "/sapi/v1/capital/withdraw/apply"): Route(_withdraw, 1, "signed"),
    ("GET", "/sapi/v1/capital/withdraw/history"): Route(_withdraw_history, 1, "signed"),
    ("GET", "/sapi/v1/capital/deposit/hisrec"): Route(_deposit_history, 1, "signed"),
    ("GET", "/sapi/v1/capital/deposit/address"): Route(_deposit_address, 1, "signed"),
}
"""(HTTP method, path) -> route; weights from the fapi reference (with a symbol)."""


def build_binance_app(api: BinanceApi) -> web.Application:
    """The aiohttp application serving ``api``: fapi routes plus ``/_sim`` admin."""
    app = web.Application()
    app.router.add_route("*", "/fapi/{tail:.*}", api.handle)
    app.router.add_route("*", "/sapi/{tail:.*}", api.handle)
    add_admin_routes(app, api.exchange, api.faults)
    return app
