"""``deltabot stress``: stress the ``[sim]`` book across venues: price × vol grid and scenarios.

The book is the config's ``[[sim.book]]`` marked at ``sim.start`` (the same
table ``deltabot value`` builds); each venue's equity is its
``[[sim.balances]]`` cash plus the marks of its options, as a venue reports
equity. The daemon runs a lighter pass on live snapshots
(:func:`bot.domain.stress.light_pass`).

Output: a text report (grid summary, P&L at ±10/20/50 % with vol unchanged,
the first venue to liquidate per price move, each named scenario), ``--json``
for machines, ``--plot FILE.png`` the chart of :mod:`bot.app.stress_chart` (P&L
heatmaps in total and per venue with the liquidation boundary, the scenarios).
Settings come from ``--scenarios FILE.toml`` (a ``[stress]`` table) when given,
else the config's ``[stress]`` table, else the defaults. The grid (in
vol-shift column chunks) and the scenarios run where ``--scheduler`` or
``[compute]`` says, with the same report on each. Exit 0, or 2 with one line saying what is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.app.stress_chart import write_chart
from bot.app.stress_report import render_text, report_json
from bot.app.stress_run import build_report, stress_settings
from bot.commands.common import add_scheduler, load_or_report, on_runner

_PROG = "deltabot stress"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--plot FILE.png``, ``--scenarios FILE.toml``, ``--scheduler``."""
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="write the chart (PNG): P&L heatmaps, liquidation boundary, scenarios (default: none)",
    )
    parser.add_argument(
        "--scenarios",
        type=Path,
        metavar="FILE.toml",
        help="a TOML file with a [stress] table (grid, scenarios) (default: the config's "
        "[stress], else the built-in grid and scenarios)",
    )
    add_scheduler(parser)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the stress report (0), or one error line on stderr (2)."""
    config = load_or_report(getattr(args, "config", None), environ)
    if config is None:
        return 2
    try:
        settings = stress_settings(config, getattr(args, "scenarios", None))
    except ValueError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    report, status = on_runner(
        _PROG,
        args,
        config.compute,
        lambda runner, _progress: build_report(config, settings, runner),
    )
    if report is None:
        return status
    print(json.dumps(report_json(report), indent=2) if args.json else render_text(report))
    plot = getattr(args, "plot", None)
    if plot is not None:
        try:
            write_chart(report, plot)
        except OSError as exc:
            print(f"{_PROG}: error: cannot write {plot}: {exc}", file=sys.stderr)
            return 2
        # On stderr beside --json, so stdout stays one JSON document.
        print(f"\nchart: {plot}", file=sys.stderr if args.json else sys.stdout)
    return 0
