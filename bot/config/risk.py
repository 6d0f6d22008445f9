"""``[risk]``: the caps and guards the risk gate enforces before any network write.

The defaults suit a small book on one exchange; a desk sizes them to its own
book. Times are seconds here and become milliseconds in the pure core; each is
at most a day, a window the journal's order history covers.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.config.base import FrozenModel, Loc, fail_at
from bot.domain.risk import RiskLimits

MAX_NOTIONAL_USD = 1e12
"""Largest notional cap, in USD."""

MIN_DURATION_S = 0.001
"""Shortest window, age or grace, in seconds: a millisecond, the resolution of the core."""

MAX_WINDOW_S = 86_400.0
"""Longest window, age or grace, in seconds: a day."""


class RiskConfig(FrozenModel):
    """Caps per order, per rolling hour and day, per order window, and input/venue guards."""

    max_order_notional_usd: float = Field(
        default=100_000.0,
        gt=0,
        le=MAX_NOTIONAL_USD,
        description="Largest notional of one order, in USD, in (0, 1e12]. Default 100000.",
    )
    max_hourly_notional_usd: float = Field(
        default=1_000_000.0,
        gt=0,
        le=MAX_NOTIONAL_USD,
        description=(
            "Largest notional sent in any rolling hour, in USD (orders already sent count), "
            "in [max_order_notional_usd, 1e12]. Default 1000000."
        ),
    )
    max_daily_notional_usd: float = Field(
        default=5_000_000.0,
        gt=0,
        le=MAX_NOTIONAL_USD,
        description=(
            "Largest notional sent in any rolling 24 hours, in USD, in "
            "[max_hourly_notional_usd, 1e12]. Default 5000000."
        ),
    )
    max_order_premium_usd: float = Field(
        default=250_000.0,
        gt=0,
        le=MAX_NOTIONAL_USD,
        description=(
            "Largest option premium one order may move (amount x limit price, paid or "
            "received), in USD, in (0, 1e12]. Default 250000."
        ),
    )
    max_daily_premium_usd: float = Field(
        default=1_000_000.0,
        gt=0,
        le=MAX_NOTIONAL_USD,
        description=(
            "Largest option premium the orders of one UTC day may move, in USD (orders already "
            "sent count), in [max_order_premium_usd, 1e12]. Default 1000000."
        ),
    )
    max_orders_per_window: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="Most orders sent in any rolling order_window_s, in 1..100000. Default 30.",
    )
    order_window_s: float = Field(
        default=60.0,
        ge=MIN_DURATION_S,
        le=MAX_WINDOW_S,
        description="Length of the order-count window, in seconds, in [0.001, 86400]. Default 60.",
    )
    max_input_age_s: float = Field(
        default=10.0,
        ge=MIN_DURATION_S,
        le=MAX_WINDOW_S,
        description=(
            "Oldest input a cycle may act on, in seconds: a mark or index by the time the "
            "venue stamped on it (corrected for clock skew), positions by when the read "
            "started; older inputs skip the cycle and fail /health. Default 10, in [0.001, 86400]."
        ),
    )
    max_clock_skew_s: float = Field(
        default=5.0,
        ge=MIN_DURATION_S,
        le=3600,
        description=(
            "Largest difference between a venue's clock and ours, in seconds, beyond the "
            "measurement's uncertainty (half the round trip); more is an alarm: logged as "
            "an error, exported, /health failing. Input ages are corrected by the measured "
            "skew either way. Default 5, in [0.001, 3600]."
        ),
    )
    delta_tolerance_coin: float = Field(
        default=0.25,
        gt=0,
        le=1e6,
        description=(
            "Largest difference between our delta and the venue's reported delta for one "
            "underlying, in coin; beyond it that underlying is not hedged. Default 0.25, in "
            "(0, 1e6]."
        ),
    )
    delta_tolerance_frac: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description=(
            "The same tolerance as a fraction of the book's gross option delta (sum of "
            "|position delta|), used when larger than delta_tolerance_coin. Default 0.02, "
            "in [0, 1)."
        ),
    )
    max_consecutive_failures: int = Field(
        default=5,
        ge=1,
        le=10_000,
        description="Consecutive failed cycles that halt trading, in 1..10000. Default 5.",
    )
    max_slippage_frac: float = Field(
        default=0.005,
        gt=0,
        le=0.5,
        description=(
            "Limit of an IOC hedge away from the mark, as a fraction of the mark "
            "(0.005 = 0.5%). Default 0.005, in (0, 0.5]."
        ),
    )
    unknown_grace_s: float = Field(
        default=30.0,
        ge=MIN_DURATION_S,
        le=MAX_WINDOW_S,
        description=(
            "Seconds after sending before a venue's 'no such order' may mark an order of "
            "unknown outcome NOT_FOUND, in [0.001, unknown_resolution_s]. Default 30."
        ),
    )
    max_external_change_usd: float = Field(
        default=10_000.0,
        gt=0,
        le=1e12,
        description=(
            "A position that moves between two reads with no order of ours in flight (a manual "
            "trade, a liquidation) is journaled as external and hedged as the venue shows it; "
            "beyond this much USD in one read its underlying locks until an operator resumes. "
            "Default 10000, in (0, 1e12]."
        ),
    )
    unknown_resolution_s: float = Field(
        default=300.0,
        ge=MIN_DURATION_S,
        le=MAX_WINDOW_S,
        description=(
            "Seconds after sending by which an order of unknown outcome with no venue evidence "
            "at all (every lookup failed) is given up as NOT_FOUND, with an error logged; late "
            "evidence still moves it for a day. Default 300, in [unknown_grace_s, 86400]."
        ),
    )

    @model_validator(mode="after")
    def _check_cap_order(self) -> RiskConfig:
        """A wider window with a smaller cap would silently make the narrower cap dead."""
        problems: list[tuple[Loc, str]] = []
        if self.max_hourly_notional_usd < self.max_order_notional_usd:
            problems.append(
                (
                    ("max_hourly_notional_usd",),
                    f"must be >= max_order_notional_usd ({self.max_order_notional_usd})",
                )
            )
        if self.unknown_resolution_s < self.unknown_grace_s:
            problems.append(
                (
                    ("unknown_resolution_s",),
                    f"must be >= unknown_grace_s ({self.unknown_grace_s})",
                )
            )
        if self.max_daily_notional_usd < self.max_hourly_notional_usd:
            problems.append(
                (
                    ("max_daily_notional_usd",),
                    f"must be >= max_hourly_notional_usd ({self.max_hourly_notional_usd})",
                )
            )
        if self.max_daily_premium_usd < self.max_order_premium_usd:
            problems.append(
                (
                    ("max_daily_premium_usd",),
                    f"must be >= max_order_premium_usd ({self.max_order_premium_usd})",
                )
            )
        if problems:
            fail_at("risk", problems)
        return self

    @property
    def order_window_ms(self) -> int:
        return round(self.order_window_s * 1000)

    @property
    def max_input_age_ms(self) -> int:
        return round(self.max_input_age_s * 1000)

    @property
    def max_clock_skew_ms(self) -> int:
        return round(self.max_clock_skew_s * 1000)

    @property
    def unknown_grace_ms(self) -> int:
        return round(self.unknown_grace_s * 1000)

    @property
    def unknown_resolution_ms(self) -> int:
        return round(self.unknown_resolution_s * 1000)

    def limits(self) -> RiskLimits:
        """The caps and guards as the risk gate takes them."""
        return RiskLimits(
            max_order_notional_usd=self.max_order_notional_usd,
            max_hourly_notional_usd=self.max_hourly_notional_usd,
            max_daily_notional_usd=self.max_daily_notional_usd,
            max_orders_per_window=self.max_orders_per_window,
            order_window_ms=self.order_window_ms,
            max_input_age_ms=self.max_input_age_ms,
            delta_tolerance_coin=self.delta_tolerance_coin,
            delta_tolerance_frac=self.delta_tolerance_frac,
            max_order_premium_usd=self.max_order_premium_usd,
            max_daily_premium_usd=self.max_daily_premium_usd,
        )
