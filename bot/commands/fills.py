"""``deltabot fills``: every fill the journal holds, with its order, oldest first.

It reads the journal, with or without a running daemon.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from bot.app.trade_report import read_fills, render_fills
from bot.commands.common import add_window, show_rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The window (``--since``, ``--until``) and ``--json``."""
    add_window(parser, "fills")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the fills of the window (exit 0); exit 2 for a bad config or no journal."""
    return show_rows(args, environ, lambda _a, path, s, u: read_fills(path, s, u), render_fills)
