"""The collateral job after a crash in the middle of sending (issue 11's kill points, found by
``tests/e2e/test_kill_points.py``): a transfer journaled but never sent does not stay in
flight for ever, and an approved plan whose transfers went out is not sent again.

Same two emulated venues as ``test_collateral_engine.py``: BTC jumps +15 % against the
hedge venue's short perpetual, and the job must withdraw BTC from the options venue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import Config
from bot.domain.orders import TransferState
from bot.engine.collateral_job import run_collateral
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.scheduler import Jobs
from bot.journal import Journal, PlanState
from bot.journal.plans import PlanStore
from bot.journal.transfers import TransferStore
from bot.venues.factory import Runtime, build_venues
from tests.integration.test_collateral_engine import JUMP, MINUTE_MS, collateral_config
from tests.sim_configs import START_MS, load

RESTART_MS = 10_000
"""How long the restart takes: the next read, and so the next plan, is a new one."""


class Crash(BaseException):
    """The process dying: nothing in the engine catches it."""


@dataclass
class World:
    config: Config
    clock: ManualClock
    venues: dict[str, Any]
    exchange: Any
    """The options venue's emulator, which the withdrawals leave from."""

    def withdrawals(self) -> list[Any]:
        return list(self.exchange.withdrawals(1, "BTC"))

    async def run(self, journal: Journal) -> Jobs:
        """A (re)started daemon's jobs on ``journal``, after one hedge cycle."""
        ctx = EngineContext(self.config, journal, self.venues, self.clock.now_ms)
        jobs = Jobs(ctx, HedgeEngine(ctx, self.config.strategy.build()))
        await jobs.hedge_cycle()
        return jobs


@asynccontextmanager
async def _world(tmp_path: Path, mode: str) -> AsyncIterator[World]:
    config = load(tmp_path, collateral_config(mode))
    clock = ManualClock(START_MS)
    world = build_sim_world(config, events=[JUMP], clock=clock)
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        try:
            clock.advance(5 * MINUTE_MS)  # past the jump
            yield World(config, clock, dict(venues), world.venues["opts"].exchange)
        finally:
            for venue in venues.values():
                await venue.close()


@pytest.mark.slow
async def test_a_transfer_journaled_but_never_sent_is_canceled_not_in_flight_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transfer a crash left PENDING is canceled; one new transfer restores the floor."""
    async with _world(tmp_path, "auto") as world:
        path = world.config.daemon.journal_path
        with Journal.open(path) as journal:
            jobs = await world.run(journal)
            mark = TransferStore.mark

            def crash_before_submitted(self: TransferStore, tid: Any, state: Any, *a: Any) -> Any:
                if state is TransferState.SUBMITTED:
                    raise Crash(tid)
                return mark(self, tid, state, *a)

            with monkeypatch.context() as patch:
                patch.setattr(TransferStore, "mark", crash_before_submitted)
                with pytest.raises(Crash) as crashed:
                    await run_collateral(jobs.ctx, jobs.latest)
            never_sent = str(crashed.value)
            assert journal.transfers.get(never_sent).state is TransferState.PENDING
        assert world.withdrawals() == []

        world.clock.advance(RESTART_MS)
        with Journal.open(path) as journal:
            jobs = await world.run(journal)
            result = await run_collateral(jobs.ctx, jobs.latest)
            assert journal.transfers.get(never_sent).state is TransferState.CANCELED
            [sent] = journal.transfers.open()
            assert sent.request.transfer_id != never_sent
        assert result is not None and result.plan.transfers
        [withdrawal] = world.withdrawals()
        assert withdrawal.amount == pytest.approx(sent.request.amount)


@pytest.mark.slow
async def test_an_approved_plan_sent_before_a_crash_is_not_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approved plan sent just before a crash is marked EXECUTED, its transfers not resent."""
    async with _world(tmp_path, "plan") as world:
        path = world.config.daemon.journal_path
        with Journal.open(path) as journal:
            jobs = await world.run(journal)
            await run_collateral(jobs.ctx, jobs.latest)
            [proposed] = journal.plans.in_state(PlanState.PROPOSED)
            journal.plans.mark(proposed.plan_id, PlanState.APPROVED, world.clock.now_ms())
            mark = PlanStore.mark

            def crash_before_executed(self: PlanStore, plan: str, state: Any, ts: int) -> Any:
                if state is PlanState.EXECUTED:
                    raise Crash(plan)
                return mark(self, plan, state, ts)

            with monkeypatch.context() as patch:
                patch.setattr(PlanStore, "mark", crash_before_executed)
                with pytest.raises(Crash):
                    await run_collateral(jobs.ctx, jobs.latest)
            assert journal.plans.get(proposed.plan_id).state is PlanState.APPROVED
        sent = world.withdrawals()
        assert len(sent) == len(proposed.intents) > 0

        world.clock.advance(RESTART_MS)
        with Journal.open(path) as journal:
            jobs = await world.run(journal)
            await run_collateral(jobs.ctx, jobs.latest)
            assert journal.plans.get(proposed.plan_id).state is PlanState.EXECUTED
        assert world.withdrawals() == sent
