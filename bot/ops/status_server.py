"""Loopback HTTP server for Prometheus scrapes, health probes and an operator's status view.

``GET /metrics`` serves the daemon's registry, ``GET /health`` answers a
supervisor or load balancer with every health component and its reason (HTTP
200 when ok or degraded, 503 when failing) and
``GET /status`` shows whatever the engine chooses to report, as JSON. The
callbacks are the engine's; a callback that raises yields an error response
and never takes the server (or the daemon) down with it, since an unhealthy
daemon is exactly when the operator needs these endpoints.

The endpoints carry no authentication, so only a loopback host is bound
unless the caller explicitly allows otherwise. A caller may ``mount`` more
routes on the same application (the dashboard, :mod:`bot.web`): this module
stays below the engine and knows nothing of them.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import structlog
from aiohttp import web

from bot.domain.health import Component, Health, Level
from bot.ops.metrics import DaemonMetrics
from bot.ops.net import check_bind, listen_error

SHUTDOWN_TIMEOUT_S: Final = 1.0
"""How long stopping waits for in-flight requests; every handler here answers at once."""

JSON_CONTENT_TYPE: Final = "application/json"
_NO_STORE: Final = {"Cache-Control": "no-store"}
_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RunningStatusServer:
    """A started status server; ``port`` is the bound one (useful with port 0)."""

    base_url: str
    host: str
    port: int


def to_json_value(value: object) -> object:
    """``value`` with numbers as JSON numbers: ints stay ints, other reals become floats.

    numpy scalars and Decimal would otherwise end up as strings through
    ``default=str``; NaN and infinities become null, which every JSON parser
    accepts. Mappings and sequences are converted recursively; anything else
    is left for ``json.dumps(default=str)``.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_value(v) for v in value]
    return value


def health_json(health: Health) -> dict[str, object]:
    """The ``/health`` body: the overall level, why, and every component."""
    return {
        "level": health.level.value,
        "ok": health.ok,
        "detail": health.detail,
        "trading_state": health.trading_state,
        "last_cycle_age_s": health.last_cycle_age_s,
        "components": [
            {"name": c.name, "level": c.level.value, "reason": c.reason} for c in health.components
        ],
    }


def _json_response(payload: object, status: int) -> web.Response:
    body = json.dumps(to_json_value(payload), default=str, allow_nan=False)
    return web.Response(text=body, status=status, content_type=JSON_CONTENT_TYPE, headers=_NO_STORE)


Mount = Callable[[web.Application], None]
"""Adds routes (and middlewares) to the status server's application before it starts."""


def build_app(
    metrics: DaemonMetrics,
    health: Callable[[], Health],
    status: Callable[[], Mapping[str, object]],
    mount: Mount | None = None,
) -> web.Application:
    """The aiohttp application serving ``/metrics``, ``/health`` and ``/status``, and whatever
    ``mount`` adds."""

    async def get_metrics(_request: web.Request) -> web.Response:
        try:
            body, content_type = metrics.exposition()
        except Exception as exc:
            _log.exception("status_server_metrics_failed")
            return web.Response(
                text=f"metrics exposition failed: {type(exc).__name__}: {exc}\n", status=500
            )
        return web.Response(body=body, headers={"Content-Type": content_type, **_NO_STORE})

    async def get_health(_request: web.Request) -> web.Response:
        try:
            report = health()
            return _json_response(health_json(report), 200 if report.ok else 503)
        except Exception as exc:
            _log.exception("status_server_health_failed")
            reason = f"{type(exc).__name__}: {exc}"
            failed = Health((Component("health_check", Level.FAILING, reason),), "unknown", None)
            return _json_response(health_json(failed), 503)

    async def get_status(_request: web.Request) -> web.Response:
        try:
            return _json_response(dict(status()), 200)
        except Exception as exc:
            _log.exception("status_server_status_failed")
            return _json_response({"error": f"status failed: {type(exc).__name__}: {exc}"}, 500)

    app = web.Application()
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/health", get_health)
    app.router.add_get("/status", get_status)
    if mount is not None:
        mount(app)
    return app


@asynccontextmanager
async def run_status_server(
    metrics: DaemonMetrics,
    health: Callable[[], Health],
    status: Callable[[], Mapping[str, object]],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    allow_non_loopback: bool = False,
    mount: Mount | None = None,
    port_setting: str = "the port",
) -> AsyncIterator[RunningStatusServer]:
    """Serve the status endpoints until the block exits; port 0 picks a free port.

    Raises ValueError before binding for a non-loopback ``host`` without
    ``allow_non_loopback``, or a port outside 0..65535; PortInUseError naming
    ``port_setting`` (where the port was chosen) when it is taken.
    """
    check_bind("status server", host, port, allow_non_loopback=allow_non_loopback)
    runner = web.AppRunner(
        build_app(metrics, health, status, mount),
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise listen_error(exc, host, port, port_setting) from exc
        # The first bound socket names the URL: "localhost" with port 0 may bind
        # IPv4 and IPv6 on different free ports, and base_url must reach this one.
        bound_host, bound_port = str(runner.addresses[0][0]), int(runner.addresses[0][1])
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield RunningStatusServer(
            base_url=f"http://{url_host}:{bound_port}", host=host, port=bound_port
        )
    finally:
        await runner.cleanup()
