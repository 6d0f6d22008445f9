"""``deltabot sim-venue``: one simulated venue standalone, until SIGINT/SIGTERM.

Serves the seeded simulated exchange on loopback in its dialect (Deribit v2, or
Binance USDⓈ-M with ``exchange`` ``binanceusdm``), so
``deltabot run`` (or any ccxt script) can trade against it with only
``urls['api']['rest']`` changed. The main account's API key pair comes from
the options or ``DELTABOT_SIM_API_KEY``/``DELTABOT_SIM_API_SECRET`` (default:
the well-known demo pair).
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.clock import AcceleratedClock, SystemClock
from bot.ops.net import is_loopback
from bot.sim.dialect import Dialect
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults
from bot.sim.market import MarketModel
from bot.sim.network import SimNetwork
from bot.sim.server import RunningEmulator, serve_forever
from bot.sim.spec import ExchangeSpec, default_main_account

KEY_VAR = "DELTABOT_SIM_API_KEY"
SECRET_VAR = "DELTABOT_SIM_API_SECRET"


@dataclass(frozen=True, slots=True)
class SimVenueOptions:
    """What the operator asked for: where to listen, the market, the account, the faults."""

    name: str
    host: str
    port: int
    allow_non_loopback: bool
    seed: int
    speed: float
    start_ms: int | None
    """Simulated start, epoch ms; None: now."""
    api_key: str | None
    api_secret: str | None
    faults_json: str | None
    exchange: str = Dialect.DERIBIT.value
    """The dialect to speak: a ccxt exchange id the simulator serves."""


@dataclass(frozen=True, slots=True)
class StandaloneVenue:
    """The exchange to serve, its fault knobs and the main account's API secret."""

    options: SimVenueOptions
    exchange: SimExchange
    faults: Faults
    secret: str


def build_sim_venue(options: SimVenueOptions, environ: Mapping[str, str]) -> StandaloneVenue:
    """The venue ``options`` describe; ValueError names what is wrong with them."""
    if not 0 <= options.port <= 65535:
        raise ValueError(f"--port must be in 0..65535, got {options.port}")
    if not (options.allow_non_loopback or is_loopback(options.host)):
        raise ValueError(
            f"--host {options.host} is not a loopback address; add --allow-non-loopback to "
            "expose the emulator (no real security, fake money) on the network"
        )
    key = options.api_key or environ.get(KEY_VAR, "")
    secret = options.api_secret or environ.get(SECRET_VAR, "")
    if bool(key) != bool(secret):
        raise ValueError(
            f"give both an API key and a secret (--api-key/${KEY_VAR}, "
            f"--api-secret/${SECRET_VAR}) or neither"
        )
    served = [d.value for d in Dialect]
    if options.exchange not in served:
        raise ValueError(
            f"--exchange {options.exchange!r}: the simulator serves {', '.join(served)}"
        )
    dialect = Dialect(options.exchange)
    start_ms = SystemClock().now_ms() if options.start_ms is None else options.start_ms
    clock = AcceleratedClock(start_ms, options.speed)
    main = default_main_account(dialect)
    if key:
        main = replace(main, client_id=key, client_secret=secret)
    config = ExchangeSpec.default(options.name, start_ms, accounts=(main,), dialect=dialect)
    market = MarketModel.default(start_ms, seed=options.seed, underlyings=config.underlyings)
    faults = Faults(seed=options.seed)
    if options.faults_json:
        try:
            raw = json.loads(options.faults_json)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--faults is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError("--faults must be a JSON object")
        faults = Faults.from_json(raw, seed=options.seed)
    exchange = SimExchange(market, clock, config, SimNetwork())
    return StandaloneVenue(options, exchange, faults, main.client_secret)


async def serve_sim_venue(
    venue: StandaloneVenue, on_ready: Callable[[str, str | None], None]
) -> None:
    """Serve until SIGINT/SIGTERM; ``on_ready`` gets the base URL and the websocket URL
    (None: a dialect without one) once requests are accepted.

    OSError if the address cannot be bound.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready(emulator: RunningEmulator) -> None:
        on_ready(emulator.base_url, emulator.ws_url)

    options = venue.options
    await serve_forever(
        venue.exchange,
        stop,
        host=options.host,
        port=options.port,
        faults=venue.faults,
        allow_non_loopback=options.allow_non_loopback,
        on_ready=ready,
    )
