"""``deltabot status``: what the daemon holds and does, from its status server or its journal.

A running daemon answers on ``[metrics]`` host:port ``/status`` with live
Greeks, hedges, margin per venue and every health component. When none
answers, the journal still knows the trading state, the locks, the orders of
unknown outcome and each underlying's last decision with the Greeks it was
made on; the components it cannot judge are named. Times are ISO-8601 UTC on
the clock the document names.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from bot.app.errors import OPERATOR_ERRORS
from bot.app.status_report import daemon_status, render_text
from bot.commands.common import load_or_report, report_journal_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` prints the status document instead of text."""
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the status (exit 0); exit 2 when neither a daemon nor a journal is found."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    try:
        status = daemon_status(config)
    except OPERATOR_ERRORS as exc:
        return report_journal_problem("status", exc, "no daemon answered and ")
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        print(render_text(status))
    return 0
