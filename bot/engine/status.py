"""What ``/status``, ``/health`` and ``deltabot status`` report about a running engine.

Plain functions of the latest cycle and portfolio read: cheap, no I/O,
safe to call from the status server on the daemon's event loop.
"""

from __future__ import annotations

import math

from bot.domain.alerts import iso_utc
from bot.domain.freshness import skew_problem, stale_problem
from bot.domain.health import Component, Health, Level
from bot.domain.snapshot import Balance, PortfolioSnapshot
from bot.domain.trading_state import TradingMode, TradingState
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle_result import CycleResult
from bot.journal import Journal

RECENT_ALERTS = 10
"""How many of the newest alerts ``/status`` and ``deltabot status`` show."""
STALE_CYCLES = 3
"""A daemon whose last cycle is older than this many hedge intervals is unhealthy."""


def maintenance_ratio(balance: Balance) -> float:
    """Maintenance margin / equity: 1.0 is the liquidation line (inf without equity)."""
    if balance.equity > 0:
        return balance.maintenance_margin / balance.equity
    return math.inf if balance.maintenance_margin > 0 else 0.0


def margin_rows(portfolio: PortfolioSnapshot | None) -> dict[str, list[dict[str, object]]]:
    """Per venue, each account and currency's equity, margins and MM/equity ratio."""
    if portfolio is None:
        return {}
    return {
        snap.venue: [
            {
                "account": b.account,
                "currency": b.currency,
                "equity": b.equity,
                "initial_margin": b.initial_margin,
                "maintenance_margin": b.maintenance_margin,
                "available": b.available,
                "maintenance_ratio": maintenance_ratio(b),
            }
            for b in snap.balances
        ]
        for snap in portfolio.venues
    }


def trading_state_json(state: TradingState) -> dict[str, object]:
    """The trading state as ``/status`` and ``deltabot status`` show it."""
    return {
        "mode": state.mode.value,
        "reason": state.reason,
        "set_by": state.set_by.value,
        "ts_ms": state.ts_ms,
    }


def recent_alerts(journal: Journal, limit: int = RECENT_ALERTS) -> list[dict[str, object]]:
    """The newest alerts, newest first, with ISO-8601 UTC times and each channel's delivery."""
    return [
        {
            "at": iso_utc(a.ts_ms),
            "kind": a.kind.value,
            "severity": a.severity.value,
            "text": a.text,
            "count": a.count,
            "delivery": dict(a.delivery),
        }
        for a in journal.alerts.recent(limit)
    ]


def status_of(ctx: EngineContext, latest: LatestRead, now_ms: int) -> dict[str, object]:
    """The daemon's state as JSON-ready values with unit-carrying keys."""
    journal = ctx.journal
    state = journal.state.trading_state()
    result = latest.cycle
    out: dict[str, object] = {
        "now_ms": now_ms,
        "trading_state": trading_state_json(state),
        "locks": dict(journal.state.locks()),
        "reducing_venues": dict(journal.state.reducing_venues()),
        "margin": margin_rows(latest.portfolio),
        "alerts": recent_alerts(journal),
    }
    if result is None:
        out["last_cycle"] = None
        return out
    out["last_cycle"] = {
        "started_ms": result.started_ms,
        "age_s": (now_ms - result.started_ms) / 1000,
        "duration_s": result.duration_s,
        "error": result.error,
        "orders_sent": len(result.outcomes),
        "orders_denied": len(result.decision.denied) if result.decision else 0,
    }
    if result.plan is not None:
        out["underlyings"] = {
            d.underlying: {
                "index_usd": d.index_usd,
                "book_delta_coin": d.book_delta_coin,
                "hedge_coin": d.hedge_coin,
                "total_delta_coin": d.book_delta_coin + d.hedge_coin,
                "total_delta_usd": (d.book_delta_coin + d.hedge_coin) * d.index_usd,
                "target_delta_coin": d.target_delta_coin,
                "gamma_coin_per_pct": d.gamma_coin_per_pct,
                "vega_usd_per_volpt": d.vega_usd_per_volpt,
                "theta_usd_per_day": d.theta_usd_per_day,
                "hedged": d.routed,
                "decision": d.reason,
            }
            for d in result.plan.decisions
        }
    return out


def health_of(ctx: EngineContext, latest: LatestRead, now_ms: int) -> Health:
    """Every health component's verdict on the latest cycle (see :mod:`bot.domain.health`)."""
    state = ctx.journal.state.trading_state()
    result = latest.cycle
    age_s = None if result is None else (now_ms - result.started_ms) / 1000
    components = (
        _trading(state),
        _last_cycle(ctx, result, age_s),
        *_inputs(ctx, result),
    )
    return Health(components, state.mode.value, age_s)


def _trading(state: TradingState) -> Component:
    """Halted fails (no hedging at all); reducing only degrades (hedges may still shrink)."""
    why = f"{state.mode.value} by {state.set_by.value}: {state.reason}"
    if state.mode is TradingMode.HALTED:
        return Component("trading", Level.FAILING, why)
    if state.mode is TradingMode.REDUCING:
        return Component("trading", Level.DEGRADED, why)
    return Component("trading", Level.OK, "active")


def _last_cycle(ctx: EngineContext, result: CycleResult | None, age_s: float | None) -> Component:
    """The newest cycle ran, succeeded, and is no older than a few hedge intervals."""
    if result is None or age_s is None:
        return Component("last_cycle", Level.FAILING, "no cycle has run yet")
    if result.error is not None:
        return Component("last_cycle", Level.FAILING, f"failed: {result.error}")
    limit_s = STALE_CYCLES * ctx.config.daemon.hedge_interval_s
    if age_s > limit_s:
        return Component(
            "last_cycle", Level.FAILING, f"{age_s:.1f} s ago (more than {limit_s:g} s)"
        )
    return Component("last_cycle", Level.OK, f"{age_s:.1f} s ago, took {result.duration_s:.3f} s")


def _inputs(ctx: EngineContext, result: CycleResult | None) -> tuple[Component, Component]:
    """The last cycle's inputs too old when its read returned, and venue clocks too far off.

    Judged at the read, not at ``now``: between cycles every input ages, and
    that is the cycle interval's business, not a stale feed.
    """
    risk = ctx.config.risk
    stale = None
    if result is not None and result.plan is not None:
        plan = result.plan
        stale = stale_problem(plan.inputs, plan.valuation_ts_ms, risk.max_input_age_ms)
    inputs = (
        Component("inputs", Level.FAILING, f"stale inputs: {stale}")
        if stale is not None
        else Component("inputs", Level.OK, "fresh")
    )
    clocks = (
        []
        if result is None or result.portfolio is None
        else [(s.venue, s.clock) for s in result.portfolio.venues]
    )
    skews = [
        problem
        for venue, clock in clocks
        if clock is not None
        and (problem := skew_problem(venue, clock, risk.max_clock_skew_ms)) is not None
    ]
    clock = (
        Component("venue_clocks", Level.FAILING, "; ".join(skews))
        if skews
        else Component("venue_clocks", Level.OK, "venue clocks within the limit")
    )
    return inputs, clock
