"""``deltabot status``: what the daemon holds and does, from its status server or its journal.

A running daemon answers on ``[metrics]`` host:port ``/status`` with live
Greeks, hedges and margin per venue. When none answers, the journal still
knows the trading state, the locks and each underlying's last decision with
the Greeks it was made on; margin is then unknown and said so.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from bot.commands.common import load_or_report
from bot.config import Config
from bot.engine.status import trading_state_json
from bot.journal import Journal, JournalError

TIMEOUT_S = 3.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` prints the status document instead of text."""
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


def _live(config: Config) -> dict[str, Any] | None:
    """The running daemon's /status, or None when nothing answers."""
    m = config.metrics
    if not m.enabled or m.port == 0:
        return None
    host = f"[{m.host}]" if ":" in m.host else m.host
    try:
        with urllib.request.urlopen(f"http://{host}:{m.port}/status", timeout=TIMEOUT_S) as r:
            body: dict[str, Any] = json.loads(r.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return {"source": "daemon", **body}


def _from_journal(config: Config) -> dict[str, Any]:
    with Journal.open_control(config.daemon.journal_path) as journal:
        state = journal.state.trading_state()
        return {
            "source": "journal (no daemon answered; margin unknown)",
            "trading_state": trading_state_json(state),
            "locks": dict(journal.state.locks()),
            "last_decisions": journal.orders.last_decisions(),
            "open_orders": len(journal.orders.open()),
        }


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the status (exit 0); exit 2 when neither a daemon nor a journal is found."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    status = _live(config)
    if status is None:
        try:
            status = _from_journal(config)
        except JournalError as exc:
            print(f"deltabot status: no daemon answered and {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        print(render(status))
    return 0


def _f(value: object, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "n/a"


def render(status: Mapping[str, Any]) -> str:
    """The status document as a terminal report."""
    state = status.get("trading_state", {})
    lines = [
        f"source: {status.get('source')}",
        f"trading: {state.get('mode')} (set by {state.get('set_by')}: {state.get('reason')})",
    ]
    locks = status.get("locks") or {}
    lines.append(
        "locks: " + ("; ".join(f"{u}: {r}" for u, r in locks.items()) if locks else "none")
    )
    cycle = status.get("last_cycle")
    if cycle:
        error = cycle.get("error") or "ok"
        lines.append(
            f"last cycle: {_f(cycle.get('age_s'), '.1f')} s ago, took "
            f"{_f(cycle.get('duration_s'), '.3f')} s, {cycle.get('orders_sent')} sent, "
            f"{cycle.get('orders_denied')} denied, {error}"
        )
    unds = status.get("underlyings") or {}
    if unds:
        lines.append(
            f"{'underlying':<11}{'index USD':>12}{'book coin':>12}{'hedge coin':>12}"
            f"{'total coin':>12}{'gamma/1%':>10}{'vega USD/vp':>13}{'theta USD/d':>13}"
        )
        for u, g in unds.items():
            lines.append(
                f"{u:<11}{_f(g.get('index_usd'), ',.1f'):>12}"
                f"{_f(g.get('book_delta_coin'), '+.4f'):>12}{_f(g.get('hedge_coin'), '+.4f'):>12}"
                f"{_f(g.get('total_delta_coin'), '+.4f'):>12}"
                f"{_f(g.get('gamma_coin_per_pct'), '+.4f'):>10}"
                f"{_f(g.get('vega_usd_per_volpt'), ',.1f'):>13}"
                f"{_f(g.get('theta_usd_per_day'), ',.1f'):>13}"
            )
    for u, d in (status.get("last_decisions") or {}).items():
        g = d.get("greeks", {})
        lines.append(
            f"{u}: last decision at {d.get('ts_ms')}: book {_f(g.get('book_delta_coin'), '+.4f')} "
            f"coin, hedge {_f(g.get('hedge_coin'), '+.4f')} -> "
            f"{_f(d.get('target_hedge_coin'), '+.4f')} coin; {d.get('reason')}"
        )
    margin = status.get("margin") or {}
    for venue, rows in margin.items():
        for row in rows:
            lines.append(
                f"margin {venue} {row.get('account')}/{row.get('currency')}: equity "
                f"{_f(row.get('equity'), ',.4f')}, IM {_f(row.get('initial_margin'), ',.4f')}, "
                f"MM {_f(row.get('maintenance_margin'), ',.4f')} "
                f"(MM/equity {_f(row.get('maintenance_ratio'), '.1%')})"
            )
    if "open_orders" in status:
        lines.append(f"open orders in the journal: {status['open_orders']}")
    return "\n".join(lines)
