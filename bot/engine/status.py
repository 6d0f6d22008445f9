"""What ``/status`` and ``deltabot status`` report about a running engine.

Plain functions of the latest cycle and portfolio read: cheap, no network
I/O, safe to call from the status server on the daemon's event loop.

One clock per document: every time in ``/status`` is on the daemon's clock
(the simulated one in mode sim), named in its ``clock`` field, and shown as
ISO-8601 UTC beside the machine-readable ``_ms`` field. The one time written
on another clock, an operator's change of the trading state (the CLI stamps
it with the wall clock), says so in its own ``clock`` field.
"""

from __future__ import annotations

from bot.config import Config, Mode
from bot.config.greek_limits import GreekLimitsConfig
from bot.domain.snapshot import PortfolioSnapshot, maintenance_ratio
from bot.domain.timeunits import iso_utc
from bot.domain.trading_state import SetBy, TradingState
from bot.engine.context import EngineContext, LatestRead
from bot.engine.greek_limits import plan_checks, plan_views
from bot.engine.health import health_of
from bot.engine.plan import CyclePlan
from bot.journal import Journal
from bot.ops.status_server import health_json

RECENT_ALERTS = 10
"""How many of the newest alerts ``/status`` and ``deltabot status`` show."""
WALL_CLOCK = "wall"
"""The ``clock`` of a document whose times are the wall clock's."""


def clock_name(config: Config) -> str:
    """The daemon's clock as the documents a person reads name it: ``simulated (x<speed>)``
    when the embedded simulator runs it (mode sim without standalone emulators), else
    ``wall``."""
    sim = config.sim
    embedded = config.mode is Mode.SIM and all(v.api_url is None for v in config.venues)
    return f"simulated (x{sim.speed:g})" if embedded and sim is not None else WALL_CLOCK


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


def trading_state_json(state: TradingState, clock: str) -> dict[str, object]:
    """The trading state as ``/status`` and ``deltabot status`` show it; ``clock`` is the
    document's (the daemon's), which an operator's change (wall-clock stamped) is not on."""
    return {
        "mode": state.mode.value,
        "reason": state.reason,
        "set_by": state.set_by.value,
        "ts_ms": state.ts_ms,
        "set_at": iso_utc(state.ts_ms) if state.ts_ms > 0 else None,
        "clock": WALL_CLOCK if state.set_by is SetBy.OPERATOR else clock,
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
    """The daemon's state as JSON-ready values with unit-carrying keys, its health included."""
    journal = ctx.journal
    state = journal.state.trading_state()
    result = latest.cycle
    out: dict[str, object] = {
        "clock": ctx.clock_name,
        "now_ms": now_ms,
        "now": iso_utc(now_ms),
        "health": health_json(health_of(ctx, latest, now_ms)),
        "trading_state": trading_state_json(state, ctx.clock_name),
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
        "started": iso_utc(result.started_ms),
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
                "vanna_coin_per_vol": d.vanna_coin_per_vol,
                "volga_usd_per_volpt2": d.volga_usd_per_volpt2,
                "hedged": d.routed,
                "decision": d.reason,
            }
            for d in result.plan.decisions
        }
        out["greek_buckets"] = greek_bucket_rows(result.plan, ctx.config.greek_limits)
    return out


def greek_bucket_rows(plan: CyclePlan, limits: GreekLimitsConfig) -> list[dict[str, object]]:
    """Each underlying's vega and gamma per expiry bucket, with the level and reason of the
    ``[greek_limits]`` limit on that bucket (None where no limit is set)."""
    checks = {(c.limit.underlying, c.limit.bucket): c for c in plan_checks(plan, limits)}
    rows: list[dict[str, object]] = []
    for v in plan_views(plan, limits):
        check = checks.get((v.underlying, v.bucket))
        rows.append(
            {
                "underlying": v.underlying,
                "bucket": v.bucket,
                "vega_usd_per_volpt": v.vega_usd_per_volpt,
                "vega_std_usd_per_volpt": v.vega_std_usd_per_volpt,
                "gamma_coin_per_pct": v.gamma_coin_per_pct,
                "gamma_usd_per_pct": v.gamma_usd_per_pct,
                "limit": None if check is None else check.level.value,
                "limit_why": None if check is None else check.why,
            }
        )
    return rows
