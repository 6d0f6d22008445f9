"""``deltabot value``: value the example book of ``[sim]`` and print its Greeks and exposure.

The simulated market starts flat: every option is valued at its underlying's
``vol`` against the forward ``spot·e^(rate·tau)``, and coin collateral from
``[[sim.balances]]`` counts as delta in the usd numeraire. This is the same
valuation path the daemon runs each cycle (``PositionTable`` ->
``value_book``), just fed from the config instead of a venue poll.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from bot.app.value import render_text, report_json, value_report
from bot.commands.common import load_or_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` prints machine-readable exposure instead of tables."""
    parser.add_argument("--json", action="store_true", help="print the exposure as JSON")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the book's positions and its exposure per underlying (exit 0), or config problems."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    if config.sim is None or not config.sim.book:
        print("the config has no [sim] book to value: add [[sim.book]] entries")
        return 2
    report = value_report(config)
    print(json.dumps(report_json(report), indent=2) if args.json else render_text(report))
    return 0
