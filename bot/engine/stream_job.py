"""The event layer: venue streams trigger hedge cycles; REST stays the truth.

Each venue's :class:`~bot.venues.stream.VenueStream` feeds one queue. This job
turns its events into cycles through the scheduler's own guarded path
(:meth:`Jobs.cycle_now`), so journal-first, the gate, UNKNOWN handling and the
locks are exactly those of a timed cycle:

- an index tick triggers when :func:`bot.domain.trigger.move_trigger` says the
  move since the last cycle may have left the band;
- an account change triggers when it names an order the journal does not know
  (a manual trade, another bot, a resting order's fill): the cycle's REST read
  and drift check (:mod:`bot.engine.drift`) then judge and journal it; the
  stream's message itself is never adopted as a fill or a position, so a fill
  seen on the stream before REST shows it is counted once, by the REST read;
- a reconnection is followed by a REST reconciliation, then a cycle.

Triggers are debounced: at most one cycle waits, none starts while another job
holds the lock (a trigger waits its turn behind it), and two triggered starts
are ``min_spacing_s`` apart (daemon clock). The timer's cycles go on
regardless: a stream that stalls leaves the daemon hedging as a poller, and
:meth:`StreamJob.stale` reports it to health.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from bot.domain.ids import ClientOrderId, Currency, VenueId
from bot.domain.timeunits import MS_PER_SECOND
from bot.domain.trigger import BandAnchor, TriggerRules, move_trigger, next_start_ms
from bot.engine.scheduler import Jobs
from bot.journal import JournalError
from bot.venues.stream import AccountChange, IndexTick, StreamEvent, StreamState, VenueStream

log = structlog.get_logger("deltabot.stream")

REACTIONS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class Reaction:
    """One triggered cycle: why, and the wall seconds from the event's arrival to the end of
    the cycle it started (its orders sent and answered)."""

    reason: str
    reaction_s: float
    orders: int


class StreamJob:
    """Consumes every venue stream's events and starts the cycles they call for."""

    def __init__(
        self,
        jobs: Jobs,
        streams: Mapping[VenueId, VenueStream],
        *,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        cfg = jobs.ctx.config.stream
        self._jobs = jobs
        self._streams = dict(streams)
        self._monotonic_s = monotonic_s
        self._rules = TriggerRules(
            cfg.index_move_frac, cfg.band_frac, round(cfg.min_spacing_s * MS_PER_SECOND)
        )
        self._stale_after_s = cfg.stale_after_s
        self._queue: asyncio.Queue[tuple[float, StreamEvent]] = asyncio.Queue()
        self._waiting: asyncio.Task[None] | None = None
        self._last_start_ms: int | None = None
        self.reactions: deque[Reaction] = deque(maxlen=REACTIONS_KEPT)
        self.triggers = 0

    def stale(self) -> dict[VenueId, float]:
        """Each stream silent for longer than ``stale_after_s``, with its silence (wall s)."""
        now_s = self._monotonic_s()
        silent = {v: s.silent_s(now_s) for v, s in self._streams.items()}
        return {v: s for v, s in silent.items() if s > self._stale_after_s}

    async def run(self) -> None:
        """Stream every venue and react until cancelled."""
        tasks = [
            asyncio.create_task(stream.run(self._put), name=f"stream-{venue}")
            for venue, stream in self._streams.items()
        ]
        try:
            while True:
                seen_s, event = await self._queue.get()
                await self._on_event(seen_s, event)
        finally:
            for task in [*tasks, self._waiting]:
                if task is not None:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for stream in self._streams.values():
                with contextlib.suppress(Exception):
                    await stream.close()

    def _put(self, event: StreamEvent) -> None:
        self._queue.put_nowait((self._monotonic_s(), event))

    async def _on_event(self, seen_s: float, event: StreamEvent) -> None:
        reason: str | None = None
        if isinstance(event, IndexTick):
            anchor = self._anchor(event.underlying)
            if anchor is not None:
                reason = move_trigger(anchor, event.index_usd, self._rules)
        elif isinstance(event, AccountChange):
            reason = self._foreign(event)
        elif isinstance(event, StreamState) and event.up and event.reconnect:
            log.info("stream_reconnected", venue=event.venue)
            await self._jobs.guarded("stream_reconcile", self._jobs.reconcile, wait=True)
            reason = f"{event.venue} stream reconnected"
        if reason is not None:
            self._trigger(reason, seen_s)

    def _anchor(self, underlying: Currency) -> BandAnchor | None:
        """The last planned cycle's view of ``underlying`` (None before any plan)."""
        cycle = self._jobs.latest.cycle
        plan = None if cycle is None else cycle.plan
        for d in () if plan is None else plan.decisions:
            if d.underlying == underlying:
                return BandAnchor(
                    d.index_usd,
                    d.book_delta_coin + d.new_hedge_coin,
                    d.gamma_coin_per_pct,
                    d.band_lower_coin,
                    d.band_upper_coin,
                )
        return None

    def _foreign(self, change: AccountChange) -> str | None:
        """Why an account change calls for a cycle: an order the journal does not know."""
        for order_id, label in zip(change.order_ids, change.labels, strict=True):
            if not self._ours(label):
                log.info("stream_foreign_order", venue=change.venue, order_id=order_id)
                return f"{change.venue}: order {order_id} on {change.instrument} is not ours"
        return None

    def _ours(self, label: str) -> bool:
        """Whether ``label`` is the client id of an order in the journal."""
        if not label:
            return False
        try:
            self._jobs.ctx.journal.orders.get(ClientOrderId(label))
        except JournalError:
            return False
        return True

    def _trigger(self, reason: str, seen_s: float) -> None:
        """Start a cycle for ``reason`` as soon as the rules allow; one waits at most."""
        self.triggers += 1
        if self._waiting is not None and not self._waiting.done():
            return
        self._waiting = asyncio.create_task(self._start(reason, seen_s), name="stream-cycle")

    async def _start(self, reason: str, seen_s: float) -> None:
        jobs = self._jobs
        ctx = jobs.ctx
        now_ms = ctx.clock_ms()
        wait_ms = next_start_ms(self._last_start_ms, now_ms, self._rules) - now_ms
        if wait_ms > 0:
            await asyncio.sleep(wait_ms / MS_PER_SECOND / ctx.clock_speed)
        self._last_start_ms = ctx.clock_ms()
        # Waits its turn behind the job holding the lock (a timer cycle, a reconciliation):
        # never two at once, and the cycle after it still reads what the event changed.
        await jobs.guarded("stream_cycle", jobs.hedge_cycle, wait=True)
        cycle = jobs.latest.cycle
        orders = 0 if cycle is None else len(cycle.outcomes)
        self.reactions.append(Reaction(reason, self._monotonic_s() - seen_s, orders))
        log.info("stream_cycle", reason=reason, orders=orders)
