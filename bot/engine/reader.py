"""Read every venue for a cycle, and refuse a read that shows a book vanishing unexplained.

Unknown is not flat: a venue that returns no positions after having shown
some that neither expired nor were closed by our own journaled fills fails
the cycle, and so does a first read after a restart that contradicts the
journal's net fills. An operator's new trading state (e.g. ``resume``)
accepts the books as the venues show them (:meth:`PortfolioReader.accept_books`).
"""

from __future__ import annotations

import asyncio

import structlog

from bot.domain.freshness import skew_problem
from bot.domain.ids import Symbol, VenueId
from bot.domain.snapshot import PortfolioSnapshot, VenueSnapshot
from bot.engine.context import EngineContext

log = structlog.get_logger("deltabot.reader")


class ReadError(RuntimeError):
    """A venue is unreadable or its positions vanished unexplained; no hedge this cycle."""


class PortfolioReader:
    """Reads the venues concurrently; remembers what each last held (rebuildable state)."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        self._held: dict[VenueId, VenueSnapshot] = {}
        """Per venue, the last read that showed positions."""
        self._seen: set[VenueId] = set()
        """Venues read at least once by this process."""
        watch: dict[VenueId, list[Symbol]] = {v: [] for v in ctx.venues}
        for route in ctx.config.hedges:
            watch.setdefault(route.venue, []).append(route.symbol)
        self._watch = watch

    def accept_books(self) -> None:
        """An operator accepted the books as the venues show them: forget what they held."""
        self._held.clear()
        self._seen = set(self._ctx.venues)

    async def read(self) -> PortfolioSnapshot:
        """Every venue read concurrently; any failure or vanished book raises ReadError (naming
        every unreadable venue, so health can say which)."""
        ctx = self._ctx
        ids = list(ctx.venues)
        results = await asyncio.gather(
            *(ctx.venues[v].snapshot(self._watch.get(v, [])) for v in ids),
            return_exceptions=True,
        )
        unreadable = [
            f"venue {venue_id} unreadable: {type(result).__name__}: {result}"
            for venue_id, result in zip(ids, results, strict=True)
            if isinstance(result, BaseException)
        ]
        if unreadable:
            raise ReadError("; ".join(unreadable))
        read = [
            (v, r) for v, r in zip(ids, results, strict=True) if not isinstance(r, BaseException)
        ]
        snaps: list[VenueSnapshot] = []
        for venue_id, result in read:
            held = self._held.get(venue_id)
            if not result.positions and held is None and venue_id not in self._seen:
                unexplained = self._journaled_holdings(result)
            elif not result.positions and held is not None:
                unexplained = self._unexplained(held, result.ts_ms)
            else:
                unexplained = []
            if unexplained:
                raise ReadError(
                    f"venue {venue_id} reported no positions, yet {', '.join(unexplained)} "
                    "neither expired nor was closed by our fills: treated as unknown, not "
                    "flat (an operator's resume accepts a flat book)"
                )
            snaps.append(result)
        now_ms = ctx.clock_ms()
        for snap in snaps:
            self._seen.add(snap.venue)
            if snap.positions:
                self._held[snap.venue] = snap
            else:
                self._held.pop(snap.venue, None)
            self._observe_clock(snap, now_ms)
        return PortfolioSnapshot(now_ms, tuple(snaps))

    def _observe_clock(self, snap: VenueSnapshot, now_ms: int) -> None:
        """Export the read's input age and the venue's clock skew; a skew beyond the limit
        is an error in the log (ages are skew-corrected, so trading goes on)."""
        metrics = self._ctx.metrics
        stamp = snap.oldest_input(snap.marks, snap.index_usd)
        metrics.set_input_age(snap.venue, stamp.age_ms(now_ms) / 1000)
        if snap.clock is None:
            return
        metrics.set_clock_skew(snap.venue, snap.clock.skew_ms / 1000)
        problem = skew_problem(snap.venue, snap.clock, self._ctx.config.risk.max_clock_skew_ms)
        if problem is not None:
            log.error(
                "clock_skew",
                venue=snap.venue,
                skew_s=snap.clock.skew_ms / 1000,
                uncertainty_s=snap.clock.uncertainty_ms / 1000,
                detail=problem,
            )

    def _journaled_holdings(self, snap: VenueSnapshot) -> list[Symbol]:
        """On a first read: symbols our journaled fills say this venue still holds.

        After a restart nothing in memory says what the venue held, but the
        journal does: if our own trades there do not net to zero, an empty read
        is suspect (it could also be trades made outside the bot; an operator's
        resume accepts the book as read).
        """
        net: dict[Symbol, float] = {}
        for f in self._ctx.journal.orders.fills(snap.venue, since_ms=0):
            net[f.symbol] = net.get(f.symbol, 0.0) + f.side.sign * f.amount
        return [
            sym
            for sym, size in sorted(net.items())
            if (ins := snap.instruments.get(sym)) is not None
            and not (ins.expiry_ms is not None and ins.expiry_ms <= snap.ts_ms)
            and abs(size) > 0.5 * ins.lot_size
        ]

    def _unexplained(self, held: VenueSnapshot, now_ms: int) -> list[Symbol]:
        """Symbols of ``held`` whose disappearance neither expiry nor our fills explain."""
        fills = self._ctx.journal.orders.fills(held.venue, since_ms=held.ts_ms)
        out = []
        for pos in held.positions:
            ins = pos.instrument
            if ins.expiry_ms is not None and ins.expiry_ms <= now_ms:
                continue
            traded = sum(f.side.sign * f.amount for f in fills if f.symbol == ins.symbol)
            if abs(pos.size + traded) > 0.5 * ins.lot_size:
                out.append(ins.symbol)
        return out
