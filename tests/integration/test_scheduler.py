"""The scheduler's shutdown: a lock-free reader cancelled mid-read is a planned stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import load_config
from bot.engine.context import EngineContext, LatestRead
from bot.engine.scheduler import Jobs, stop
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
