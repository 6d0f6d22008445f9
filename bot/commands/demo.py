"""``deltabot demo``: the real daemon on two emulated venues through a scripted bad day.

Mode sim with the config's book (``config.example.toml`` by default): an
accelerated clock runs a simulated stretch with a BTC crash and an ETH vol
spike in well under a minute; the report shows the Greeks before and after,
the hedges sent, the hedging P&L, the largest delta excursion against the band
and any collateral moves, and a PNG chart (:mod:`bot.app.run_chart`) shows the total
delta against the band, the levels and orders, price and implied vol, and P&L.
The journal goes to a fresh temporary directory unless ``--journal`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bot.app.demo import run_demo
from bot.app.demo_config import demo_config, demo_script
from bot.app.errors import START_ERRORS, JournalFailedError
from bot.app.run_chart import write_chart
from bot.app.run_report import render_text, report_json
from bot.commands.common import load_or_report
from bot.config import Mode
from bot.ops.logging import LogFormat, LogLevel, configure_logging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Simulated span, speed, chart path, journal path, JSON output."""
    parser.add_argument(
        "--hours", type=float, default=12.0, help="simulated hours (default: %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1440.0,
        help="simulated seconds per wall second (default: %(default)s)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=Path("deltabot-demo.png"),
        help="chart path, PNG (default: %(default)s)",
    )
    parser.add_argument("--journal", type=Path, help="journal file (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the demo (exit 0) or explain why it cannot (exit 2)."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    if config.mode is not Mode.SIM or config.sim is None:
        print('deltabot demo: needs mode = "sim" with a [sim] section', file=sys.stderr)
        return 2
    if not (0 < args.hours <= 24 * 30) or not (0 < args.speed <= 100_000):
        print(
            "deltabot demo: --hours must be in (0, 720] and --speed in (0, 100000]", file=sys.stderr
        )
        return 2
    if not args.plot.parent.is_dir():  # known now, not after the run
        print(
            f"deltabot demo: cannot write the chart {args.plot}: {args.plot.parent} is not a "
            "directory",
            file=sys.stderr,
        )
        return 2
    configure_logging(LogLevel.ERROR, LogFormat.CONSOLE, sys.stderr)
    with tempfile.TemporaryDirectory(prefix="deltabot-demo-") as tmp:
        journal = args.journal or Path(tmp) / "journal.sqlite"
        config = demo_config(config, speed=args.speed, journal_path=journal)
        script = demo_script(config, hours=args.hours, speed=args.speed)
        try:
            report = asyncio.run(run_demo(config, dict(environ), script, progress=sys.stderr))
        except START_ERRORS as exc:
            print(f"deltabot demo: cannot start: {exc}", file=sys.stderr)
            return 2
        except JournalFailedError as exc:
            print(f"deltabot demo: {exc}", file=sys.stderr)
            return 2
    try:
        write_chart(report, args.plot)
    except OSError as exc:
        print(f"deltabot demo: cannot write the chart {args.plot}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(render_text(report))
    # On stderr beside --json, so stdout stays one JSON document.
    print(f"\nchart: {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0
