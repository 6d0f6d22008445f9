"""``deltabot orders``: what was sent and why, and what came back.

It reads the journal, with or without a running daemon. An order shows the decision
and Greeks it was made on, its fills, fees, venue order id and state history.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from bot.app.trade_report import (
    ORDER_STATES,
    read_orders,
    render_orders,
)
from bot.commands.common import add_window, show_rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The window, ``--json`` and ``--state``."""
    add_window(parser, "orders")
    parser.add_argument(
        "--state",
        type=str.lower,
        choices=ORDER_STATES,
        metavar="STATE",
        help=f"only orders now in this state (any case): {', '.join(ORDER_STATES)} "
        "(default: every state)",
    )


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the orders of the window (exit 0); exit 2 for a bad config or no journal."""
    return show_rows(
        args,
        environ,
        lambda a, path, s, u: read_orders(path, s, u, a.state),
        render_orders,
    )
