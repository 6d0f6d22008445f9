"""The collateral job on two emulated venues: the market moves against the hedge venue, the
daemon moves collateral from the options venue in time, and nothing is liquidated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.collateral import PlanStatus
from bot.domain.orders import TransferKind, TransferState
from bot.domain.trading_state import TradingMode
from bot.engine.collateral_job import run_collateral
from bot.engine.scheduler import Jobs
from bot.journal import PlanState
from bot.sim.market import JumpEvent
from tests.integration.test_engine import make_rig
from tests.sim_configs import (
    START_MS,
    account,
    balance,
    collateral_job,
    market,
    option,
    perpetual,
    quiet,
    route,
    sim,
    split_venues,
)

MINUTE_MS = 60_000
FLOOR = (10.0, 15.0, 40.0)
"""The hedge venue's band: equity / MM between 10 and 40, restored to 15."""
JUMP = JumpEvent(START_MS + 2 * MINUTE_MS, "BTC", 0.15)
"""BTC +15 % two minutes in, against the hedge venue's short perp."""


def collateral_config(mode: str, hedge_band: tuple[float, float, float] = FLOOR) -> str:
    """Options on one Deribit venue, a short perp on another holding 1 BTC, and the
    collateral job in ``mode`` moving BTC from the options venue (10 BTC) to the hedge."""
    return sim(
        split_venues(),
        quiet(),
        collateral_job(mode),
        account("opts"),
        account("hedge", hedge_band),
        route("opts", "hedge", "BTC", fee_coin=0.0001, min_coin=0.0002, delay_s=1860),
        market(0.5),
        balance("opts", "BTC", 10.0),
        balance("hedge", "BTC", 1.0),
        option("opts", strike_usd=65000.0, size=2.0),
        perpetual("hedge", -300000.0),
    )


@pytest.mark.slow
async def test_collateral_moves_to_the_hedge_venue_before_it_is_liquidated(
    tmp_path: Path,
) -> None:
    """BTC jumps +15% against the hedge venue's short perp: its equity / MM falls under its
    floor, the job withdraws BTC from the options venue through the gate and journal, the
    deposit lands, the floor is met again, and the emulator liquidated nothing."""
    async with make_rig(tmp_path, collateral_config("auto"), events=[JUMP]) as rig:
        ctx, journal, clock = rig.ctx, rig.journal, rig.clock
        jobs = Jobs(ctx, rig.engine)
        await jobs.hedge_cycle()
        calm = await run_collateral(ctx, jobs.latest)
        assert calm is not None and calm.plan.transfers == ()

        clock.advance(5 * MINUTE_MS)  # past the jump
        await jobs.hedge_cycle()
        hit = await run_collateral(ctx, jobs.latest)
        assert hit is not None and hit.status is PlanStatus.OPTIMAL
        [planned] = hit.plan.transfers
        assert planned.route.kind is TransferKind.WITHDRAWAL
        [sent] = journal.transfers.open()
        assert sent.request.transfer_id == planned.transfer_id
        assert sent.request.destination == "sim-hedge-1-btc"

        clock.advance(40 * MINUTE_MS)  # confirmation + network delay
        await jobs.hedge_cycle()
        landed = await run_collateral(ctx, jobs.latest)
        assert journal.transfers.get(planned.transfer_id).state is TransferState.COMPLETED
        assert journal.transfers.open() == ()
        assert landed is not None and landed.plan.transfers == ()
        hedge = next(a for a in landed.accounts if a.account.venue == "hedge")
        assert hedge.equity_before_usd >= hedge.floor_usd
        for name in ("opts", "hedge"):
            log = rig.world.venues[name].exchange.order_log()
            assert not [o for o in log if o.is_liquidation], name


@pytest.mark.slow
async def test_plan_mode_waits_for_an_operator_approval(tmp_path: Path) -> None:
    """In mode plan the same move only proposes a journaled plan; after approval the next run
    sends exactly its transfers and marks it executed."""
    async with make_rig(tmp_path, collateral_config("plan"), events=[JUMP]) as rig:
        ctx, journal, clock = rig.ctx, rig.journal, rig.clock
        jobs = Jobs(ctx, rig.engine)
        clock.advance(5 * MINUTE_MS)
        await jobs.hedge_cycle()
        await run_collateral(ctx, jobs.latest)
        [proposed] = journal.plans.in_state(PlanState.PROPOSED)
        assert journal.transfers.open() == ()  # nothing sent without approval
        journal.plans.mark(proposed.plan_id, PlanState.APPROVED, clock.now_ms())
        await run_collateral(ctx, jobs.latest)
        assert journal.plans.get(proposed.plan_id).state is PlanState.EXECUTED
        sent = {t.request.transfer_id for t in journal.transfers.open()}
        assert sent == {i.request.transfer_id for i in proposed.intents}


UNREACHABLE = collateral_config("auto", (1000000000.0, 1000000001.0, 1000000002.0))
"""The hedge venue's floor at 10⁹: no plan restores it."""


async def test_an_unreachable_floor_restricts_only_its_venue(tmp_path: Path) -> None:
    """A floor no plan can restore puts that venue alone on reducing orders (recorded with the
    reason); the trading state stays ACTIVE, so the other venues trade on, and an operator's
    resume lifts it (regression: REDUCING was global). The same plan made again is not sent
    again (regression: its journaled transfer id crashed the job)."""
    async with make_rig(tmp_path, UNREACHABLE) as rig:
        ctx, journal, clock = rig.ctx, rig.journal, rig.clock
        jobs = Jobs(ctx, rig.engine)
        await jobs.hedge_cycle()
        await run_collateral(ctx, jobs.latest)
        reducing = journal.state.reducing_venues()
        assert list(reducing) == ["hedge"] and "floor unreachable" in reducing["hedge"]
        assert journal.state.trading_state().mode is TradingMode.ACTIVE
        await run_collateral(ctx, jobs.latest)  # the same failed plan again: skipped
        [(count,)] = journal._db.query("SELECT COUNT(*) FROM venue_reductions")
        assert count == 1
        assert journal.state.clear_locks(clock.now_ms()) == 1
        assert journal.state.reducing_venues() == {}
