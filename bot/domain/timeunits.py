"""Time units: the one place the tree defines how many milliseconds make an hour or a year.

Names read as ``MS_PER_<unit>`` (a count of the smaller unit in the larger).
The year is ACT/365, the basis Deribit prices options on, so ``tau_years`` =
``(expiry_ms - now_ms) / MS_PER_YEAR``. It also holds the one format a person
reads a time in, :func:`iso_utc`. A leaf module: it imports only the standard library.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

MS_PER_SECOND: Final = 1_000
MS_PER_MINUTE: Final = 60 * MS_PER_SECOND
MS_PER_HOUR: Final = 60 * MS_PER_MINUTE
MS_PER_DAY: Final = 24 * MS_PER_HOUR
DAYS_PER_YEAR: Final = 365.0
"""ACT/365: calendar days in the year fraction of ``tau_years`` (theta is per one of them)."""
MS_PER_YEAR: Final = 365 * MS_PER_DAY
SECONDS_PER_YEAR: Final = DAYS_PER_YEAR * 86_400
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def iso_utc(ts_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC to the millisecond, e.g. ``2026-12-03T06:16:16.123Z``.

    The one format every document a person reads uses, so two times in one
    report compare at a glance (raw epoch milliseconds do not).
    """
    moment = _EPOCH + timedelta(milliseconds=ts_ms)  # exact: no float seconds
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
