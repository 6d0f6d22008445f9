"""The event layer on the emulator: streams trigger cycles through the same guarded path as
the timer, REST stays the truth, reconnects reconcile, and a stalled stream is stale input."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import load_config
from bot.domain.health import Level
from bot.domain.ids import VenueId
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.health import health_of
from bot.engine.scheduler import Jobs
from bot.engine.stream_job import StreamJob
from bot.journal import Journal
from bot.sim.faults import DropMode, FaultAction
from bot.venues.factory import Runtime, build_streams, build_venues
from bot.venues.stream import VenueStream
from tests.integration.test_engine import CONFIG, START_MS

STREAM = """
[stream]
index_move_frac = {index_move_frac}
min_spacing_s = 0
stale_after_s = {stale_after_s}
reconnect_min_s = 0.01
reconnect_max_s = 0.05
"""
WAIT_S = 10.0
"""Longest wait for the event layer to react (a failure, never a measured time)."""
STEP_MS = 1000


class CountingJobs(Jobs):
    """Jobs that count their reconciliations."""

    reconciles: int = 0

    async def reconcile(self) -> None:
        CountingJobs.reconciles += 1
        await super().reconcile()


@dataclasses.dataclass
class Layer:
    clock: ManualClock
    jobs: CountingJobs
    job: StreamJob
    world: Any
    stream: VenueStream

    @property
    def exchange(self) -> Any:
        return self.world.venues["sim-a"].exchange

    @property
    def faults(self) -> Any:
        return self.world.venues["sim-a"].faults

    async def until(self, done: Callable[[], bool], *, tick: bool = False) -> None:
        """Wait until ``done`` (moving the market a step every 20 ms with ``tick``)."""
        async with asyncio.timeout(WAIT_S):
            while not done():
                if tick:
                    self.clock.advance(STEP_MS)
                await asyncio.sleep(0.02)


@asynccontextmanager
async def layer(
    tmp_path: Path,
    stale_after_s: float = 30.0,
    index_move_frac: float = 0.00001,
    *,
    first_cycle: bool = True,
) -> AsyncIterator[Layer]:
    """The engine, its jobs and the stream layer on one emulator; one timed cycle done
    before the stream starts (unless not ``first_cycle``)."""
    path = tmp_path / "config.toml"
    text = CONFIG.format(journal=tmp_path / "journal.sqlite")
    stream = STREAM.format(stale_after_s=stale_after_s, index_move_frac=index_move_frac)
    path.write_text(text + stream)
    config = load_config(path, {})
    clock = ManualClock(START_MS)
    world = build_sim_world(config, clock=clock)
    CountingJobs.reconciles = 0
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        journal = Journal.open(config.daemon.journal_path)
        ctx = EngineContext(config, journal, venues, clock.now_ms)
        jobs = CountingJobs(ctx, HedgeEngine(ctx, config.strategy.build()))
        streams = build_streams(config, {}, sim_endpoints=endpoints)
        job = StreamJob(jobs, streams)
        if first_cycle:
            await jobs.hedge_cycle()
        running = asyncio.create_task(job.run())
        built = Layer(clock, jobs, job, world, streams[VenueId("sim-a")])
        try:
            await built.until(lambda: built.stream.reconnects > 0)
            yield built
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            for venue in venues.values():
                await venue.close()
            journal.close()


async def test_an_index_move_triggers_a_cycle_that_reads_rest(tmp_path: Path) -> None:
    """An index tick beyond the move threshold starts a cycle at once, which reads REST."""
    async with layer(tmp_path) as lay:
        lay.clock.advance(STEP_MS)
        await lay.until(lambda: bool(lay.job.reactions))
        assert lay.job.reactions[0].reason.startswith("index moved")
        cycle = lay.jobs.latest.cycle
        assert cycle is not None and cycle.portfolio is not None
        assert cycle.portfolio.venues[0].ts_ms == lay.clock.now_ms()


async def test_a_foreign_fill_is_drift_counted_once_never_adopted(tmp_path: Path) -> None:
    """A trade the journal does not know, seen on the stream before any REST read, triggers a
    cycle whose REST read journals it as external once; its order never enters the journal."""
    async with layer(tmp_path, index_move_frac=0.5) as lay:
        lay.clock.advance(STEP_MS)
        order, _ = lay.exchange.place_order(
            1, direction="buy", instrument_name="BTC-PERPETUAL", amount=30_000, type="market"
        )
        await lay.until(lambda: bool(lay.job.reactions))
        assert "is not ours" in lay.job.reactions[0].reason
        external = lay.jobs.ctx.journal.external.since(0)
        assert [(e.symbol, e.change) for e in external] == [("BTC/USD:BTC", 30_000)]
        lay.clock.advance(STEP_MS)
        await lay.jobs.hedge_cycle()  # the timer's next cycle: nothing new to count
        assert len(lay.jobs.ctx.journal.external.since(0)) == 1
        ours = {r.venue_order_id for r, _u, _p in lay.jobs.ctx.journal.orders.latest(100)}
        assert ours and order.order_id not in ours  # the journal holds our hedges only


async def test_a_reconnect_storm_reconciles_after_every_reconnect(tmp_path: Path) -> None:
    """Five dropped connections: each reconnect is followed by a REST reconciliation, and the
    stream still triggers afterwards."""
    async with layer(tmp_path) as lay:
        for n in range(1, 6):
            lay.faults.disconnect_ws()
            await lay.until(lambda n=n: lay.stream.reconnects > n)
        await lay.until(lambda: CountingJobs.reconciles >= 5)
        reactions = len(lay.job.reactions)
        lay.clock.advance(STEP_MS)
        await lay.until(lambda: len(lay.job.reactions) > reactions)


async def test_a_stalled_stream_is_stale_input_while_rest_hedges(tmp_path: Path) -> None:
    """Subscriptions stalled behind a live connection: the stream turns stale, health degrades
    its streams component, and a timed cycle still reads and plans over REST."""
    async with layer(tmp_path, stale_after_s=0.3) as lay:
        lay.faults.stall_ws("*")
        await lay.until(lambda: bool(lay.job.stale()), tick=True)
        jobs = lay.jobs
        health = health_of(jobs.ctx, jobs.latest, lay.clock.now_ms(), (lay.job.stale(), 1))
        streams = [c for c in health.components if c.name == "streams"]
        assert [c.level for c in streams] == [Level.DEGRADED]
        await jobs.hedge_cycle()
        assert jobs.latest.cycle is not None and jobs.latest.cycle.plan is not None


async def test_our_fill_seen_on_the_stream_before_rest_is_booked_once(tmp_path: Path) -> None:
    """A hedge fills but its REST answer is lost: the stream shows the fill first (ours: no
    trigger), then the timer's reconciliation books it from REST, once."""
    async with layer(tmp_path, index_move_frac=0.5, first_cycle=False) as lay:
        lay.faults.drop(FaultAction.FILL_THEN_DROP, method="private/sell", mode=DropMode.CLOSE)
        await lay.jobs.hedge_cycle()
        hedge = lay.exchange.order_log()[-1]
        assert hedge.label and hedge.filled_amount > 0  # ours, filled, its answer lost
        await lay.until(lambda: lay.stream.silent_s(time.monotonic()) < 0.05)
        assert not lay.job.reactions  # our own fill on the stream triggers nothing
        lay.clock.advance(STEP_MS)
        await lay.jobs.hedge_cycle()
        fills = lay.jobs.ctx.journal.orders.fills_of(VenueId("sim-a"), hedge.label)
        assert sum(f.amount for f in fills) == hedge.filled_amount
