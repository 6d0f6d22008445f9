"""The scheduled margin job: export each venue's margin use from the last portfolio read.

Venue-reported equity and maintenance margin are the truth for the present
(issue 5 adds what-if models and liquidation distances on top of this).
"""

from __future__ import annotations

import math

import structlog

from bot.engine.cycle import HedgeEngine
from bot.engine.status import maintenance_ratio
from bot.ops.metrics import DaemonMetrics

log = structlog.get_logger("deltabot.margin")

WARN_RATIO = 0.8
"""Maintenance margin / equity above which the job warns (1.0 is liquidation)."""
_DOLLARS = frozenset({"USD", "USDC", "USDT"})


def margin_snapshot(engine: HedgeEngine, metrics: DaemonMetrics) -> None:
    """Set the margin-ratio and collateral metrics; warn on accounts near liquidation."""
    portfolio = engine.last_portfolio
    if portfolio is None:
        return
    index = {c: px for snap in portfolio.venues for c, px in snap.index_usd.items()}
    for snap in portfolio.venues:
        equity_usd = 0.0
        for bal in snap.balances:
            ratio = maintenance_ratio(bal)
            metrics.set_margin_ratio(snap.venue, f"{bal.account}/{bal.currency}", ratio)
            price = 1.0 if bal.currency in _DOLLARS else index.get(bal.currency, math.nan)
            equity_usd += bal.equity * price
            if ratio > WARN_RATIO:
                log.warning(
                    "margin_near_liquidation",
                    venue=snap.venue,
                    account=bal.account,
                    currency=bal.currency,
                    maintenance_ratio=ratio,
                )
        metrics.set_collateral_usd(snap.venue, equity_usd)
