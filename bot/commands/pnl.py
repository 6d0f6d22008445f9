"""``deltabot pnl``: the P&L attribution per underlying and UTC day, from the journal.

Works with or without a running daemon: it reads the journal beside it. Components
(delta, gamma, theta, vega, slippage, fees, funding, unexplained) are in USD and sum to
the equity change of the accounts (docs/architecture.md §9).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from bot.app.errors import OPERATOR_ERRORS
from bot.app.pnl_report import read_pnl, render_text
from bot.commands.common import add_window, load_or_report, report_journal_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The window (``--since``, ``--until``) and ``--json``."""
    add_window(parser, "valuations")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the attribution (exit 0); exit 2 for a bad config or no journal."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    try:
        report = read_pnl(config.daemon.journal_path, args.since, args.until)
    except OPERATOR_ERRORS as exc:
        return report_journal_problem("pnl", exc)
    print(json.dumps(report.as_json(), indent=2) if args.json else render_text(report))
    return 0
