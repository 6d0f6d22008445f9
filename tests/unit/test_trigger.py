"""When a streamed index move starts a cycle: the move threshold, the band, the spacing."""

from __future__ import annotations

import math

import pytest

from bot.domain.trigger import BandAnchor, TriggerRules, move_trigger, next_start_ms

RULES = TriggerRules(index_move_frac=0.01, band_frac=1.0, min_spacing_ms=1000)


def anchor(
    total: float = 0.05, gamma: float = 0.8, band: tuple[float, float] | None = (-0.5, 0.5)
) -> BandAnchor:
    """Hull's example book: delta +0.05 BTC, gamma 0.8 BTC per 1 %, band +/-0.5 BTC at 60 000."""
    lower, upper = band if band is not None else (None, None)
    return BandAnchor(60_000.0, total, gamma, lower, upper)


class TestMoveTrigger:
    def test_hulls_example_leaves_the_band(self) -> None:
        """+0.75 % moves the delta by 0.8 x 0.75 = 0.6 to 0.65 BTC, beyond the 0.5 half-width."""
        reason = move_trigger(anchor(), 60_450.0, RULES)
        assert reason is not None and "+0.6500 coin" in reason

    def test_a_move_inside_the_band_waits_for_the_timer(self) -> None:
        """+0.5 % projects 0.45 BTC: inside the band and under the move threshold."""
        assert move_trigger(anchor(), 60_300.0, RULES) is None

    def test_the_band_fraction_narrows_the_trigger(self) -> None:
        """With band_frac 0.5 the same +0.5 % (0.45 BTC) is beyond half the band."""
        rules = TriggerRules(0.01, 0.5, 1000)
        assert move_trigger(anchor(), 60_300.0, rules) is not None

    @pytest.mark.parametrize("index_usd", [60_600.0, 59_400.0])
    def test_a_large_move_triggers_either_way_without_a_band(self, index_usd: float) -> None:
        """A move of the threshold (1 %) triggers up or down even when the strategy has no band."""
        reason = move_trigger(anchor(gamma=0.0, band=None), index_usd, RULES)
        assert reason is not None and "index moved" in reason

    @pytest.mark.parametrize("index_usd", [math.nan, 0.0, -1.0])
    def test_an_unusable_index_never_triggers(self, index_usd: float) -> None:
        """NaN, zero or negative index prices are no evidence of a move."""
        assert move_trigger(anchor(), index_usd, RULES) is None

    def test_an_unusable_band_falls_back_to_the_move_threshold(self) -> None:
        """A NaN band (inputs unusable last cycle) triggers only on the index threshold."""
        nan_band = anchor(band=(math.nan, math.nan))
        assert move_trigger(nan_band, 60_450.0, RULES) is None


class TestSpacing:
    def test_first_trigger_starts_now(self) -> None:
        """With no triggered cycle yet, a trigger starts at once."""
        assert next_start_ms(None, 5_000, RULES) == 5_000

    def test_a_trigger_waits_out_the_spacing(self) -> None:
        """300 ms after a triggered start, the next one waits until 1000 ms after it."""
        assert next_start_ms(5_000, 5_300, RULES) == 6_000

    def test_a_late_trigger_is_not_delayed(self) -> None:
        """Past the spacing a trigger starts at once."""
        assert next_start_ms(5_000, 7_000, RULES) == 7_000
