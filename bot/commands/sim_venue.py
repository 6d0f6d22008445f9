"""``deltabot sim-venue``: run one simulated Deribit venue standalone until SIGINT/SIGTERM.

Serves the seeded simulated exchange over Deribit v2 HTTP on loopback, so
``deltabot run`` (or any ccxt script) can trade against it with only
``urls['api']['rest']`` changed. Prints the URL, then a ready line once it
accepts requests. The main account's API key pair comes from
``--api-key``/``--api-secret`` or ``DELTABOT_SIM_API_KEY``/``DELTABOT_SIM_API_SECRET``
(default: the well-known demo pair); the secret is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Mapping
from dataclasses import replace

from bot.clock import AcceleratedClock, SystemClock
from bot.config import LogFormat, LogLevel
from bot.ops.logging import configure_logging
from bot.ops.net import is_loopback
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults
from bot.sim.market import MarketModel
from bot.sim.network import SimNetwork
from bot.sim.server import RunningEmulator, serve_forever
from bot.sim.spec import ExchangeSpec, default_main_account

KEY_VAR = "DELTABOT_SIM_API_KEY"
SECRET_VAR = "DELTABOT_SIM_API_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Port, seed, venue name, credentials, clock speed and fault knobs."""
    parser.add_argument("--port", type=int, required=True, help="TCP port (0: pick a free one)")
    parser.add_argument("--seed", type=int, required=True, help="seed of the simulated market")
    parser.add_argument("--name", default="deribit-sim", help="venue name (default: deribit-sim)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow binding a non-loopback --host (the emulator has no real security)",
    )
    parser.add_argument("--api-key", help=f"main account API key (or ${KEY_VAR})")
    parser.add_argument(
        "--api-secret", help=f"main account API secret (prefer ${SECRET_VAR}: argv is visible)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per wall second (default 1)"
    )
    parser.add_argument(
        "--start-ms", type=int, help="simulated start time, epoch ms (default: now)"
    )
    parser.add_argument(
        "--faults",
        metavar="JSON",
        help='fault knobs, e.g. \'{"latency_ms": 50, "rules": [{"action": "error", '
        '"code": 10028, "method": "private/buy", "count": 2}]}\'',
    )


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Serve until SIGINT/SIGTERM (exit 0); exit 2 with a message on bad input."""
    try:
        exchange, faults, secret = _build(args, environ)
    except ValueError as exc:
        print(f"sim-venue: {exc}", file=sys.stderr)
        return 2
    configure_logging(LogLevel.INFO, LogFormat.AUTO, sys.stderr, secrets=[secret])
    try:
        asyncio.run(_serve(args, exchange, faults))
    except OSError as exc:  # port taken, address not available
        print(f"sim-venue: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


def _build(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[SimExchange, Faults, str]:
    """Exchange, fault knobs and main API secret the arguments describe.

    Raises ValueError naming what is wrong.
    """
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in 0..65535, got {args.port}")
    if not (args.allow_non_loopback or is_loopback(args.host)):
        raise ValueError(
            f"--host {args.host} is not a loopback address; add --allow-non-loopback to expose "
            "the emulator (no real security, fake money) on the network"
        )
    key = args.api_key or environ.get(KEY_VAR, "")
    secret = args.api_secret or environ.get(SECRET_VAR, "")
    if bool(key) != bool(secret):
        raise ValueError(
            f"give both an API key and a secret (--api-key/${KEY_VAR}, "
            f"--api-secret/${SECRET_VAR}) or neither"
        )
    start_ms = SystemClock().now_ms() if args.start_ms is None else args.start_ms
    clock = AcceleratedClock(start_ms, args.speed)
    main = default_main_account()
    if key:
        main = replace(main, client_id=key, client_secret=secret)
    config = ExchangeSpec.default(args.name, start_ms, accounts=(main,))
    market = MarketModel.default(start_ms, seed=args.seed, underlyings=config.underlyings)
    faults = Faults(seed=args.seed)
    if args.faults:
        try:
            raw = json.loads(args.faults)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--faults is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError("--faults must be a JSON object")
        faults = Faults.from_json(raw, seed=args.seed)
    return SimExchange(market, clock, config, SimNetwork()), faults, main.client_secret


async def _serve(args: argparse.Namespace, exchange: SimExchange, faults: Faults) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready(emulator: RunningEmulator) -> None:
        print(f"sim-venue {args.name}: listening on {emulator.base_url}", flush=True)
        print(f"sim-venue {args.name}: ready", flush=True)

    await serve_forever(
        exchange,
        stop,
        host=args.host,
        port=args.port,
        faults=faults,
        allow_non_loopback=args.allow_non_loopback,
        on_ready=ready,
    )
    print(f"sim-venue {args.name}: stopped", flush=True)
