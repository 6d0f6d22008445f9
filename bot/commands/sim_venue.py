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
from bot.commands.common import when_ms
from bot.ops.logging import LogFormat, LogLevel, configure_logging
from bot.ops.net import PortInUseError, listen_error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Port, seed, venue name, credentials, clock speed and fault knobs."""
    parser.add_argument(
        "--port", type=int, required=True, help="TCP port to listen on; 0 picks a free one"
    )
    parser.add_argument("--seed", type=int, required=True, help="seed of the simulated market")
    parser.add_argument(
        "--exchange",
        default="deribit",
        help="dialect to speak, a ccxt exchange id: deribit | binanceusdm (default: %(default)s)",
    )
    parser.add_argument("--name", help="venue name (default: <exchange>-sim, e.g. deribit-sim)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow binding a non-loopback --host (the emulator has no real security)",
    )
    parser.add_argument(
        "--api-key",
        help=f"main account API key (default: ${KEY_VAR}, else the demo pair's sim-main)",
    )
    parser.add_argument(
        "--api-secret",
        help=f"main account API secret; prefer ${SECRET_VAR}: argv is visible (default: "
        "that variable, else the demo pair's)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per wall second (default: %(default)s)",
    )
    parser.add_argument(
        "--start-ms",
        type=_start_ms,
        metavar="WHEN",
        help="simulated start: ISO-8601 (UTC unless an offset is given) like "
        "2026-12-01T08:00Z, or epoch ms (default: now)",
    )
    parser.add_argument(
        "--faults",
        metavar="JSON",
        help='fault knobs, e.g. \'{"latency_ms": 50, "rules": [{"action": "error", '
        '"code": 10028, "method": "private/buy", "count": 2}]}\' (default: no faults)',
    )


def _start_ms(text: str) -> int:
    """An argparse ``type``: epoch ms as digits, else an ISO-8601 time (:func:`when_ms`)."""
    if text.strip().isdigit():
        return int(text)
    try:
        return when_ms(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither epoch milliseconds nor an ISO-8601 date/time like "
            "2026-12-01T08:00Z"
        ) from None


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Serve until SIGINT/SIGTERM (exit 0); exit 2 with a message on bad input."""
    name = f"{args.exchange}-sim" if args.name is None else args.name
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

    def ready(base_url: str, ws_url: str | None) -> None:
        print(f"sim-venue {name}: listening on {base_url}", flush=True)
        if ws_url is not None:  # ccxt.pro: urls['api']['ws']
            print(f"sim-venue {name}: websocket on {ws_url}", flush=True)
        print(f"sim-venue {name}: ready", flush=True)

    try:
        asyncio.run(serve_sim_venue(venue, ready))
    except OSError as exc:  # port taken, address not available
        problem = listen_error(exc, args.host, args.port, "--port")
        if not isinstance(problem, PortInUseError):
            problem = OSError(f"cannot listen on {args.host}:{args.port}: {exc}")
        print(f"sim-venue: {problem}", file=sys.stderr)
        return 2
    print(f"sim-venue {name}: stopped", flush=True)
    return 0
