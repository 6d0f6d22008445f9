"""[risk] config: defaults, positivity, cap ordering, and the millisecond views."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config.risk import RiskConfig


def test_defaults_are_valid_and_documented() -> None:
    """Defaults load, every field has a description, and seconds convert to milliseconds."""
    cfg = RiskConfig()
    assert (cfg.order_window_ms, cfg.max_input_age_ms, cfg.unknown_grace_ms) == (
        60_000,
        10_000,
        30_000,
    )
    assert all(f.description for f in RiskConfig.model_fields.values())


@pytest.mark.parametrize(
    "field",
    [
        "max_order_notional_usd",
        "max_orders_per_window",
        "order_window_s",
        "unknown_grace_s",
        "max_order_premium_usd",
    ],
)
def test_non_positive_values_are_refused(field: str) -> None:
    """Zero is refused for every cap and duration."""
    with pytest.raises(ValidationError, match=field):
        RiskConfig.model_validate({field: 0})


def test_caps_must_widen_with_the_window() -> None:
    """An hourly cap below the per-order cap is reported at the hourly key."""
    with pytest.raises(ValidationError, match=r"max_hourly_notional_usd\n  must be >= max_order"):
        RiskConfig(max_order_notional_usd=2_000_000)


def test_the_daily_premium_cap_must_cover_one_order() -> None:
    """A daily premium cap below the per-order one is reported at the daily key."""
    with pytest.raises(ValidationError, match=r"max_daily_premium_usd\n  must be >= max_order_p"):
        RiskConfig(max_order_premium_usd=2_000_000)


def test_unknown_keys_are_refused() -> None:
    """A misspelt key is an error, not a silently ignored cap."""
    with pytest.raises(ValidationError, match="max_order_notional"):
        RiskConfig.model_validate({"max_order_notional": 1})
