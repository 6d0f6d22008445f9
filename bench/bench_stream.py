"""Event-driven hedging: tick-to-order latency and the REST request budget, streaming vs polling.

- Tick-to-order: from the emulator's index move (the instant the bench moves its
  clock across a market step, which the emulator pushes within its 2 ms push
  round) to the hedge order reaching the emulator's engine, median and p99
  over ``MOVES`` moves (1,000; ``DELTABOT_BENCH_STREAM_MOVES`` overrides). The
  book's band is so narrow that every move calls for an order. Moves are
  spaced so the venue's request budget (Deribit's 20 requests/s, as ccxt
  encodes it) refills between them, as it would between real ticks. Target:
  median < 20 ms on loopback. The baseline timed in the same process is a
  cycle started by hand at the move (its REST reads, plan, gate, journal and
  send): what streaming adds is the push and the trigger. Polling for
  comparison: a cycle every second
  (five times the default hedge_interval_s rate), moves at random phases,
  over ``POLL_MOVES`` moves: its median is about half the interval.
- Request budget: one simulated hour of the same market in 10 s ticks, a band of
  0.05 BTC. Streaming (band triggers, a 300 s safety timer) against polling
  every 10, 20, 30, 60 s;
  the polling interval compared is the longest whose largest band excursion
  (the total delta beyond the band, as each cycle reads it before hedging) is
  within streaming's, or, when none is, polling at every tick (the finest
  this bench can poll), with how much larger its excursion is. REST requests
  are counted at the emulator. Target: >= 5x fewer REST requests streaming.

The emulator shares the process (and its core) with the daemon: loopback, no
network, figures are upper bounds of the daemon's own work. A cycle makes
``COMMITS_BEFORE_ORDER`` durable journal commits before its order (the
decisions, the equities, the intent PENDING, then SUBMITTED: journal-first);
what one costs on the disk the bench runs on (timed over the baseline's
cycles) is printed beside the latencies.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import report
from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import load_config
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.scheduler import Jobs
from bot.engine.stream_job import StreamJob
from bot.journal import Journal
from bot.journal.db import Db
from bot.ops.logging import LogFormat, LogLevel, configure_logging
from bot.sim.deribit_api import DeribitApi
from bot.venues.factory import Runtime, build_streams, build_venues

ROOT = Path(__file__).resolve().parents[1]
START_MS = 1_796_112_000_000
MOVES = int(os.environ.get("DELTABOT_BENCH_STREAM_MOVES", "1000"))
POLL_MOVES = max(10, MOVES // 10)
MOVE_GAP_S = 0.4
"""Wall seconds between moves: the request budget refills (a cycle costs about 6 requests)."""
POLL_INTERVAL_S = 1.0
HOUR_TICK_MS = 10_000
POLL_INTERVALS_S = (10, 20, 30, 60)
HOUR_BAND_COIN = 0.05
"""The band of the request-budget hour: wide enough that it is left now and then."""
SAFETY_TIMER_S = 300
STREAM = """
[stream]
index_move_frac = {index_move_frac}
band_frac = 1.0
min_spacing_s = 0
"""


@dataclass
class Rig:
    clock: ManualClock
    jobs: Jobs
    job: StreamJob | None
    exchange: Any
    arrivals: list[float]


@asynccontextmanager
async def rig(
    streaming: bool, index_move_frac: float, band_coin: float = 0.001
) -> AsyncIterator[Rig]:
    """The daemon's jobs (and, ``streaming``, its event layer) on one loopback emulator, the
    band ``band_coin`` either side of the target."""
    text = (ROOT / "bench" / "daemon_bench.toml").read_text()
    text = text.replace("= 0.001", f"= {band_coin}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        stream = STREAM.format(index_move_frac=index_move_frac)
        path.write_text(text.replace("JOURNAL", str(Path(tmp) / "j.sqlite")) + stream)
        config = load_config(path, {})
        clock = ManualClock(START_MS)
        world = build_sim_world(config, clock=clock)
        exchange = world.venues["sim-a"].exchange
        arrivals: list[float] = []
        place = exchange.place_order

        def timed_place(*args: Any, **kwargs: Any) -> Any:
            arrivals.append(time.perf_counter())  # the order reached the emulator's engine
            return place(*args, **kwargs)

        exchange.place_order = timed_place
        async with serve_sim_world(world) as (endpoints, _):
            venues = build_venues(
                config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints
            )
            journal = Journal.open(config.daemon.journal_path)
            ctx = EngineContext(config, journal, venues, clock.now_ms)
            jobs = Jobs(ctx, HedgeEngine(ctx, config.strategy.build()))
            await jobs.hedge_cycle()
            job = None
            task = None
            if streaming:
                streams = build_streams(config, {}, sim_endpoints=endpoints)
                job = StreamJob(jobs, streams)
                task = asyncio.create_task(job.run())
                stream = next(iter(streams.values()))
                await _until(lambda: stream.reconnects > 0, 10.0)
            try:
                yield Rig(clock, jobs, job, exchange, arrivals)
            finally:
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                for venue in venues.values():
                    await venue.close()
                journal.close()


COMMITS_BEFORE_ORDER = 4


class _Commits:
    """Wall ms of each journal transaction (its statements and its durable commit) while
    ``timing`` runs (``Db.tx`` is restored after it)."""

    ms: list[float] = []  # noqa: RUF012 - one list for the bench's one process

    @classmethod
    @contextmanager
    def timing(cls) -> Iterator[None]:
        tx = Db.tx

        @contextmanager
        def timed(self: Db) -> Iterator[None]:
            t0 = time.perf_counter()
            with tx(self):
                yield
            cls.ms.append((time.perf_counter() - t0) * 1000)

        Db.tx = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            Db.tx = tx  # type: ignore[method-assign]


NO_ORDER_S = 1.0
"""Wall seconds after a move with no order: the move did not call for one (not counted)."""


async def _until(done: Callable[[], bool], limit_s: float = NO_ORDER_S) -> bool:
    deadline = time.monotonic() + limit_s
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.001)
    return True


async def _streaming_latency(moves: int) -> list[float]:
    out = []
    async with rig(streaming=True, index_move_frac=1e-9) as r:
        for _ in range(moves):
            await asyncio.sleep(MOVE_GAP_S)
            before = len(r.arrivals)
            t0 = time.perf_counter()
            r.clock.advance(1000)  # one market step: the index moves
            if await _until(lambda n=before: len(r.arrivals) > n):
                out.append(r.arrivals[before] - t0)
    return out


async def _direct_latency(moves: int) -> list[float]:
    """The baseline: a cycle started the instant of the move (no stream, no timer wait)."""
    out = []
    async with rig(streaming=False, index_move_frac=1.0) as r:
        for _ in range(moves):
            await asyncio.sleep(MOVE_GAP_S)
            before = len(r.arrivals)
            t0 = time.perf_counter()
            r.clock.advance(1000)
            await r.jobs.hedge_cycle()
            if len(r.arrivals) > before:
                out.append(r.arrivals[before] - t0)
    return out


async def _polling_latency(moves: int) -> list[float]:
    out = []
    async with rig(streaming=False, index_move_frac=1.0) as r:

        async def poll() -> None:
            while True:
                await asyncio.sleep(POLL_INTERVAL_S)
                await r.jobs.guarded("hedge_cycle", r.jobs.hedge_cycle, wait=False)

        poller = asyncio.create_task(poll())
        rng = random.Random(7)
        try:
            for _ in range(moves):
                await asyncio.sleep(rng.uniform(0.0, POLL_INTERVAL_S))
                before = len(r.arrivals)
                t0 = time.perf_counter()
                r.clock.advance(1000)
                if await _until(lambda n=before: len(r.arrivals) > n, POLL_INTERVAL_S + NO_ORDER_S):
                    out.append(r.arrivals[before] - t0)
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
    return out


class _Requests:
    """REST requests reaching the emulator (counted around its request handler while the
    ``counting`` block runs; the handler is restored after it)."""

    count = 0

    @classmethod
    @contextmanager
    def counting(cls) -> Iterator[None]:
        serve = DeribitApi._serve  # the bench counts what the venue would

        async def counted(self: DeribitApi, *args: Any, **kwargs: Any) -> Any:
            cls.count += 1
            return await serve(self, *args, **kwargs)

        DeribitApi._serve = counted  # type: ignore[method-assign]
        try:
            yield
        finally:
            DeribitApi._serve = serve  # type: ignore[method-assign]


def _excursion_coin(jobs: Jobs) -> float:
    """How far the last cycle read the total delta beyond its band, before hedging."""
    cycle = jobs.latest.cycle
    plan = None if cycle is None else cycle.plan
    worst = 0.0
    for d in () if plan is None else plan.decisions:
        lower, upper = d.band_lower_coin, d.band_upper_coin
        if lower is None or upper is None:
            continue
        total = d.book_delta_coin + d.hedge_coin
        worst = max(worst, total - upper, lower - total)
    return worst


async def _hour(streaming: bool, poll_s: int) -> tuple[int, float]:
    """REST requests and the largest band excursion over one simulated hour."""
    async with rig(streaming, index_move_frac=1.0, band_coin=HOUR_BAND_COIN) as r:
        start = _Requests.count
        excursion = 0.0
        period_s = SAFETY_TIMER_S if streaming else poll_s
        for tick in range(1, 3600 * 1000 // HOUR_TICK_MS + 1):
            r.clock.advance(HOUR_TICK_MS)
            if r.job is not None:
                seen = r.job.triggers
                await asyncio.sleep(0.02)  # the push round and the queue
                if r.job.triggers > seen:
                    await _until(lambda: len(r.job.reactions) >= r.job.triggers, 10.0)  # type: ignore[union-attr]
                    excursion = max(excursion, _excursion_coin(r.jobs))
            if tick * HOUR_TICK_MS % (period_s * 1000) == 0:
                await r.jobs.hedge_cycle()
                excursion = max(excursion, _excursion_coin(r.jobs))
        return _Requests.count - start, excursion


def run() -> None:
    configure_logging(LogLevel.ERROR, LogFormat.CONSOLE, sys.stderr)
    print(f"  tick-to-order over {MOVES} moves (streaming), {POLL_MOVES} (polling every 1 s)")
    streamed = asyncio.run(_streaming_latency(MOVES))
    with _Commits.timing():
        direct = asyncio.run(_direct_latency(POLL_MOVES))
    polled = asyncio.run(_polling_latency(POLL_MOVES))
    s_ms, p_ms = np.array(streamed) * 1000, np.array(polled) * 1000
    d_ms = np.array(direct) * 1000
    report("streaming: moves that reached an order", len(s_ms), "moves")
    report(
        "streaming: tick-to-order median",
        float(np.median(s_ms)),
        "ms",
        "< 20",
        bool(np.median(s_ms) < 20),
    )
    report("streaming: tick-to-order p99", float(np.percentile(s_ms, 99)), "ms")
    report("baseline, a cycle started at the move: median", float(np.median(d_ms)), "ms")
    report("streaming / baseline median", float(np.median(s_ms) / np.median(d_ms)), "x")
    report("polling every 1 s: tick-to-order median", float(np.median(p_ms)), "ms")
    report("polling every 1 s: tick-to-order p99", float(np.percentile(p_ms, 99)), "ms")
    report("polling / streaming median", float(np.median(p_ms) / np.median(s_ms)), "x")
    commit_ms = float(np.median(_Commits.ms))
    report("baseline: a journal transaction (durable commit): median", commit_ms, "ms")
    report(
        f"  x {COMMITS_BEFORE_ORDER} before each order / streaming median",
        COMMITS_BEFORE_ORDER * commit_ms / float(np.median(s_ms)),
        "x",
    )
    with _Requests.counting():
        s_requests, s_excursion = asyncio.run(_hour(streaming=True, poll_s=SAFETY_TIMER_S))
        report("streaming: REST requests per simulated hour", s_requests, "req/h")
        report("streaming: largest band excursion", s_excursion, "coin")
        matched: tuple[int, int] | None = None
        finest = (0, 0.0)
        for poll_s in POLL_INTERVALS_S:
            requests, excursion = asyncio.run(_hour(streaming=False, poll_s=poll_s))
            report(f"polling every {poll_s} s: REST requests per hour", requests, "req/h")
            report(f"polling every {poll_s} s: largest band excursion", excursion, "coin")
            if excursion <= s_excursion + 1e-9:
                matched = (poll_s, requests)
            if poll_s == POLL_INTERVALS_S[0]:
                finest = (requests, excursion)
        label = f"polling ({matched[0]} s, excursion within streaming's)" if matched else ""
        if matched is None:  # even polling every tick: the closest, and by how much it is worse
            matched = (POLL_INTERVALS_S[0], finest[0])
            worse = finest[1] / s_excursion - 1 if s_excursion > 0 else math.inf
            label = f"polling ({matched[0]} s, every tick; excursion {worse:+.0%})"
        ratio = matched[1] / max(1, s_requests)
        report(f"{label} / streaming requests", ratio, "x", ">= 5", ratio >= 5)
