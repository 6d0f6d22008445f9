"""What ``deltabot status`` shows: the running daemon's status document, else the journal's.

A running daemon answers on ``[metrics]`` host:port ``/status`` with live
Greeks, hedges, margin per venue and every health component. When none
answers, the journal still knows the trading state, the locks, the orders of
unknown outcome, the recent alerts and each underlying's last decision with the
Greeks it was made on: health is then judged from those alone, and the document
names the components it cannot judge. The text form of the document lives beside
it. Times are ISO-8601 UTC on the clock the document names.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from bot.clock import SystemClock
from bot.config import Config
from bot.domain import health_rules as rules
from bot.domain.health import Component, Health
from bot.domain.timeunits import iso_utc
from bot.engine.health import unknown_ages_s
from bot.engine.status import WALL_CLOCK, clock_name, recent_alerts, trading_state_json
from bot.journal import Journal
from bot.ops.status_server import health_json

TIMEOUT_S = 3.0


def daemon_status(config: Config) -> dict[str, Any]:
    """The running daemon's /status, else the journal's; JournalError if neither is there."""
    return _live(config) or _from_journal(config)


def _from_journal(config: Config) -> dict[str, Any]:
    """What the journal knows when no daemon answers: state, locks, decisions, open orders,
    and the health those allow."""
    clock = clock_name(config)
    with Journal.open_control(config.daemon.journal_path) as journal:
        state = journal.state.trading_state()
        decisions = {
            u: {**d, "at": iso_utc(ts)} if isinstance(ts := d.get("ts_ms"), int) else d
            for u, d in journal.orders.last_decisions().items()
        }
        return {
            "source": "journal (no daemon answered; margin unknown)",
            "clock": clock,
            "health": _journal_health(config, journal, clock),
            "trading_state": trading_state_json(state, clock),
            "locks": dict(journal.state.locks()),
            "last_decisions": decisions,
            "open_orders": len(journal.orders.open()),
            "alerts": recent_alerts(journal),
        }


def _journal_health(config: Config, journal: Journal, clock: str) -> dict[str, object]:
    """The components the journal alone can judge, and the names of those it cannot.

    Orders of unknown outcome are aged on the wall clock only when the daemon
    ran on it: a simulated clock stops with its daemon.
    """
    state = journal.state.trading_state()
    components: list[Component] = [rules.trading(state), rules.locks(journal.state.locks())]
    cannot = ["last_cycle", "venues", "inputs", "venue_clocks"]
    cannot += [f"band:{u}" for u in dict.fromkeys(h.underlying for h in config.hedges)]
    if clock == WALL_CLOCK:
        ages = unknown_ages_s(journal, SystemClock().now_ms())
        components.append(rules.unknown_orders(ages, config.risk.unknown_resolution_s))
    else:
        cannot.append("unknown_orders")
    cannot += [f"margin:{v.name}" for v in config.venues]
    cannot.append("risk_gate")
    return {**health_json(Health(tuple(components), state.mode.value, None)), "not_judged": cannot}


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
    clock = status.get("clock")
    when = f" at {state['set_at']}" if state.get("set_at") else ""
    if when and state.get("clock") != clock:
        when += f" ({state.get('clock')} clock)"
    lines = [
        f"source: {status.get('source')}",
        f"clock: {clock} (times in ISO-8601 UTC)"
        + (f", now {status['now']}" if status.get("now") else ""),
        *_health_lines(status.get("health")),
        f"trading: {state.get('mode')} (set by {state.get('set_by')}{when}: {state.get('reason')})",
    ]
    locks = status.get("locks") or {}
    lines.append(
        "locks: " + ("; ".join(f"{u}: {r}" for u, r in locks.items()) if locks else "none")
    )
    cycle = status.get("last_cycle")
    if cycle:
        error = cycle.get("error") or "ok"
        lines.append(
            f"last cycle: {cycle.get('started')}, {_f(cycle.get('age_s'), '.1f')} s ago, took "
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
    lines += _bucket_lines(status.get("greek_buckets") or [])
    for u, d in (status.get("last_decisions") or {}).items():
        g = d.get("greeks", {})
        lines.append(
            f"{u}: last decision at {d.get('at')}: book {_f(g.get('book_delta_coin'), '+.4f')} "
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


def _bucket_lines(rows: list[Mapping[str, Any]]) -> list[str]:
    """Vega (raw and standardised to 30 days) and gamma per expiry bucket, with the limit's
    level where ``[greek_limits]`` sets one."""
    if not rows:
        return []
    lines = [
        f"{'underlying':<11}{'bucket':<9}{'vega USD/vp':>13}{'vega30 USD/vp':>15}"
        f"{'gamma/1%':>10}{'gamma USD/1%':>14}  limit"
    ]
    for r in rows:
        limit = r.get("limit") or "-"
        why = f" ({r['limit_why']})" if r.get("limit_why") else ""
        lines.append(
            f"{r.get('underlying')!s:<11}{r.get('bucket')!s:<9}"
            f"{_f(r.get('vega_usd_per_volpt'), ',.1f'):>13}"
            f"{_f(r.get('vega_std_usd_per_volpt'), ',.1f'):>15}"
            f"{_f(r.get('gamma_coin_per_pct'), '+.4f'):>10}"
            f"{_f(r.get('gamma_usd_per_pct'), ',.0f'):>14}  {limit}{why}"
        )
    return lines


def _health_lines(health: Mapping[str, Any] | None) -> list[str]:
    """The overall level, then one line per component (level, name, reason), then what the
    document could not judge."""
    if not health:
        return ["health: unknown"]
    lines = [f"health: {health.get('level')}"]
    lines += [
        f"  {c.get('level'):<9}{c.get('name')}: {c.get('reason')}"
        for c in health.get("components") or []
    ]
    if health.get("not_judged"):
        lines.append("  not judged without the daemon: " + ", ".join(health["not_judged"]))
    return lines
