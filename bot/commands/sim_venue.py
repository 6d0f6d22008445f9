"""``deltabot sim-venue``: run one simulated venue standalone until SIGINT/SIGTERM.

Serves the seeded simulated exchange on loopback in the dialect ``--exchange``
names (Deribit v2 by default, or Binance USDⓈ-M), so
``deltabot run`` (or any ccxt script) can trade against it with only
``urls['api']['rest']`` changed. Prints the URL, then a ready line once it
accepts requests. The main account's API key pair comes from
``--api-key``/``--api-secret`` or ``DELTABOT_SIM_API_KEY``/``DELTABOT_SIM_API_SECRET``
(default: the well-known demo pair); the secret is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping

from bot.app.sim_venue import (
    KEY_VAR,
    SECRET_VAR,
    SimVenueOptions,
    build_sim_venue,
    serve_sim_venue,
)
from bot.ops.logging import LogFormat, LogLevel, configure_logging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Port, seed, venue name, credentials, clock speed and fault knobs."""
    parser.add_argument("--port", type=int, required=True, help="TCP port (0: pick a free one)")
    parser.add_argument("--seed", type=int, required=True, help="seed of the simulated market")
    parser.add_argument(
        "--exchange",
        default="deribit",
        help="dialect to speak: deribit (default) | binanceusdm",
    )
    parser.add_argument("--name", help="venue name (default: <exchange>-sim, e.g. deribit-sim)")
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
    name = args.name or f"{args.exchange}-sim"
    options = SimVenueOptions(
        name=name,
        host=args.host,
        port=args.port,
        allow_non_loopback=args.allow_non_loopback,
        seed=args.seed,
        speed=args.speed,
        start_ms=args.start_ms,
        api_key=args.api_key,
        api_secret=args.api_secret,
        faults_json=args.faults,
        exchange=args.exchange,
    )
    try:
        venue = build_sim_venue(options, environ)
    except ValueError as exc:
        print(f"sim-venue: {exc}", file=sys.stderr)
        return 2
    configure_logging(LogLevel.INFO, LogFormat.AUTO, sys.stderr, secrets=[venue.secret])

    def ready(base_url: str) -> None:
        print(f"sim-venue {name}: listening on {base_url}", flush=True)
        print(f"sim-venue {name}: ready", flush=True)

    try:
        asyncio.run(serve_sim_venue(venue, ready))
    except OSError as exc:  # port taken, address not available
        print(f"sim-venue: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"sim-venue {name}: stopped", flush=True)
    return 0
