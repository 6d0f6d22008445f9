"""Read the venues' funding payments into the journal, for P&L attribution (§9).

Runs with the scheduled reconciliation, once after each funding time has passed
(00:00, 08:00 and 16:00 UTC, where Binance, OKX and Bybit settle their perpetuals; see
:func:`read_due`): an income read weighs 30 of Binance's 2,400 a minute, and ccxt
makes the venue's next request wait for it. Each venue is read from its newest journaled
payment on (a day back on its first read,
after the first funding time the daemon lives through); the journal keeps each payment once by its
venue-side id, so overlapping reads never double count. A venue that cannot be read
now is read next time: funding is P&L bookkeeping, never a reason to fail a job.
"""

from __future__ import annotations

import structlog

from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR
from bot.engine.context import EngineContext

log = structlog.get_logger("deltabot.funding")

SETTLEMENT_MS = 8 * MS_PER_HOUR
"""Time between two funding settlements (UTC-aligned)."""
FIRST_READ_LOOKBACK_MS = MS_PER_DAY
"""How far back a venue with no journaled payment is read: three 8-hour settlements."""


def read_due(last_read_ms: int, now_ms: int) -> bool:
    """Whether a funding time has passed since the last read."""
    return now_ms // SETTLEMENT_MS > last_read_ms // SETTLEMENT_MS


async def record_funding(ctx: EngineContext) -> int:
    """Journal every venue's new funding payments; how many were new."""
    new = 0
    for venue_id, venue in ctx.venues.items():
        newest = ctx.journal.pnl.newest_funding_ms(venue_id)
        since = ctx.clock_ms() - FIRST_READ_LOOKBACK_MS if newest is None else newest
        try:
            payments = await venue.fetch_funding(since)
        except Exception as exc:  # read again at the next run
            log.warning("funding_unread", venue=venue_id, error=repr(exc))
            continue
        added = ctx.journal.pnl.record_funding(payments)
        if added:
            log.info("funding_recorded", venue=venue_id, payments=added)
        new += added
    return new
