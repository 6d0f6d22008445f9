"""Tiered linear margin: Binance BTCUSDT tiers and formula, Bybit whole-position rule, config."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bot.config.margin import MarginConfig
from bot.domain.margin.linear import BINANCE_BTCUSDT_2021, TierTable, tiered_margin

BINANCE = TierTable.from_rows(BINANCE_BTCUSDT_2021)


def test_binance_examples() -> None:
    """100,000 USDT: IM 1,000 / MM 450; 2,000,000 USDT: IM 100,000 / MM 33,700 (sign ignored)."""
    im, mm = tiered_margin([100_000.0, -2_000_000.0], BINANCE)
    np.testing.assert_allclose(im, [1_000.0, 100_000.0])
    np.testing.assert_allclose(mm, [450.0, 33_700.0])


def test_maintenance_amounts() -> None:
    """Continuity gives Binance's maintenance amounts 0, 50, 1,300, 16,300, 266,300, ..."""
    np.testing.assert_allclose(
        BINANCE.maintenance_amount_usd[:7],
        [0.0, 50.0, 1_300.0, 16_300.0, 266_300.0, 1_266_300.0, 2_516_300.0],
    )


def test_tier_bound_belongs_to_lower_tier() -> None:
    """A notional exactly on a bound uses the lower tier (Binance: 0 < position <= 50,000)."""
    im, mm = tiered_margin(50_000.0, BINANCE)
    assert float(im) == pytest.approx(400.0)
    assert float(mm) == pytest.approx(200.0)


def test_whole_position_mode() -> None:
    """Bybit-style tiers charge the whole notional the tier rate: 100,000 at 0.5 % is 500."""
    bybit = TierTable.from_rows(BINANCE_BTCUSDT_2021, marginal=False)
    assert float(tiered_margin(100_000.0, bybit)[1]) == pytest.approx(500.0)


def test_rejects_unsorted_tiers() -> None:
    """Tier bounds must rise and end at infinity; MM must not exceed IM."""
    with pytest.raises(ValueError, match="bounds"):
        TierTable.from_rows(((100.0, 0.1, 0.05), (50.0, 0.2, 0.1), (float("inf"), 0.3, 0.2)))
    with pytest.raises(ValueError, match="mm_rate_frac"):
        TierTable.from_rows(((float("inf"), 0.01, 0.02),))


def test_config_defaults_are_binance() -> None:
    """The default [margin] tiers reproduce the Binance table and its examples."""
    table = MarginConfig().tier_table()
    np.testing.assert_array_equal(table.upper_usd, BINANCE.upper_usd)
    assert float(tiered_margin(100_000.0, table)[1]) == pytest.approx(450.0)


def test_config_rejects_open_tier_in_the_middle() -> None:
    """Only the last configured tier may omit up_to_notional_usd; errors point at the tier."""
    tiers = [
        {"im_rate_frac": 0.01, "mm_rate_frac": 0.005},
        {"im_rate_frac": 0.02, "mm_rate_frac": 0.01},
    ]
    with pytest.raises(ValidationError, match="open-ended"):
        MarginConfig.model_validate({"linear_tiers": tiers})
