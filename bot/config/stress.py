"""``[stress]``: the stress grid, the named scenarios, custom ones, and the daemon's light pass.

Defaults follow issue 5 §3: a 41 × 21 grid from −50 % to +50 % in price and
vol × 0.5 to × 2.5, a −50 % crash with vol doubled, a one-week withdrawal
freeze under a 3-sigma move, and a cascade at ±30 % then 10 % more. Moves are
fractions (−0.5 = −50 %); times are seconds here, as elsewhere in the config.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from bot.config.base import FrozenModel, Loc, fail_at
from bot.config.margin import MarginConfig
from bot.domain.margin.liquidation import MarginModel
from bot.domain.stress import CustomScenario, LightParams, MarginSetup

VolShiftMode = Literal["relative", "absolute"]


class CustomScenarioConfig(FrozenModel):
    """One ``[[stress.scenarios]]`` table: a what-if the named scenarios do not cover."""

    name: str = Field(min_length=1, description="Name shown in the report. Required.")
    description: str = Field(
        default="", description="One line saying what it models. Default: the name."
    )
    price_move_frac: float | dict[str, float] = Field(
        default=0.0,
        description=(
            "Price move, a fraction > -1 (-0.3 = -30%): one number for every underlying, or a "
            "table per underlying, e.g. { BTC = -0.2, ETH = -0.4 } (missing ones: 0). Default 0."
        ),
    )
    vol_shift_frac: float = Field(
        default=0.0,
        description="Vol points added to every implied vol, a fraction (0.1 = +10). Default 0.",
    )
    vol_shift_rel_frac: float = Field(
        default=0.0,
        gt=-1,
        description="Relative vol shift (1.0 doubles every vol), > -1. Default 0.",
    )
    lost_venues: tuple[str, ...] = Field(
        default=(),
        description="Venues whose collateral and positions are lost. Default: none.",
    )

    @model_validator(mode="after")
    def _check_moves(self) -> CustomScenarioConfig:
        moves = (
            self.price_move_frac.items()
            if isinstance(self.price_move_frac, dict)
            else [((), self.price_move_frac)]
        )
        bad: list[tuple[Loc, str]] = [
            (("price_move_frac", *((key,) if key else ())), "must be > -1")
            for key, move in moves
            if not move > -1
        ]
        if bad:
            fail_at("stress.scenarios", bad)
        return self

    def scenario(self, underlyings: tuple[str, ...]) -> CustomScenario:
        """The domain scenario; a single move applies to every one of ``underlyings``."""
        move = self.price_move_frac
        moves = dict(move) if isinstance(move, dict) else dict.fromkeys(underlyings, move)
        return CustomScenario(
            name=self.name,
            price_move_frac=moves,
            vol_shift_frac=self.vol_shift_frac,
            vol_shift_rel_frac=self.vol_shift_rel_frac,
            lost_venues=self.lost_venues,
            description=self.description,
        )


class StressConfig(FrozenModel):
    """Grid axes, named-scenario parameters, custom scenarios and the daemon's light pass."""

    price_move_min_frac: float = Field(
        default=-0.5, gt=-1, description="Lowest price move of the grid, > -1. Default -0.5."
    )
    price_move_max_frac: float = Field(
        default=0.5, description="Highest price move of the grid. Default 0.5."
    )
    price_points: int = Field(
        default=41, ge=2, le=1001, description="Price moves, evenly spaced. Default 41."
    )
    vol_shift_mode: VolShiftMode = Field(
        default="relative",
        description=(
            "relative (vol x (1 + shift)) | absolute (vol + shift, in vol fractions). "
            "Default relative."
        ),
    )
    vol_shift_min: float = Field(
        default=-0.5,
        description="Lowest vol shift of the grid, a fraction (> -1 if relative). Default -0.5.",
    )
    vol_shift_max: float = Field(
        default=1.5, description="Highest vol shift of the grid, a fraction. Default 1.5."
    )
    vol_points: int = Field(
        default=21,
        ge=1,
        le=1001,
        description="Vol shifts, evenly spaced; 1 means vol unchanged only. Default 21.",
    )
    vol_floor_frac: float = Field(
        default=0.01,
        ge=0,
        description="Lowest vol a shift can reach, a fraction (0.01 = 1%). Default 0.01.",
    )
    crash_move_frac: float = Field(
        default=-0.5, gt=-1, description="Price move of the crash scenario. Default -0.5."
    )
    crash_vol_mult: float = Field(
        default=2.0, gt=0, description="Vol multiplier of the crash scenario. Default 2."
    )
    default_venues: tuple[str, ...] = Field(
        default=(), description="Venues whose default is tested. Default: every venue."
    )
    default_then_move_frac: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description=(
            "Move against the book left unhedged after a default, a fraction. Default 0.1."
        ),
    )
    freeze_venues: tuple[str, ...] = Field(
        default=(), description="Venues whose withdrawal freeze is tested. Default: every venue."
    )
    freeze_days: float = Field(
        default=7.0, ge=0, description="Length of a withdrawal freeze, in days. Default 7."
    )
    freeze_sigmas: float = Field(
        default=3.0, ge=0, description="Market move during the freeze, in sigmas. Default 3."
    )
    cascade_hedge_venues: tuple[str, ...] = Field(
        default=(),
        description=(
            "Hedge venues liquidated in the cascade. Default: venues with role hedge but not "
            "options (else every hedge venue)."
        ),
    )
    cascade_moves_frac: tuple[float, ...] = Field(
        default=(-0.3, 0.3),
        description="Moves at which the hedge venue liquidates, one cascade each. Default ±0.3.",
    )
    cascade_further_move_frac: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description="Further move against the unhedged book after it. Default 0.1.",
    )
    scenarios: tuple[CustomScenarioConfig, ...] = Field(
        default=(),
        description="Custom scenarios, one [[stress.scenarios]] table each. Default: none.",
    )
    interval_s: float = Field(
        default=300.0, gt=0, description="Seconds between the daemon's light passes. Default 300."
    )
    light_price_points: int = Field(
        default=11, ge=2, le=201, description="Price moves of the daemon's light grid. Default 11."
    )
    light_vol_points: int = Field(
        default=5, ge=1, le=201, description="Vol shifts of the daemon's light grid. Default 5."
    )

    @model_validator(mode="after")
    def _check_ranges(self) -> StressConfig:
        problems: list[tuple[Loc, str]] = []
        if self.price_move_max_frac <= self.price_move_min_frac:
            problems.append((("price_move_max_frac",), "must be > price_move_min_frac"))
        if self.vol_shift_max < self.vol_shift_min:
            problems.append((("vol_shift_max",), "must be >= vol_shift_min"))
        if self.vol_shift_mode == "relative" and self.vol_shift_min <= -1:
            problems.append((("vol_shift_min",), "a relative shift must be > -1"))
        problems.extend(
            (("cascade_moves_frac", i), "must be > -1")
            for i, m in enumerate(self.cascade_moves_frac)
            if not m > -1
        )
        if problems:
            fail_at("stress", problems)
        return self

    @property
    def vol_relative(self) -> bool:
        return self.vol_shift_mode == "relative"

    def price_moves(self, points: int | None = None) -> tuple[float, ...]:
        """The grid's price moves (``points`` of them, default ``price_points``)."""
        n = self.price_points if points is None else points
        axis = np.linspace(self.price_move_min_frac, self.price_move_max_frac, n)
        return tuple(round(float(x), 12) for x in axis)

    def vol_shifts(self, points: int | None = None) -> tuple[float, ...]:
        """The grid's vol shifts (``points`` of them, default ``vol_points``)."""
        n = self.vol_points if points is None else points
        if n == 1:
            return (0.0,)
        axis = np.linspace(self.vol_shift_min, self.vol_shift_max, n)
        return tuple(round(float(x), 12) for x in axis)

    def light_params(self) -> LightParams:
        """Axes of the daemon's light pass (same ranges, fewer points) and the crash."""
        return LightParams(
            price_moves_frac=self.price_moves(self.light_price_points),
            vol_shifts=self.vol_shifts(self.light_vol_points),
            vol_relative=self.vol_relative,
            vol_floor_frac=self.vol_floor_frac,
            crash_move_frac=self.crash_move_frac,
            crash_vol_mult=self.crash_vol_mult,
        )


def margin_setup(margin: MarginConfig) -> MarginSetup:
    """The domain's margin setup (model per venue and parameters) from ``[margin]``."""
    return MarginSetup(
        default_model=MarginModel(margin.default_model),
        venue_models={name: MarginModel(m) for name, m in margin.venue_models.items()},
        standard=margin.standard_params(),
        portfolio=margin.portfolio.params(),
        liquidation=margin.liquidation_params(),
    )
