"""``deltabot halt``, ``reduce`` and ``resume``: the operator's hand on the trading state.

Each writes to the journal beside a running daemon (SQLite serialises the
writes); the daemon reads the state at the start of every cycle, so a halt
takes effect from its next cycle (orders of a cycle already past its gate
still go out), and it survives restarts. ``resume``
also lifts the locks the engine put on underlyings (e.g. after a position
that did not move as its fills said) and accepts the venues' books as they
now are.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping

from bot.commands.common import load_or_report
from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.journal import Journal, JournalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--reason`` records why (required for halt, so the next operator knows)."""
    parser.add_argument("--reason", help="why, recorded in the journal with the state")


def _set(args: argparse.Namespace, environ: Mapping[str, str], mode: TradingMode) -> int:
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    reason = (args.reason or "").strip()
    if mode is not TradingMode.ACTIVE and not reason:
        print(
            f"deltabot {args.command}: give --reason (it is recorded with the state)",
            file=sys.stderr,
        )
        return 2
    now_ms = time.time_ns() // 1_000_000
    path = config.daemon.journal_path
    try:
        with Journal.open_control(path) as journal:
            before = journal.state.trading_state()
            state = TradingState(mode, reason or "operator resume", SetBy.OPERATOR, now_ms)
            journal.state.set_trading_state(state)
            lifted = journal.state.clear_locks(now_ms) if mode is TradingMode.ACTIVE else 0
    except JournalError as exc:
        print(f"deltabot {args.command}: {exc}", file=sys.stderr)
        return 2
    print(f"trading {before.mode.value} -> {mode.value} ({state.reason}); journal {path}")
    if lifted:
        print(f"lifted {lifted} underlying lock(s)")
    return 0


def run_halt(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Set HALTED: no orders at all until an operator resumes."""
    return _set(args, environ, TradingMode.HALTED)


def run_reduce(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Set REDUCING: only orders that shrink a position toward zero, until resumed."""
    return _set(args, environ, TradingMode.REDUCING)


def run_resume(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Set ACTIVE and lift underlying locks."""
    return _set(args, environ, TradingMode.ACTIVE)
