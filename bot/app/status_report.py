"""What ``deltabot status`` shows: the running daemon's status document, else the journal's.

A running daemon answers on ``[metrics]`` host:port ``/status`` with live
Greeks, hedges and margin per venue. When none answers, the journal still
knows the trading state, the locks, the recent alerts and each underlying's
last decision with the Greeks it was made on; margin is then unknown and said so. The text form
of the document lives beside it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.engine.status import recent_alerts, trading_state_json
from bot.journal import Journal

TIMEOUT_S = 3.0


def daemon_status(config: Config) -> dict[str, Any]:
    """The running daemon's /status, else the journal's; JournalError if neither is there."""
    return _live(config) or _from_journal(config.daemon.journal_path)


def _from_journal(journal_path: Path) -> dict[str, Any]:
    """What the journal knows when no daemon answers: state, locks, decisions, open orders."""
    with Journal.open_control(journal_path) as journal:
        state = journal.state.trading_state()
        return {
            "source": "journal (no daemon answered; margin unknown)",
            "trading_state": trading_state_json(state),
            "locks": dict(journal.state.locks()),
            "last_decisions": journal.orders.last_decisions(),
            "open_orders": len(journal.orders.open()),
            "alerts": recent_alerts(journal),
        }


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


def _f(value: object, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "n/a"


def render_text(status: Mapping[str, Any]) -> str:
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
    alerts = status.get("alerts") or []
    lines.append("recent alerts: " + ("" if alerts else "none"))
    for a in alerts:
        delivery = ", ".join(f"{ch} {how}" for ch, how in (a.get("delivery") or {}).items())
        lines.append(
            f"  {a.get('severity'):<8} {a.get('text')}" + (f" [{delivery}]" if delivery else "")
        )
    if "open_orders" in status:
        lines.append(f"open orders in the journal: {status['open_orders']}")
    return "\n".join(lines)
