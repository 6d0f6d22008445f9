"""Liquidation distance's margin models, parameters and result.

The search itself (:func:`bot.domain.stress.liquidation.liquidation_distance`) runs
on the stress kernel: it needs the book's equity and maintenance under many trial
moves, which is what that kernel computes. These types stay here, below both, so the
config and the margin engine name them without importing the stress package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.pricing.arrays import FloatArray


class MarginModel(StrEnum):
    """Margin model of an account: Deribit standard (per position) or portfolio margin."""

    STANDARD = "standard"
    PORTFOLIO = "portfolio"


@dataclass(frozen=True, slots=True)
class LiquidationParams:
    """Vol shock tied to the move and the root search (fractions)."""

    vol_beta_down: float = 0.5
    vol_beta_up: float = 0.25
    max_move_down_frac: float = 0.95
    max_move_up_frac: float = 5.0
    grid_points: int = 12
    tolerance_frac: float = 1e-6
    max_iterations: int = 40


@dataclass(frozen=True, slots=True)
class LiquidationDistance:
    """Per venue: moves to breach (positive magnitudes; inf: none in range; 0: in breach now)."""

    venues: tuple[str, ...]
    down_frac: FloatArray
    up_frac: FloatArray
    down_sigmas: FloatArray
    up_sigmas: FloatArray
    equity_usd: FloatArray
    maintenance_usd: FloatArray
    daily_vol_frac: FloatArray
