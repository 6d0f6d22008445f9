"""Time units: the one place the tree defines how many milliseconds make an hour or a year.

Names read as ``MS_PER_<unit>`` (a count of the smaller unit in the larger).
The year is ACT/365, the basis Deribit prices options on, so ``tau_years`` =
``(expiry_ms - now_ms) / MS_PER_YEAR``. A leaf module: it imports nothing.
"""

from __future__ import annotations

from typing import Final

MS_PER_SECOND: Final = 1_000
MS_PER_MINUTE: Final = 60 * MS_PER_SECOND
MS_PER_HOUR: Final = 60 * MS_PER_MINUTE
MS_PER_DAY: Final = 24 * MS_PER_HOUR
DAYS_PER_YEAR: Final = 365.0
"""ACT/365: calendar days in the year fraction of ``tau_years`` (theta is per one of them)."""
MS_PER_YEAR: Final = 365 * MS_PER_DAY
SECONDS_PER_YEAR: Final = DAYS_PER_YEAR * 86_400
