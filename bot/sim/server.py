"""Run an emulator on loopback, in-process (tests) or standalone (``deltabot sim-venue``).

The exchange's dialect picks the facade: Deribit v2 (:mod:`bot.sim.deribit_api`) or
Binance USDⓈ-M (:mod:`bot.sim.binance_api`).

Only a loopback host is bound unless the caller explicitly allows otherwise:
the emulator has no rate limits, a ``/_sim`` admin endpoint without auth and
fake money, none of which belong on a network interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.clock import Clock
from bot.ops.net import is_loopback
from bot.sim.binance_api import BinanceApi, build_binance_app
from bot.sim.deribit_api import DeribitApi, build_app
from bot.sim.deribit_ws import MIN_HEARTBEAT_S, WS_PATH
from bot.sim.dialect import Dialect
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults

SHUTDOWN_TIMEOUT_S = 2.0
"""How long stopping waits for in-flight requests (held drop-fault requests are released first)."""


@dataclass(frozen=True, slots=True)
class RunningEmulator:
    """A started emulator: point ccxt's ``urls['api']['rest']`` at ``base_url`` (and, for
    ``ccxt.pro``, ``urls['api']['ws']`` at ``ws_url``: Deribit dialect only)."""

    base_url: str
    host: str
    port: int
    exchange: SimExchange
    faults: Faults
    ws_url: str | None = None


@asynccontextmanager
async def run_emulator(
    exchange: SimExchange,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    *,
    allow_non_loopback: bool = False,
    auth_clock: Clock | None = None,
    ws_min_heartbeat_s: float = MIN_HEARTBEAT_S,
    ws_push_clock: Clock | None = None,
) -> AsyncIterator[RunningEmulator]:
    """Serve ``exchange`` in its dialect until the block exits; port 0 picks a free port.

    ``auth_clock`` is the wall clock signatures are checked against (default:
    the system clock); ``ws_min_heartbeat_s`` the smallest websocket heartbeat
    interval accepted (Deribit's 10 s; tests shorten it); ``ws_push_clock`` the
    wall clock ``100ms`` and ``agg2`` channel intervals are counted on (default:
    the system clock; tests step a manual one).
    """
    if not (allow_non_loopback or is_loopback(host)):
        raise ValueError(
            f"refusing to bind the emulator to non-loopback host {host!r}; "
            "pass allow_non_loopback=True to really expose it"
        )
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be in 0..65535, got {port}")
    api: DeribitApi | BinanceApi
    if exchange.spec.dialect is Dialect.BINANCE_USDM:
        api = BinanceApi(exchange, faults or Faults(), auth_clock=auth_clock)
        app = build_binance_app(api)
    else:
        api = DeribitApi(
            exchange,
            faults or Faults(),
            auth_clock=auth_clock,
            ws_min_heartbeat_s=ws_min_heartbeat_s,
            ws_push_clock=ws_push_clock,
        )
        app = build_app(api)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = int(runner.addresses[0][1])
        url_host = f"[{host}]" if ":" in host else host
        ws = isinstance(api, DeribitApi)
        yield RunningEmulator(
            base_url=f"http://{url_host}:{bound_port}",
            host=host,
            port=bound_port,
            exchange=exchange,
            faults=api.faults,
            ws_url=f"ws://{url_host}:{bound_port}{WS_PATH}" if ws else None,
        )
    finally:
        api.release_held()
        await runner.cleanup()


async def serve_forever(
    exchange: SimExchange,
    stop: asyncio.Event,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    allow_non_loopback: bool = False,
    on_ready: Callable[[RunningEmulator], None] | None = None,
) -> None:
    """Run one emulator until ``stop`` is set; ``on_ready`` gets it once it accepts requests."""
    async with run_emulator(
        exchange, host, port, faults, allow_non_loopback=allow_non_loopback
    ) as emulator:
        if on_ready is not None:
            on_ready(emulator)
        await stop.wait()
