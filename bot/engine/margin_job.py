"""The scheduled margin job: margin use, liquidation distance and model drift per venue.

Venue-reported equity and maintenance margin are the truth for the present
and are exported as they are. Our own models answer the what-if: how far the
market must move before each venue's equity meets its maintenance margin
(full revaluation with the vol shock tied to the move), and whether our
model's margin still agrees with the venue's (a drift beyond tolerance is an
alert: the what-if would be built on a wrong model). Everything here is
computed from the engine's last portfolio read; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import structlog

from bot.config import Config
from bot.domain.book import KindCode, PositionTable
from bot.domain.ids import Currency
from bot.domain.margin.drift import DriftAlert, MarginFigures, margin_drift, model_figures
from bot.domain.margin.liquidation import LiquidationDistance, liquidation_distance
from bot.domain.margin.standard import standard_margin
from bot.domain.snapshot import Balance, PortfolioSnapshot
from bot.engine.cycle import HedgeEngine
from bot.engine.status import maintenance_ratio
from bot.ops.metrics import DaemonMetrics

log = structlog.get_logger("deltabot.margin")

WARN_RATIO = 0.8
"""Maintenance margin / equity above which the job warns (1.0 is liquidation)."""
WARN_MOVE_FRAC = 0.15
"""A liquidation closer than this price move (either way) is worth a warning."""
DOLLARS = frozenset({"USD", "USDC", "USDT"})


@dataclass(frozen=True, slots=True)
class MarginView:
    """What the job found: liquidation distances and drift alerts (for status and tests)."""

    distance: LiquidationDistance | None
    drift: tuple[DriftAlert, ...]


def _usd(balance: Balance, index: Mapping[Currency, float], field: str) -> float:
    price = 1.0 if balance.currency in DOLLARS else index.get(balance.currency, math.nan)
    return float(getattr(balance, field)) * price


def venue_figures(portfolio: PortfolioSnapshot) -> dict[str, MarginFigures]:
    """Each venue's reported IM and MM in USD at the venues' index prices."""
    index = {c: px for s in portfolio.venues for c, px in s.index_usd.items()}
    return {
        s.venue: MarginFigures(
            initial_usd=math.fsum(_usd(b, index, "initial_margin") for b in s.balances),
            maintenance_usd=math.fsum(_usd(b, index, "maintenance_margin") for b in s.balances),
        )
        for s in portfolio.venues
    }


def analyse(portfolio: PortfolioSnapshot, config: Config, vols: Mapping[str, float]) -> MarginView:
    """Liquidation distance and model drift of every venue in ``portfolio``.

    ``vols`` is the annual vol per underlying that turns moves into daily sigmas
    (the book's vega-weighted implied vol; NaN where it holds no options).
    """
    table = PositionTable.from_snapshots(portfolio.venues)
    if len(table) == 0:
        return MarginView(None, ())
    forward = np.where(table.kind == KindCode.OPTION, table.underlying_usd, table.mark_price)
    equity_coin = np.zeros((len(table.venues), len(table.underlyings)))
    for s in portfolio.venues:
        for b in s.balances:
            if b.currency in table.underlyings:
                equity_coin[table.venues.index(s.venue), table.underlyings.index(b.currency)] += (
                    b.equity
                )
    equity_usd = [
        math.fsum(b.equity for b in s.balances if b.currency in DOLLARS) for s in portfolio.venues
    ]
    margin = config.margin
    distance = liquidation_distance(
        table,
        forward_usd=forward,
        valuation_ts_ms=portfolio.valuation_ts_ms,
        equity_coin=equity_coin,
        equity_usd=equity_usd,
        annual_vol_frac=[vols.get(u, math.nan) for u in table.underlyings],
        models=[margin.model_for(v) for v in table.venues],
        params=margin.liquidation_params(),
        standard=margin.standard_params(),
        portfolio=margin.portfolio.params(),
    )
    ours = model_figures(
        standard_margin(
            table,
            forward_usd=forward,
            valuation_ts_ms=portfolio.valuation_ts_ms,
            params=margin.standard_params(),
        )
    )
    standard_venues = {v for v in table.venues if margin.model_for(v).value == "standard"}
    drift = margin_drift(
        {v: f for v, f in ours.items() if v in standard_venues},
        {v: f for v, f in venue_figures(portfolio).items() if v in standard_venues},
        tolerance_frac=margin.drift_tolerance_frac,
        floor_usd=margin.drift_floor_usd,
    )
    return MarginView(distance, tuple(drift))


def margin_snapshot(engine: HedgeEngine, metrics: DaemonMetrics) -> MarginView | None:
    """Export margin use, liquidation distances and drift alerts of the last portfolio read."""
    portfolio = engine.last_portfolio
    if portfolio is None:
        return None
    index = {c: px for snap in portfolio.venues for c, px in snap.index_usd.items()}
    for snap in portfolio.venues:
        equity_usd = 0.0
        for bal in snap.balances:
            ratio = maintenance_ratio(bal)
            metrics.set_margin_ratio(snap.venue, f"{bal.account}/{bal.currency}", ratio)
            equity_usd += _usd(bal, index, "equity")
            if ratio > WARN_RATIO:
                log.warning(
                    "margin_near_liquidation",
                    venue=snap.venue,
                    account=bal.account,
                    currency=bal.currency,
                    maintenance_ratio=ratio,
                )
        metrics.set_collateral_usd(snap.venue, equity_usd)
    result = engine.last_result
    vols: dict[str, float] = {}
    if result is not None and result.plan is not None:
        vols = {d.underlying: d.sigma for d in result.plan.decisions}
    view = analyse(portfolio, engine.config, vols)
    if view.distance is not None:
        d = view.distance
        for i, venue in enumerate(d.venues):
            metrics.set_liquidation_distance(venue, "down", float(d.down_frac[i]))
            metrics.set_liquidation_distance(venue, "up", float(d.up_frac[i]))
            if min(d.down_frac[i], d.up_frac[i]) < WARN_MOVE_FRAC:
                log.warning(
                    "liquidation_near",
                    venue=venue,
                    down_frac=float(d.down_frac[i]),
                    up_frac=float(d.up_frac[i]),
                )
    for alert in view.drift:
        log.warning("margin_model_drift", venue=alert.venue, detail=alert.message)
    return view
