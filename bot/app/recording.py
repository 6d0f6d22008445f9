"""Wire ``[record]`` into the daemon: each cycle's venue reads go to the chain store.

Recording never stops hedging: a write that fails (a full disk, a store
directory gone) is logged and the buffered reads are dropped, and the daemon
carries on. The last reads are written when the daemon stops.

Beside the cycle, in one task at a time (a slow read never delays a hedge), the
hook reads from the venues what a poll does not carry: once a recorded expiry
has passed, the venue's delivery prices (``fetch_delivery_prices``: Deribit's
``public/get_delivery_prices``), asked again each minute of read time until the
day is published; and with ``whole_chain``, once per ``whole_chain_interval_s``
of read time, every listed option of each venue's recorded underlyings
(``fetch_option_chain``: one ``get_book_summary_by_currency`` on Deribit). A
read that fails is logged and tried again later. Expiries recorded before a
restart are not settled by the restarted recorder: ``deltabot data
fetch-deliveries`` fills those.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from functools import partial

import structlog

from bot.chain.record import ChainRecorder
from bot.chain.store import ChainStore, StoreError
from bot.config.record import RecordConfig
from bot.domain.ids import Currency, VenueId
from bot.domain.snapshot import PortfolioSnapshot, VenueSnapshot
from bot.domain.timeunits import MS_PER_MINUTE, MS_PER_SECOND
from bot.engine.cycle_result import CycleResult
from bot.venues.base import Venue

log = structlog.get_logger("deltabot.record")

DELIVERY_RETRY_MS = MS_PER_MINUTE
"""A venue that has not published a passed expiry's delivery price yet is asked again after
this much read time (Deribit publishes it minutes after 08:00 UTC)."""

OnCycle = Callable[[CycleResult], None]


def option_underlyings(snap: VenueSnapshot) -> list[Currency]:
    """The underlyings a read recorded (its marks') on which the venue lists options."""
    marked = {snap.instruments[s].underlying for s in snap.marks if s in snap.instruments}
    listed = {i.underlying for i in snap.instruments.values() if i.is_option}
    return sorted(marked & listed)


class VenueReads:
    """What the recorder reads from the venues beside the cycle, in one task at a time: the
    delivery prices of passed expiries and, with ``whole_chain``, the whole option chains."""

    def __init__(
        self,
        recorder: ChainRecorder,
        venues: Mapping[VenueId, Venue],
        clock_ms: Callable[[], int],
        chain_interval_ms: int | None,
    ) -> None:
        self._recorder = recorder
        self._venues = venues
        self._clock_ms = clock_ms
        self._chain_interval_ms = chain_interval_ms
        self._last_chain_ms: int | None = None
        self._last_delivery_ms: dict[VenueId, int] = {}
        self._task: asyncio.Task[None] | None = None

    def after(self, portfolio: PortfolioSnapshot) -> None:
        """Start the reads that are due, unless a task is still running."""
        if self._task is not None and not self._task.done():
            return
        now = portfolio.valuation_ts_ms
        deliveries = self._due_deliveries(portfolio, now)
        chains = self._chain_interval_ms is not None and (
            self._last_chain_ms is None or now - self._last_chain_ms >= self._chain_interval_ms
        )
        if chains:
            self._last_chain_ms = now
        if deliveries or chains:
            self._task = asyncio.get_running_loop().create_task(
                self._read(portfolio, deliveries, chains=chains), name="record_venue_reads"
            )

    def _due_deliveries(
        self, portfolio: PortfolioSnapshot, now_ms: int
    ) -> dict[VenueId, dict[str, list[int]]]:
        """Per venue not asked in the last minute, its passed expiries without a price."""
        due = {}
        for snap in portfolio.venues:
            last = self._last_delivery_ms.get(snap.venue)
            if snap.venue not in self._venues or (
                last is not None and now_ms - last < DELIVERY_RETRY_MS
            ):
                continue
            passed = self._recorder.passed_expiries(snap.venue, now_ms)
            if passed:
                due[snap.venue] = passed
                self._last_delivery_ms[snap.venue] = now_ms
        return due

    async def _read(
        self,
        portfolio: PortfolioSnapshot,
        deliveries: Mapping[VenueId, Mapping[str, list[int]]],
        *,
        chains: bool,
    ) -> None:
        for venue_id, passed in deliveries.items():
            for underlying in passed:
                try:
                    prices = await self._venues[venue_id].fetch_delivery_prices(
                        Currency(underlying)
                    )
                    self._recorder.record_deliveries(venue_id, underlying, prices)
                except Exception as exc:  # recording never stops the daemon
                    log.warning(
                        "record_delivery_failed",
                        venue=venue_id,
                        underlying=underlying,
                        error=str(exc),
                    )
        for snap in portfolio.venues if chains else ():
            venue = self._venues.get(snap.venue)
            if venue is None:
                continue
            for underlying in option_underlyings(snap):
                ts = self._clock_ms()
                try:
                    chain = await venue.fetch_option_chain(underlying)
                    self._recorder.record_chain(
                        VenueSnapshot(
                            snap.venue,
                            ts,
                            snap.instruments,
                            (),
                            (),
                            chain,
                            index_usd=snap.index_usd,
                        )
                    )
                except Exception as exc:  # recording never stops the daemon
                    log.warning(
                        "record_chain_failed",
                        venue=snap.venue,
                        underlying=underlying,
                        error=str(exc),
                    )

    async def drain(self) -> None:
        """Wait for reads under way (at a stop, before the last write)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


def with_recording(
    config: RecordConfig,
    stack: AsyncExitStack,
    on_cycle: OnCycle | None,
    *,
    venues: Mapping[VenueId, Venue] | None = None,
    clock_ms: Callable[[], int] | None = None,
) -> OnCycle | None:
    """``on_cycle``, preceded by recording the cycle's reads when ``config.enabled``; with
    ``venues`` (and ``clock_ms`` to stamp their reads), also the delivery prices of passed
    expiries and, with ``whole_chain``, the whole option chains."""
    if not config.enabled:
        return on_cycle
    recorder = ChainRecorder(
        ChainStore(config.store), round(config.flush_interval_s * MS_PER_SECOND)
    )

    def guarded(work: Callable[[], object]) -> None:
        try:
            work()
        except (OSError, StoreError) as exc:
            log.warning("record_failed", store=str(config.store), error=str(exc))

    stack.callback(guarded, recorder.close)
    reads = None
    if venues and clock_ms is not None:
        chain_ms = round(config.whole_chain_interval_s * MS_PER_SECOND)
        reads = VenueReads(recorder, venues, clock_ms, chain_ms if config.whole_chain else None)
        stack.push_async_callback(reads.drain)

    def recorded(result: CycleResult) -> None:
        if result.portfolio is not None:
            guarded(partial(recorder.record, result.portfolio))
            if reads is not None:
                reads.after(result.portfolio)
        if on_cycle is not None:
            on_cycle(result)

    log.info("recording", store=str(config.store), whole_chain=config.whole_chain)
    return recorded
