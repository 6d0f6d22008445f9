"""The optimality gap the collateral optimizer accepts: absolute or relative to the bound."""

from __future__ import annotations

import pytest

from bot.config.collateral import CollateralConfig
from bot.domain.collateral import OptimizerSettings


class TestAcceptedGap:
    def test_the_absolute_allowance_holds_for_a_small_bound(self) -> None:
        """Below 5,000 USD of bound, 1 % is under 50 USD: the 50 USD allowance stands."""
        assert OptimizerSettings().accepted_gap_usd(-2_000.0) == 50.0

    def test_the_relative_allowance_grows_with_the_bound(self) -> None:
        """A bound of -10,000 USD at 1 % allows 100 USD, the sign of the bound aside."""
        settings = OptimizerSettings(accept_gap_usd=50.0, accept_gap_frac=0.01)
        assert settings.accepted_gap_usd(-10_000.0) == pytest.approx(100.0)
        assert settings.accepted_gap_usd(10_000.0) == pytest.approx(100.0)

    def test_a_negative_fraction_is_refused(self) -> None:
        """A negative relative gap is a configuration error named by its field."""
        with pytest.raises(ValueError, match="accept_gap_frac"):
            OptimizerSettings(accept_gap_frac=-0.1)

    def test_the_config_passes_the_fraction_through(self) -> None:
        """[collateral] accept_gap_frac reaches the optimizer's settings."""
        cfg = CollateralConfig(accept_gap_frac=0.002)
        assert cfg.optimizer_settings().accept_gap_frac == 0.002
