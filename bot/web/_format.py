"""How the pages write numbers and times: units beside every figure, no raw epoch ms.

Times are ISO-8601 UTC; a missing or non-finite number is a
dash, never ``nan``; thousands are grouped so a desk can read 1,234,567 at a
glance. These are the templates' filters.
"""

from __future__ import annotations

import math
from typing import Final

from bot.domain import timeunits

DASH: Final = "–"


def iso_utc(ts_ms: int | None) -> str:
    """:func:`bot.domain.timeunits.iso_utc`, or a dash for None or 0 (never set)."""
    return timeunits.iso_utc(ts_ms) if ts_ms else DASH


def number(value: float | None, digits: int = 2) -> str:
    """Grouped thousands, ``digits`` decimals and a true minus sign; a dash if not finite."""
    if value is None or not math.isfinite(value):
        return DASH
    text = f"{value:,.{digits}f}"
    if not text.startswith("-"):
        return text
    return text[1:] if text.strip("-0.,") == "" else "−" + text[1:]  # no "−0.00"


def signed(value: float | None, digits: int = 2) -> str:
    """As :func:`number`, with a plus sign on positive values (a change, a delta)."""
    text = number(value, digits)
    nonzero = text.strip("0.,") not in {"", DASH}
    return "+" + text if value is not None and value > 0 and nonzero else text


def percent(frac: float | None, digits: int = 1) -> str:
    """A fraction as a percentage (0.153 -> ``15.3 %``); ``beyond range`` for infinity."""
    if frac is not None and math.isinf(frac):
        return "beyond range"
    return DASH if frac is None or math.isnan(frac) else f"{number(frac * 100, digits)} %"


def seconds(value: float | None) -> str:
    """An age or duration: ``4.2 s``, ``3 min 5 s``, ``2 h 10 min``."""
    if value is None or not math.isfinite(value):
        return DASH
    if value < 60:
        return f"{value:.1f} s"
    whole = round(value)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
