"""Times on the command line and in reports: ISO-8601 UTC out, ISO-8601 or an age in.

``--since``/``--until`` take an ISO-8601 date or date-time (UTC unless it names an
offset) or an age before now such as ``90m``, ``24h`` or ``7d``; anything else is one
error naming the value and both accepted forms. Without ``--since`` a reader shows the
journal's last day, without ``--until`` everything after it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, iso_utc
from bot.journal import Journal

_AGE: Final = re.compile(r"(\d+(?:\.\d+)?)([mhd])")
_UNIT_MS: Final = {"m": MS_PER_MINUTE, "h": MS_PER_HOUR, "d": MS_PER_DAY}
NO_END_MS: Final = 253_402_300_799_000
"""9999-12-31T23:59:59Z: no end, and still a time ISO-8601 can print."""


def parse_when(text: str, now_ms: int) -> int:
    """``text`` as epoch ms: ``24h`` is a day before ``now_ms``; ``2026-12-01`` is its UTC
    midnight. ValueError naming the value and the accepted forms otherwise."""
    value = text.strip()
    age = _AGE.fullmatch(value)
    if age is not None:
        return now_ms - int(float(age.group(1)) * _UNIT_MS[age.group(2)])
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO-8601 date/time (2026-12-01, 2026-12-01T08:00Z) "
            "nor an age like 90m, 24h or 7d"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def journal_window(journal: Journal, since_ms: int | None, until_ms: int | None) -> tuple[int, int]:
    """``[since, until)`` with the defaults filled in: from a day before the journal's
    newest cycle (a simulation's clock is not the wall clock), with no end."""
    if since_ms is None:
        newest = journal.pnl.newest_ms()
        since_ms = 0 if newest is None else newest - MS_PER_DAY
    return since_ms, NO_END_MS if until_ms is None else until_ms


def until_text(until_ms: int) -> str | None:
    """A window's end as a person reads it: ISO-8601 UTC, or None for an open end."""
    return None if until_ms >= NO_END_MS else iso_utc(until_ms)
