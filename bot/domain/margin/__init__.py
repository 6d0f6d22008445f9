"""Margin engine: venue margin models, liquidation distance and model/venue cross-checks.

Venue-reported equity, IM and MM are the truth for the present; these pure
models answer what-if questions and are cross-checked against the venue.

- :mod:`.standard`: Deribit standard margin per position (options, futures).
- :mod:`.portfolio`: Deribit portfolio margin (risk matrix, extended table).
- :mod:`.linear`: tiered IM/MM of USDT/USDC-margined futures and perps.
- :mod:`.liquidation`: the liquidation distance's models, parameters and result (the
  search for the price moves to equity = maintenance runs on the stress kernel:
  :func:`bot.domain.stress.liquidation_distance`).
- :mod:`.breach`: breach probability and expected time under jump-diffusion.
- :mod:`.drift`: our model vs the venue's figures -> alerts.

Full revaluation under scenarios lives in :mod:`bot.domain.revalue`.
"""

from bot.domain.margin.breach import (
    JumpDiffusion,
    breach_hits,
    breach_probability,
    breach_share,
    calibrate,
    expected_breach_time_years,
)
from bot.domain.margin.drift import DriftAlert, MarginFigures, margin_drift, model_figures
from bot.domain.margin.linear import TierTable, tiered_margin
from bot.domain.margin.liquidation import (
    LiquidationDistance,
    LiquidationParams,
    MarginModel,
)
from bot.domain.margin.portfolio import PortfolioMargin, PortfolioParams, portfolio_margin
from bot.domain.margin.standard import AccountMargin, StandardParams, standard_margin

__all__ = [
    "AccountMargin",
    "DriftAlert",
    "JumpDiffusion",
    "LiquidationDistance",
    "LiquidationParams",
    "MarginFigures",
    "MarginModel",
    "PortfolioMargin",
    "PortfolioParams",
    "StandardParams",
    "TierTable",
    "breach_hits",
    "breach_probability",
    "breach_share",
    "calibrate",
    "expected_breach_time_years",
    "margin_drift",
    "model_figures",
    "portfolio_margin",
    "standard_margin",
    "tiered_margin",
]
