"""The one human time format: ISO-8601 UTC to the millisecond."""

from __future__ import annotations

from bot.domain.timeunits import iso_utc


def test_iso_utc_is_exact_to_the_millisecond() -> None:
    """Epoch milliseconds become ``...T..:..:..mmmZ`` with no float rounding at .999."""
    assert iso_utc(1_796_278_576_123) == "2026-12-03T06:16:16.123Z"
    assert iso_utc(1_796_278_576_999) == "2026-12-03T06:16:16.999Z"
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
