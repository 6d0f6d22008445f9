"""The scheduler: no overlapping or catch-up cycles, and an orderly stop of every job."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import load_config
from bot.engine.context import EngineContext, LatestRead
from bot.engine.scheduler import Jobs, schedule, stop
from tests.books import NOW_MS, VENUE, small_btc_book

ROOT = Path(__file__).resolve().parents[2]


class StuckChain:
    """A venue whose option-chain read never answers (e.g. waiting for its request budget)."""

    def __init__(self) -> None:
        self.reading = asyncio.Event()

    async def fetch_option_chain(self, underlying: str) -> Any:
        self.reading.set()
        await asyncio.Event().wait()


async def test_surface_job_cancelled_at_shutdown_logs_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A surface refresh stuck on a venue when the daemon stops is cancelled by the stop itself:
    apscheduler logs no 'raised an exception', and nothing is left running (regression:
    `make demo` sometimes ended with that traceback)."""
    config = load_config(
        ROOT / "config.example.toml", {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "j")}
    )
    venue = StuckChain()
    ctx = EngineContext(config, cast(Any, None), {VENUE: cast(Any, venue)}, lambda: NOW_MS)
    jobs = Jobs(ctx, cast(Any, None), latest=LatestRead(portfolio=small_btc_book()))
    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        jobs.unlocked,
        "interval",
        args=("surface", jobs.surfaces),
        seconds=3600,
        next_run_time=datetime.now(UTC),
    )
    caplog.set_level(logging.INFO)
    scheduler.start()
    await asyncio.wait_for(venue.reading.wait(), 5)
    await stop(jobs, scheduler)
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in leftover:  # what asyncio.run would cancel when the daemon returns
        task.cancel()
    await asyncio.gather(*leftover, return_exceptions=True)
    await asyncio.sleep(0.01)
    assert jobs.readers == set()
    assert not [r for r in caplog.records if "raised an exception" in r.getMessage()]
    assert not [r for r in caplog.records if r.exc_info]


class SlowEngine:
    """A hedge cycle that takes three hedge intervals (a slow venue), recording its runs."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self.runs: list[tuple[float, float]] = []
        self.running = 0
        self.most_at_once = 0

    async def run_cycle(self, surfaces: Any) -> Any:
        loop = asyncio.get_running_loop()
        start = loop.time()
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(self.duration_s)
        self.running -= 1
        self.runs.append((start, loop.time()))
        return SimpleNamespace(portfolio=None)


class OnlyHedging(Jobs):
    """The scheduler's jobs with everything but the hedge cycle idle."""

    async def reconcile(self) -> None:
        return None

    async def collateral(self) -> None:
        return None

    async def surfaces(self) -> None:
        return None

    def margin(self) -> None:
        return None

    def stress(self) -> None:
        return None

    def alerts(self) -> None:
        return None


async def test_a_cycle_three_intervals_long_neither_overlaps_nor_bursts(tmp_path: Path) -> None:
    """With each cycle taking 3x the hedge interval, runs never overlap and no burst of
    catch-up runs follows a slow one (max_instances=1, coalesce=True, skip when busy)."""
    config = load_config(
        ROOT / "config.example.toml", {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "j")}
    )
    interval_s = 0.1
    speed = config.daemon.hedge_interval_s / interval_s
    engine = SlowEngine(3 * interval_s)
    ctx = EngineContext(config, cast(Any, None), {}, lambda: NOW_MS)
    jobs = OnlyHedging(ctx, cast(Any, engine))
    scheduler = schedule(jobs, speed)
    scheduler.start()
    hedge = scheduler.get_job("hedge_cycle")
    assert (hedge.max_instances, hedge.coalesce) == (1, True)
    await asyncio.sleep(2.0)
    await stop(jobs, scheduler)
    assert engine.most_at_once == 1
    starts = [s for s, _ in engine.runs]
    assert all(b >= a_end for (_, a_end), b in zip(engine.runs, starts[1:], strict=False))
    # Back-to-back catch-up runs would start within a few ms of the previous end.
    gaps = [b - a_end for (_, a_end), b in zip(engine.runs, starts[1:], strict=False)]
    assert len(engine.runs) >= 3 and min(gaps) > 0.2 * interval_s
    assert len(engine.runs) <= 2.0 / (3 * interval_s) + 1
