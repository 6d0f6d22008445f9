"""``deltabot halt``, ``reduce`` and ``resume``: the operator's hand on the trading state.

Each writes to the journal beside a running daemon (SQLite serialises the
writes); the daemon reads the state at the start of every cycle, so a halt
takes effect from its next cycle (orders of a cycle already past its gate
still go out), and it survives restarts. ``resume``
also lifts the locks the engine put on underlyings (e.g. after a position
that did not move as its fills said) and accepts the venues' books as they
now are. On a journal that cannot be read, ``halt`` writes the halt marker
beside it (exit 0, and says so) and ``resume`` says what to do first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.app import operator
from bot.app.errors import OPERATOR_ERRORS
from bot.commands.common import load_or_report, report_journal_problem

_Action = Callable[[Path, str], operator.TradingChange | operator.MarkerHalt]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``resume``'s optional ``--reason``."""
    parser.add_argument(
        "--reason",
        default="operator resume",
        help="why, recorded in the journal with the state (default: %(default)s)",
    )


def add_required_reason(parser: argparse.ArgumentParser) -> None:
    """``halt`` and ``reduce`` need ``--reason``, so the next operator knows why."""
    parser.add_argument(
        "--reason", required=True, help="why, recorded in the journal with the state"
    )


def _set(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    action: _Action,
    *,
    reason_required: bool,
) -> int:
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    reason = (args.reason or "").strip()
    if reason_required and not reason:
        print(
            f"deltabot {args.command}: give --reason (it is recorded with the state)",
            file=sys.stderr,
        )
        return 2
    try:
        change = action(config.daemon.journal_path, reason)
    except OPERATOR_ERRORS as exc:
        return report_journal_problem(args.command, exc)
    print(operator.change_text(change))
    return 0


def run_halt(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Set HALTED: no orders at all until an operator resumes."""
    return _set(args, environ, operator.halt, reason_required=True)


def run_reduce(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Set REDUCING: only orders that shrink a position toward zero, until resumed."""
    return _set(args, environ, operator.reduce, reason_required=True)


def run_resume(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Set ACTIVE and lift underlying locks."""
    return _set(args, environ, operator.resume, reason_required=False)
