"""Wire ``[record]`` into the daemon: each cycle's venue reads go to the chain store.

Recording never stops hedging: a write that fails (a full disk, a store
directory gone) is logged and the buffered reads are dropped, and the daemon
carries on. The last reads are written when the daemon stops.

With ``whole_chain`` the hook also reads, once per ``whole_chain_interval_s`` of
read time, every listed option of each venue's recorded underlyings (the
venue's ``fetch_option_chain``: one ``get_book_summary_by_currency`` on
Deribit) in a task beside the cycle, so a slow chain read never delays a hedge;
a read that fails is logged and tried again at the next interval.
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
from bot.domain.timeunits import MS_PER_SECOND
from bot.engine.cycle_result import CycleResult
from bot.venues.base import Venue

log = structlog.get_logger("deltabot.record")

OnCycle = Callable[[CycleResult], None]


def option_underlyings(snap: VenueSnapshot) -> list[Currency]:
    """The underlyings a read recorded (its marks') on which the venue lists options."""
    marked = {snap.instruments[s].underlying for s in snap.marks if s in snap.instruments}
    listed = {i.underlying for i in snap.instruments.values() if i.is_option}
    return sorted(marked & listed)


class WholeChain:
    """Reads every listed option of the recorded underlyings once per interval, in a task."""

    def __init__(
        self,
        recorder: ChainRecorder,
        venues: Mapping[VenueId, Venue],
        clock_ms: Callable[[], int],
        interval_ms: int,
    ) -> None:
        self._recorder = recorder
        self._venues = venues
        self._clock_ms = clock_ms
        self._interval_ms = interval_ms
        self._last_ms: int | None = None
        self._task: asyncio.Task[None] | None = None

    def after(self, portfolio: PortfolioSnapshot) -> None:
        """Start a chain read when an interval has passed since the last and none is running."""
        now = portfolio.valuation_ts_ms
        if self._task is not None and not self._task.done():
            return
        if self._last_ms is not None and now - self._last_ms < self._interval_ms:
            return
        self._last_ms = now
        self._task = asyncio.get_running_loop().create_task(
            self._read(portfolio), name="record_whole_chain"
        )

    async def _read(self, portfolio: PortfolioSnapshot) -> None:
        for snap in portfolio.venues:
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
        """Wait for a chain read under way (at a stop, before the last write)."""
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
    """``on_cycle``, preceded by recording the cycle's reads when ``config.enabled`` (and,
    with ``whole_chain``, ``venues``' whole chains read at ``clock_ms`` times)."""
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
    whole = None
    if config.whole_chain and venues and clock_ms is not None:
        whole = WholeChain(
            recorder, venues, clock_ms, round(config.whole_chain_interval_s * MS_PER_SECOND)
        )
        stack.push_async_callback(whole.drain)

    def recorded(result: CycleResult) -> None:
        if result.portfolio is not None:
            guarded(partial(recorder.record, result.portfolio))
            if whole is not None:
                whole.after(result.portfolio)
        if on_cycle is not None:
            on_cycle(result)

    log.info("recording", store=str(config.store), whole_chain=whole is not None)
    return recorded
