"""``[options_hedge]``: when and with which options the daemon proposes vega/gamma hedges.

Off by default. When on, every ``interval_s`` the daemon looks at the last
cycle's ``[greek_limits]`` checks; for each underlying past a hard limit with no
live proposal it reads the options venue's chain, whitelists its liquid options
and journals the optimizer's proposal PROPOSED (README "Option-hedge proposals").
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.config.base import FrozenModel
from bot.config.daemon import MAX_INTERVAL_S, MIN_INTERVAL_S
from bot.domain.option_hedge_chain import WhitelistSettings
from bot.domain.units import MAX_AMOUNT


class OptionsHedgeConfig(FrozenModel):
    """``[options_hedge]``: the proposal loop, its whitelist and its caps."""

    enabled: bool = Field(
        default=False, description="Propose option hedges for hard limit breaches. Default: false."
    )
    interval_s: float = Field(
        default=300.0,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description="Seconds between looks for hard breaches. Default 300, in [0.1, 86400].",
    )
    expiry_s: float = Field(
        default=300.0,
        ge=1.0,
        le=MAX_INTERVAL_S,
        description=(
            "Seconds a proposal may wait for approval before it expires (prices move). "
            "Default 300, in [1, 86400]."
        ),
    )
    n_expiries: int = Field(
        default=4,
        ge=1,
        le=20,
        description="Nearest live expiries whitelisted. Default 4, in [1, 20].",
    )
    min_abs_delta: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Smallest |Black delta| whitelisted. Default 0.1, in [0, 1].",
    )
    max_abs_delta: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Largest |Black delta| whitelisted. Default 0.6, in [0, 1].",
    )
    min_open_interest_coin: float = Field(
        default=10.0,
        ge=0.0,
        le=MAX_AMOUNT,
        description="Smallest open interest whitelisted, coin. Default 10, in [0, 1e12].",
    )
    max_spread_frac: float = Field(
        default=0.1,
        gt=0.0,
        le=2.0,
        description=("Widest quote whitelisted, (ask - bid) / mid. Default 0.1, in (0, 2]."),
    )
    fee_frac: float = Field(
        default=0.0003,
        ge=0.0,
        le=0.01,
        description=(
            "Taker fee per coin of option, fraction of the underlying's price (Deribit: "
            "0.0003). Default 0.0003, in [0, 0.01]."
        ),
    )
    max_position_coin: float = Field(
        default=100.0,
        gt=0.0,
        le=MAX_AMOUNT,
        description=(
            "Largest |position| a proposal may leave in one option, coin. Default 100, in "
            "(0, 1e12]."
        ),
    )
    max_premium_usd: float = Field(
        default=1_000_000.0,
        gt=0.0,
        le=1e12,
        description=(
            "Largest premium a proposal may pay and receive in all, USD. Default 1000000, in "
            "(0, 1e12]."
        ),
    )

    iv_tolerance_volpt: float = Field(
        default=2.0,
        ge=0.0,
        le=50.0,
        description=(
            "How far an order's limit may sit from the mark IV against us, vol points (a buy "
            "at mark IV + this, a sell at mark IV - this). Default 2, in [0, 50]."
        ),
    )
    dashboard_max_cost_usd: float = Field(
        default=5_000.0,
        ge=0.0,
        le=1e12,
        description=(
            "Costliest proposal (expected cost, USD) the dashboard offers to approve; dearer "
            "ones need 'deltabot options-hedge approve'. Default 5000, in [0, 1e12]."
        ),
    )

    @model_validator(mode="after")
    def _delta_range(self) -> OptionsHedgeConfig:
        if self.min_abs_delta > self.max_abs_delta:
            raise ValueError(
                f"min_abs_delta {self.min_abs_delta} is above max_abs_delta {self.max_abs_delta}"
            )
        return self

    def whitelist(self) -> WhitelistSettings:
        """The domain's whitelist and cost settings."""
        return WhitelistSettings(
            n_expiries=self.n_expiries,
            min_abs_delta=self.min_abs_delta,
            max_abs_delta=self.max_abs_delta,
            min_open_interest_coin=self.min_open_interest_coin,
            max_spread_frac=self.max_spread_frac,
            fee_frac=self.fee_frac,
            max_position_coin=self.max_position_coin,
        )
