"""The scheduled margin and stress jobs: margin use, liquidation distance, model drift and
the worst loss of a light stress pass, per venue.

Venue-reported equity and maintenance margin are the truth for the present
and are exported as they are. Our own models answer the what-if: how far the
market must move before each venue's equity meets its maintenance margin
(full revaluation with the vol shock tied to the move), and whether our
model's margin still agrees with the venue's (a drift beyond tolerance is an
alert: the what-if would be built on a wrong model). Everything here is
computed from the latest portfolio read; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import structlog

from bot.config import Config
from bot.config.stress import margin_setup
from bot.domain.alerts import AlertEvent, AlertKind, Severity
from bot.domain.ids import Currency
from bot.domain.margin.drift import DriftAlert, MarginFigures, margin_drift, model_figures
from bot.domain.margin.liquidation import LiquidationDistance
from bot.domain.margin.standard import standard_margin
from bot.domain.position_table import PositionTable
from bot.domain.snapshot import Balance, PortfolioSnapshot, maintenance_ratio
from bot.domain.stress import LightStress, light_pass, liquidation_distance
from bot.engine.context import EngineContext, LatestRead
from bot.pricing.arrays import FloatArray

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


@dataclass(frozen=True, slots=True)
class BookInputs:
    """The last portfolio as the margin and stress models take it."""

    table: PositionTable
    forward_usd: FloatArray
    equity_coin: FloatArray
    """Venue × underlying coin equity, as the venues report it (position values included)."""
    equity_usd: FloatArray
    """USD(C/T) equity per venue."""


def book_inputs(portfolio: PortfolioSnapshot) -> BookInputs | None:
    """Columns, forwards and equity of ``portfolio`` (None: nothing is held)."""
    table = PositionTable.from_snapshots(portfolio.venues)
    if len(table) == 0:
        return None
    forward = table.forward_usd()
    equity_coin = np.zeros((len(table.venues), len(table.underlyings)))
    for s in portfolio.venues:
        for b in s.balances:
            if b.currency in table.underlyings:
                equity_coin[table.venues.index(s.venue), table.underlyings.index(b.currency)] += (
                    b.equity
                )
    equity_usd = np.array(
        [math.fsum(b.equity for b in s.balances if b.currency in DOLLARS) for s in portfolio.venues]
    )
    return BookInputs(table, forward, equity_coin, equity_usd)


def analyse(
    portfolio: PortfolioSnapshot, config: Config, vols: Mapping[Currency, float]
) -> MarginView:
    """Liquidation distance and model drift of every venue in ``portfolio``.

    ``vols`` is the annual vol per underlying that turns moves into daily sigmas
    (the book's vega-weighted implied vol; NaN where it holds no options).
    """
    book = book_inputs(portfolio)
    if book is None:
        return MarginView(None, ())
    table, forward = book.table, book.forward_usd
    margin = config.margin
    distance = liquidation_distance(
        table,
        forward_usd=forward,
        valuation_ts_ms=portfolio.valuation_ts_ms,
        equity_coin=book.equity_coin,
        equity_usd=book.equity_usd,
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


def _liquidation_alert(ctx: EngineContext, venue: str, down_frac: float, up_frac: float) -> None:
    """Critical when a move under ``[alerts] liquidation_distance_frac`` liquidates ``venue``."""
    limit = ctx.config.alerts.liquidation_distance_frac
    nearest = min(down_frac, up_frac)
    if not nearest < limit:
        return
    direction = "down" if down_frac <= up_frac else "up"
    ctx.alerts.emit(
        AlertEvent(
            kind=AlertKind.MARGIN,
            severity=Severity.CRITICAL,
            key=f"liquidation:{venue}",
            message=(
                f"{venue}: a {nearest:.1%} move {direction} liquidates it (alert under {limit:.1%})"
            ),
            ts_ms=ctx.clock_ms(),
            fields={"venue": venue, "down_frac": down_frac, "up_frac": up_frac},
        )
    )


def margin_snapshot(ctx: EngineContext, latest: LatestRead) -> MarginView | None:
    """Export margin use, liquidation distances and drift alerts of the last portfolio read."""
    portfolio, metrics = latest.portfolio, ctx.metrics
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
    view = analyse(portfolio, ctx.config, latest.vols())
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
            _liquidation_alert(ctx, venue, float(d.down_frac[i]), float(d.up_frac[i]))
    for alert in view.drift:
        log.warning("margin_model_drift", venue=alert.venue, detail=alert.message())
    return view


def stress_snapshot(ctx: EngineContext, latest: LatestRead) -> LightStress | None:
    """The scheduled light stress pass over the last portfolio read; exports the worst loss."""
    portfolio = latest.portfolio
    book = None if portfolio is None else book_inputs(portfolio)
    if portfolio is None or book is None:
        return None
    config = ctx.config
    vols = latest.vols()
    light = light_pass(
        book.table,
        forward_usd=book.forward_usd,
        valuation_ts_ms=portfolio.valuation_ts_ms,
        equity_coin=book.equity_coin,
        equity_usd=book.equity_usd,
        annual_vol_frac=[vols.get(u, math.nan) for u in book.table.underlyings],
        config=config.stress.light_params(),
        margin=margin_setup(config.margin),
    )
    ctx.metrics.set_worst_stress_loss(light.worst_loss_usd)
    limit = config.alerts.stress_loss_limit_usd
    if light.worst_loss_usd > limit:
        ctx.alerts.emit(
            AlertEvent(
                kind=AlertKind.STRESS_LOSS,
                severity=Severity.WARNING,
                key="stress_loss",
                message=(
                    f"worst stress loss {light.worst_loss_usd:,.0f} USD is over the limit "
                    f"{limit:,.0f} USD (crash {light.crash_loss_usd:,.0f} USD)"
                ),
                ts_ms=ctx.clock_ms(),
                fields={"worst_loss_usd": light.worst_loss_usd, "limit_usd": limit},
            )
        )
    log.info(
        "stress_pass",
        worst_loss_usd=light.worst_loss_usd,
        crash_loss_usd=light.crash_loss_usd,
        grid_worst_loss_usd=light.grid_worst_loss_usd,
    )
    return light
