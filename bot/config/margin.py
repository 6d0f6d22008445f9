"""``[margin]``: margin models per venue, their parameters, liquidation and drift settings.

Defaults reproduce Deribit's published BTC parameters (standard margin, and the
portfolio-margin values ``private/pme/simulate`` reports) and Binance's
BTCUSDT tiers of 2021-03-18; venues change these without notice, which is
what the drift check against the venue's own figures catches. Times are
seconds here and years or milliseconds in the pure core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Literal

from pydantic import Field, model_validator

from bot.config.base import Array, FrozenModel, Loc, fail_at
from bot.domain.ids import Currency
from bot.domain.margin.account import CurrencyMargin, settlement_margin
from bot.domain.margin.linear import BINANCE_BTCUSDT_2021, TierTable
from bot.domain.margin.liquidation import LiquidationParams, MarginModel
from bot.domain.margin.portfolio import DEFAULT_EXTENDED_MOVES, PortfolioParams
from bot.domain.margin.standard import FUTURE_SIZE_FACTOR, StandardParams
from bot.domain.snapshot import VenueSnapshot
from bot.domain.timeunits import SECONDS_PER_YEAR

ModelName = Literal["standard", "portfolio"]

MAX_USD = 1e12
"""Largest USD amount of a dampener or floor; tier bounds go to 1e15."""


class LinearTier(FrozenModel):
    """One notional tier of a linear (USDT/USDC-margined) venue."""

    up_to_notional_usd: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        description=(
            "Upper notional of the tier, in USD, in (0, 1e15]; omit for the last, open-ended "
            "tier. Default none (open-ended)."
        ),
    )
    im_rate_frac: float = Field(
        gt=0,
        le=1,
        description=(
            "Initial margin as a fraction of notional (1 / max leverage), in (0, 1]. Required."
        ),
    )
    mm_rate_frac: float = Field(
        gt=0,
        le=1,
        description=(
            "Maintenance margin as a fraction of notional, in (0, im_rate_frac]. Required."
        ),
    )


def _default_tiers() -> tuple[LinearTier, ...]:
    return tuple(
        LinearTier(
            up_to_notional_usd=None if up == float("inf") else up,
            im_rate_frac=im,
            mm_rate_frac=mm,
        )
        for up, im, mm in BINANCE_BTCUSDT_2021
    )


class PortfolioMarginConfig(FrozenModel):
    """Deribit portfolio-margin parameters (defaults: BTC, from ``private/pme/simulate``)."""

    price_range_frac: float = Field(
        default=0.16,
        gt=0,
        lt=1,
        description="Largest price move of the risk matrix, a fraction in (0, 1). Default 0.16.",
    )
    price_buckets: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Price steps on each side of zero, in 1..100. Default 4 (9 moves).",
    )
    vol_range_up_frac: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="Relative vol shock up at 30 days, in [0, 10]. Default 0.5.",
    )
    vol_range_down_frac: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Relative vol shock down at 30 days, in [0, 1]. Default 0.25.",
    )
    min_vol_for_shock_up_frac: float = Field(
        default=0.5,
        ge=0,
        le=5,
        description="Floor of the shocked-up vol, a fraction in [0, 5]. Default 0.5.",
    )
    short_term_vega_power: float = Field(
        default=0.30,
        ge=0,
        le=5,
        description="Power of 30/days below 30 days, in [0, 5]. Default 0.30.",
    )
    long_term_vega_power: float = Field(
        default=0.13,
        ge=0,
        le=5,
        description="Power of 30/days from 30 days on, in [0, 5]. Default 0.13.",
    )
    min_days: float = Field(
        default=1.0,
        gt=0,
        le=3650,
        description="Floor of days to expiry in 30/days, in days, in (0, 3650]. Default 1.",
    )
    extended_moves_frac: Array[float] = Field(
        default=DEFAULT_EXTENDED_MOVES,
        description=(
            "Extended-table price moves, fractions in (-1, 100], non-zero. Default -0.66..5."
        ),
    )
    extended_table_factor: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="Multiplies the extended P&L fraction range/|move|, in [0, 100]. Default 1.",
    )
    extended_dampener_usd: float = Field(
        default=100_000.0,
        ge=0,
        le=MAX_USD,
        description=(
            "Subtracted from each extended loss of coin-settled positions, in USD (Deribit's "
            "btc extended_dampener), in [0, 1e12]. Default 1e5."
        ),
    )
    linear_extended_dampener_usd: float = Field(
        default=25_000.0,
        ge=0,
        le=MAX_USD,
        description=(
            "Subtracted from each extended loss of USD-settled positions, in USD (Deribit's "
            "usd extended_dampener), in [0, 1e12]. Default 25000."
        ),
    )
    roll_shock_frac: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description=(
            "Roll shock: this fraction of the gross futures and perpetual position (coin, or "
            "its USD notional if linear) is added to the worst loss (Deribit's "
            "min_annualised_move), in [0, 1]. Default 0.01."
        ),
    )
    mm_factor: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Maintenance as a fraction of worst loss + roll shock, in (0, 1]. Default 0.8.",
    )

    @model_validator(mode="after")
    def _check_moves(self) -> PortfolioMarginConfig:
        bad = [
            (("extended_moves_frac", i), "must be > -1, non-zero and at most 100")
            for i, m in enumerate(self.extended_moves_frac)
            if m <= -1 or m == 0 or m > 100
        ]
        if bad:
            fail_at("margin.portfolio", bad)
        return self

    def params(self) -> PortfolioParams:
        return PortfolioParams(**self.model_dump())


class MarginConfig(FrozenModel):
    """Which margin model each venue runs and the parameters of every model."""

    default_model: ModelName = Field(
        default="standard",
        description="Model of other venues: 'standard' | 'portfolio'. Default standard.",
    )
    venue_models: dict[str, ModelName] = Field(
        default_factory=dict,
        description=("Model per configured venue name, overriding default_model. Default {}."),
    )
    future_size_factor: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: dict(FUTURE_SIZE_FACTOR),
        description=(
            "Deribit futures margin growth per coin held, a fraction of notional per coin in "
            "[0, 1], by configured underlying (missing ones: 0). Default BTC 0.00005, "
            "ETH 0.000004."
        ),
    )
    linear_tiers: Array[LinearTier] = Field(
        default_factory=_default_tiers,
        description=(
            "Notional tiers of linear futures/perps, lowest first. Default: Binance BTCUSDT."
        ),
    )
    linear_tiers_marginal: bool = Field(
        default=True,
        description=(
            "true: each slice of notional pays its tier's MM rate (Binance); false: the whole "
            "position pays its tier's rate (Bybit). Default true."
        ),
    )
    portfolio: PortfolioMarginConfig = Field(
        default_factory=PortfolioMarginConfig,
        description="Deribit portfolio-margin parameters. Default: see [margin.portfolio].",
    )
    liquidation_vol_beta_down: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description=(
            "Vol added per unit of fall (0.5: +10 vol pts at -20%), in [0, 10]. Default 0.5."
        ),
    )
    liquidation_vol_beta_up: float = Field(
        default=0.25,
        ge=0,
        le=10,
        description="Vol added per unit of rise, in [0, 10]. Default 0.25.",
    )
    liquidation_max_move_down_frac: float = Field(
        default=0.95,
        gt=0,
        lt=1,
        description="Deepest fall searched, a fraction in (0, 1). Default 0.95.",
    )
    liquidation_max_move_up_frac: float = Field(
        default=5.0,
        gt=0,
        le=100,
        description="Largest rise searched, a fraction in (0, 100]. Default 5.0 (+500%).",
    )
    breach_horizon_s: float = Field(
        default=86_400.0,
        gt=0,
        le=SECONDS_PER_YEAR,
        description=(
            "Horizon of the breach probability, in seconds, in (0, 31536000] (a year). "
            "Default 86400."
        ),
    )
    breach_paths: int = Field(
        default=20_000,
        ge=100,
        le=1_000_000,
        description="Monte Carlo paths, in 100..1000000. Default 20000.",
    )
    breach_steps: int = Field(
        default=96, ge=1, le=10_000, description="Time steps per path, in 1..10000. Default 96."
    )
    breach_seed: int = Field(
        default=0, ge=0, le=2**63 - 1, description="Monte Carlo seed, in [0, 2^63 - 1]. Default 0."
    )
    jump_threshold_sigmas: float = Field(
        default=4.0,
        gt=0,
        le=100,
        description="Returns beyond this many sigmas are jumps, in (0, 100]. Default 4.",
    )
    drift_tolerance_frac: float = Field(
        default=0.05,
        gt=0,
        le=10,
        description=(
            "Model vs venue IM/MM difference that alerts, a fraction in (0, 10]. Default 0.05."
        ),
    )
    drift_floor_usd: float = Field(
        default=100.0,
        gt=0,
        le=MAX_USD,
        description="Smallest denominator of the drift, in USD, in (0, 1e12]. Default 100.",
    )

    @model_validator(mode="after")
    def _check_tiers(self) -> MarginConfig:
        problems: list[tuple[Loc, str]] = []
        tiers = self.linear_tiers
        if not tiers:
            problems.append((("linear_tiers",), "needs at least one tier"))
        for i, t in enumerate(tiers):
            last = i == len(tiers) - 1
            if (t.up_to_notional_usd is None) != last:
                problems.append(
                    (("linear_tiers", i, "up_to_notional_usd"), "only the last tier is open-ended")
                )
            if t.mm_rate_frac > t.im_rate_frac:
                problems.append((("linear_tiers", i, "mm_rate_frac"), "must be <= im_rate_frac"))
        if problems:
            fail_at("margin", problems)
        try:
            self.tier_table()
        except ValueError as exc:
            fail_at("margin", [(("linear_tiers",), str(exc))])
        return self

    def model_for(self, venue: str) -> MarginModel:
        return MarginModel(self.venue_models.get(venue, self.default_model))

    def account_margin_of(
        self, venue: str
    ) -> Callable[[VenueSnapshot], Mapping[Currency, CurrencyMargin]]:
        """``venue``'s model as a function of a read of its account: a paper venue's margin."""
        return partial(
            settlement_margin,
            model=self.model_for(venue),
            standard=self.standard_params(),
            portfolio=self.portfolio.params(),
        )

    def tier_table(self) -> TierTable:
        rows = tuple(
            (
                float("inf") if t.up_to_notional_usd is None else t.up_to_notional_usd,
                t.im_rate_frac,
                t.mm_rate_frac,
            )
            for t in self.linear_tiers
        )
        return TierTable.from_rows(rows, marginal=self.linear_tiers_marginal)

    def standard_params(self) -> StandardParams:
        return StandardParams(size_factor=dict(self.future_size_factor), tiers=self.tier_table())

    def liquidation_params(self) -> LiquidationParams:
        return LiquidationParams(
            vol_beta_down=self.liquidation_vol_beta_down,
            vol_beta_up=self.liquidation_vol_beta_up,
            max_move_down_frac=self.liquidation_max_move_down_frac,
            max_move_up_frac=self.liquidation_max_move_up_frac,
        )

    @property
    def breach_horizon_years(self) -> float:
        return self.breach_horizon_s / SECONDS_PER_YEAR
