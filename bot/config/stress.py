"""``[stress]``: the stress grid, the named scenarios, custom ones, and the daemon's light pass.

Defaults follow issue 5 §3: a 41 × 21 grid from −50 % to +50 % in price and
vol × 0.5 to × 2.5, a −50 % crash with vol doubled, a one-week withdrawal
freeze under a 3-sigma move, and a cascade at ±30 % then 10 % more. Moves are
fractions (−0.5 = −50 %); times are seconds here, as elsewhere in the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, PlainValidator, TypeAdapter, model_validator

from bot.config.base import STRICT, Array, FrozenModel, Loc, fail_at
from bot.config.daemon import MAX_INTERVAL_S, MIN_INTERVAL_S
from bot.config.margin import MarginConfig
from bot.domain.margin.liquidation import MarginModel

if TYPE_CHECKING:  # the stress package loads its compiled kernel: not for reading a config
    from bot.domain.stress import CustomScenario, LightParams, MarginSetup

VolShiftMode = Literal["relative", "absolute"]

MAX_MOVE_FRAC = 10.0
"""Largest price move, a fraction (+1000%); the smallest is > -1 (a price stays positive)."""

Move = Annotated[float, Field(gt=-1, le=MAX_MOVE_FRAC)]
_ONE_MOVE = TypeAdapter(Move, config=STRICT)
_MOVES = TypeAdapter(dict[str, Move], config=STRICT)


def _one_or_per_underlying(value: object) -> float | dict[str, float]:
    """A table is a move per underlying, anything else one move for all: a bad entry is
    reported once, at its own key, not once per shape the union might have taken."""
    return (
        _MOVES.validate_python(value)
        if isinstance(value, dict)
        else _ONE_MOVE.validate_python(value)
    )


class CustomScenarioConfig(FrozenModel):
    """One ``[[stress.scenarios]]`` table: a what-if the named scenarios do not cover."""

    name: str = Field(min_length=1, description="Name shown in the report. Required.")
    description: str = Field(
        default="", description="One line saying what it models. Default: the name."
    )
    price_move_frac: Annotated[float | dict[str, float], PlainValidator(_one_or_per_underlying)] = (
        Field(
            default=0.0,
            description=(
                "Price move, a fraction in (-1, 10] (-0.3 = -30%): one number for every "
                "underlying, or a table per configured underlying, e.g. "
                "{ BTC = -0.2, ETH = -0.4 } (missing ones: 0). Default 0."
            ),
        )
    )
    vol_shift_frac: float = Field(
        default=0.0,
        ge=-5,
        le=5,
        description=(
            "Vol points added to every implied vol, a fraction (0.1 = +10) in [-5, 5]. Default 0."
        ),
    )
    vol_shift_rel_frac: float = Field(
        default=0.0,
        gt=-1,
        le=10,
        description="Relative vol shift (1.0 doubles every vol), in (-1, 10]. Default 0.",
    )
    lost_venues: Array[str] = Field(
        default=(),
        description="Configured venues whose collateral and positions are lost. Default: none.",
    )

    def scenario(self, underlyings: tuple[str, ...]) -> CustomScenario:
        """The domain scenario; a single move applies to every one of ``underlyings``."""
        from bot.domain.stress import CustomScenario  # noqa: PLC0415 - loads the compiled kernel

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
        default=-0.5,
        gt=-1,
        le=MAX_MOVE_FRAC,
        description="Lowest price move of the grid, a fraction in (-1, 10]. Default -0.5.",
    )
    price_move_max_frac: float = Field(
        default=0.5,
        gt=-1,
        le=MAX_MOVE_FRAC,
        description=(
            "Highest price move of the grid, a fraction in (price_move_min_frac, 10]. Default 0.5."
        ),
    )
    price_points: int = Field(
        default=41, ge=2, le=1001, description="Price moves, evenly spaced, 2..1001. Default 41."
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
        ge=-5,
        le=10,
        description=(
            "Lowest vol shift of the grid, a fraction in [-5, 10] (> -1 if relative). Default -0.5."
        ),
    )
    vol_shift_max: float = Field(
        default=1.5,
        ge=-5,
        le=10,
        description=(
            "Highest vol shift of the grid, a fraction in [vol_shift_min, 10]. Default 1.5."
        ),
    )
    vol_points: int = Field(
        default=21,
        ge=1,
        le=1001,
        description="Vol shifts, evenly spaced, 1..1001; 1 means vol unchanged only. Default 21.",
    )
    vol_floor_frac: float = Field(
        default=0.01,
        ge=0,
        le=5,
        description="Lowest vol a shift can reach, a fraction (0.01 = 1%) in [0, 5]. Default 0.01.",
    )
    crash_move_frac: float = Field(
        default=-0.5,
        gt=-1,
        le=MAX_MOVE_FRAC,
        description="Price move of the crash scenario, a fraction in (-1, 10]. Default -0.5.",
    )
    crash_vol_mult: float = Field(
        default=2.0,
        gt=0,
        le=10,
        description="Vol multiplier of the crash scenario, in (0, 10]. Default 2.",
    )
    default_venues: Array[str] = Field(
        default=(), description="Configured venues whose default is tested. Default: every venue."
    )
    default_then_move_frac: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description=(
            "Move against the book left unhedged after a default, a fraction in [0, 1). "
            "Default 0.1."
        ),
    )
    freeze_venues: Array[str] = Field(
        default=(),
        description="Configured venues whose withdrawal freeze is tested. Default: every venue.",
    )
    freeze_days: float = Field(
        default=7.0,
        ge=0,
        le=365,
        description="Length of a withdrawal freeze, in days, in [0, 365]. Default 7.",
    )
    freeze_sigmas: float = Field(
        default=3.0,
        ge=0,
        le=20,
        description="Market move during the freeze, in sigmas, in [0, 20]. Default 3.",
    )
    cascade_hedge_venues: Array[str] = Field(
        default=(),
        description=(
            "Configured venues with role hedge liquidated in the cascade. Default: venues with "
            "role hedge but not options (else every hedge venue)."
        ),
    )
    cascade_moves_frac: Array[Move] = Field(
        default=(-0.3, 0.3),
        description=(
            "Moves at which the hedge venue liquidates, one cascade each, fractions in "
            "(-1, 10]. Default ±0.3."
        ),
    )
    cascade_further_move_frac: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description="Further move against the unhedged book after it, in [0, 1). Default 0.1.",
    )
    scenarios: Array[CustomScenarioConfig] = Field(
        default=(),
        description="Custom scenarios, one [[stress.scenarios]] table each. Default: none.",
    )
    interval_s: float = Field(
        default=300.0,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description="Seconds between the daemon's light passes, in [0.1, 86400]. Default 300.",
    )
    light_price_points: int = Field(
        default=11,
        ge=2,
        le=201,
        description="Price moves of the daemon's light grid, 2..201. Default 11.",
    )
    light_vol_points: int = Field(
        default=5,
        ge=1,
        le=201,
        description="Vol shifts of the daemon's light grid, 1..201. Default 5.",
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
        from bot.domain.stress import LightParams  # noqa: PLC0415 - loads the compiled kernel

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
    from bot.domain.stress import MarginSetup  # noqa: PLC0415 - loads the compiled kernel

    return MarginSetup(
        default_model=MarginModel(margin.default_model),
        venue_models={name: MarginModel(m) for name, m in margin.venue_models.items()},
        standard=margin.standard_params(),
        portfolio=margin.portfolio.params(),
        liquidation=margin.liquidation_params(),
    )
