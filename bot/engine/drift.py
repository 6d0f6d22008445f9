"""Positions that moved outside deltabot: journaled, logged, and a large move locks.

Between two reads of a venue, a position must move exactly by our fills in
between (by the venue's trade times; an instrument with an order still of open
outcome is not judged); if it moved otherwise (a manual trade, a liquidation, another
bot), the difference is journaled as external and logged, and
the cycle hedges the book as the venue now shows it (target-based, so nothing
else is needed). A move worth more than ``max_external_change_usd`` in one read
locks its underlying until an operator resumes: a book that changes under the
hedger by that much deserves a person's look.
"""

from __future__ import annotations

import math

import structlog

from bot.domain.ids import Currency, Symbol
from bot.domain.orders import Fill
from bot.domain.reconcile import external_changes
from bot.domain.snapshot import PortfolioSnapshot, VenueSnapshot
from bot.domain.units import position_coin
from bot.engine.context import EngineContext
from bot.journal.external import ExternalChange

log = structlog.get_logger("deltabot.drift")


def note_external_changes(
    ctx: EngineContext, before: PortfolioSnapshot, after: PortfolioSnapshot
) -> tuple[ExternalChange, ...]:
    """Journal and log every external change between two reads; lock an underlying whose
    changes exceed the limit. Returns what was found."""
    previous = {s.venue: s for s in before.venues}
    found: list[ExternalChange] = []
    for snap in after.venues:
        prior = previous.get(snap.venue)
        if prior is None:
            continue
        fills, busy = _ours_since(ctx, snap, prior)
        for moved in external_changes(prior, snap, fills, busy):
            amount = (moved.observed_change or 0.0) - moved.expected_change
            found.append(_valued(snap, moved.symbol, moved.underlying, amount, after))
    usd_by_underlying: dict[Currency, float] = {}
    for change in found:
        ctx.journal.external.record(change)
        log.warning(
            "external_position_change",
            venue=change.venue,
            symbol=change.symbol,
            change=change.change,
            change_usd=change.change_usd,
        )
        usd_by_underlying[change.underlying] = usd_by_underlying.get(change.underlying, 0.0) + abs(
            change.change_usd
        )
    limit = ctx.config.risk.max_external_change_usd
    for underlying, usd in sorted(usd_by_underlying.items()):
        if not usd <= limit:  # NaN (no price) locks too
            reason = f"positions moved outside deltabot by {usd:,.0f} USD (limit {limit:,.0f})"
            ctx.journal.state.lock_underlying(underlying, reason, ctx.clock_ms())
            log.error("external_change_locked", underlying=underlying, detail=reason)
    return tuple(found)


def _ours_since(
    ctx: EngineContext, snap: VenueSnapshot, prior: VenueSnapshot
) -> tuple[tuple[Fill, ...], set[Symbol]]:
    """Our fills on ``snap``'s venue since the ``prior`` read started (by the venue's trade
    times, on its clock), and the instruments with an order still of open outcome (their
    change cannot be judged yet)."""
    orders = ctx.journal.orders
    fills = orders.our_fills(snap.venue, since_ms=prior.ts_ms + prior.skew_ms)
    busy = {r.request.symbol for r in orders.open() if r.request.venue == snap.venue}
    return fills, busy


def _valued(
    snap: VenueSnapshot,
    symbol: Symbol,
    underlying: Currency,
    change: float,
    portfolio: PortfolioSnapshot,
) -> ExternalChange:
    instrument = snap.instruments.get(symbol)
    mark = snap.marks.get(symbol)
    index = next(
        (s.index_usd[underlying] for s in portfolio.venues if underlying in s.index_usd), math.nan
    )
    if instrument is None or mark is None:
        usd = math.nan
    elif instrument.is_option:  # options are counted in coin: their notional
        usd = change * index
    else:
        usd = position_coin(instrument, change, mark.mark_price) * index
    return ExternalChange(snap.venue, symbol, underlying, change, usd, portfolio.valuation_ts_ms)
