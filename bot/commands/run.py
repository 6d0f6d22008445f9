"""``deltabot run``: the hedging daemon, until SIGTERM/SIGINT.

With ``config.example.toml`` it runs on the embedded simulator (mode sim):
the emulated venues start on loopback and the daemon trades them through
ccxt, exactly as it would a real exchange.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping

from bot.app.config_check import startup_problems
from bot.app.daemon_process import configure_daemon_logging, run_until_signalled
from bot.app.errors import START_ERRORS, JournalFailedError
from bot.commands.common import load_or_report
from bot.config import format_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``run`` takes only the global ``--config``."""


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the daemon (exit 0 after an orderly stop); exit 2 if it cannot start safely or its
    journal failed a check while it ran."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    problems = startup_problems(config, environ)
    if problems:  # the same checks, and words, as check-config's
        lines = "; ".join(format_problem(key, message) for key, message in problems)
        print(f"deltabot run: cannot start: {lines}", file=sys.stderr)
        return 2
    try:
        configure_daemon_logging(config, environ)
        asyncio.run(run_until_signalled(config, environ))
    except JournalFailedError as exc:
        print(f"deltabot run: {exc}", file=sys.stderr)
        return 2
    except (*START_ERRORS, OSError) as exc:  # OSError: the status port is taken (it says which)
        print(f"deltabot run: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0
