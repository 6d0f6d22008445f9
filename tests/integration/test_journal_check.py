"""The daemon's scheduled journal check, on the emulator: a journal damaged under the running
engine halts trading (journal and halt marker), alerts, and stops the jobs that use it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import structlog

from bot.domain.trading_state import TradingMode
from bot.engine.scheduler import Jobs, schedule, stop
from bot.journal import halt_marker_path
from tests.broken_journals import DAMAGE
from tests.integration.test_engine import CONFIG, make_rig, metric

CHECK_S = 0.05
"""The test's journal-check interval, in wall seconds (the daemon's is 30)."""


CHECKED = ("replaced", "shrunk", "overwritten")
"""Damage done to the file under the daemon (a removed one is the same case as replaced)."""


@pytest.mark.parametrize("kind", CHECKED)
async def test_a_journal_damaged_under_the_engine_is_found_and_halts_trading(
    tmp_path: Path, kind: str
) -> None:
    """Within a few check intervals: the problem names the file, the halt marker and the trading
    state say HALTED, deltabot_journal_ok is 0, an error is logged, and no cycle runs."""
    async with make_rig(tmp_path, CONFIG) as rig:
        jobs = Jobs(rig.ctx, rig.engine)
        scheduler = schedule(jobs, 1.0, journal_check_s=CHECK_S)
        scheduler.start()
        try:
            await asyncio.sleep(3 * CHECK_S)
            assert jobs.journal_problem is None
            assert metric(rig, "deltabot_journal_ok") == 1.0
            damage, problem = DAMAGE[kind]
            with structlog.testing.capture_logs() as logs:
                damage(rig.journal.path)
                for _ in range(100):
                    if jobs.journal_problem is not None:
                        break
                    await asyncio.sleep(CHECK_S)
            assert jobs.journal_problem is not None, "the damage went unnoticed"
            assert jobs.journal_problem.startswith(f"journal {rig.journal.path} ")
            assert problem in jobs.journal_problem
            marker = halt_marker_path(rig.journal.path)
            assert marker.exists()
            state = rig.journal.state.trading_state()
            assert state.mode is TradingMode.HALTED
            assert state.reason == f"journal check failed: {jobs.journal_problem}"
            assert metric(rig, "deltabot_journal_ok") == 0.0
            failed = [e for e in logs if e["event"] == "journal_check_failed"]
            assert failed[0]["log_level"] == "error"
            assert failed[0]["problem"] == jobs.journal_problem
            await jobs.guarded("hedge_cycle", jobs.hedge_cycle, wait=False)
            assert jobs.latest.cycle is None, "no cycle may run on a failed journal"
            assert rig.venue_orders() == []
        finally:
            await stop(jobs, scheduler)
