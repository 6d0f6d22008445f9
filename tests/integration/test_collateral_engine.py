"""The collateral job on two emulated venues: the market moves against the hedge venue, the
daemon moves collateral from the options venue in time, and nothing is liquidated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import load_config
from bot.domain.collateral import PlanStatus
from bot.domain.orders import TransferKind, TransferState
from bot.domain.trading_state import TradingMode
from bot.engine.collateral_job import run_collateral
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.scheduler import Jobs
from bot.journal import Journal, PlanState
from bot.sim.market import JumpEvent
from bot.venues.factory import Runtime, build_venues

START_MS = 1_796_112_000_000  # 2026-12-01T08:00:00Z
MINUTE_MS = 60_000

CONFIG = """
mode = "sim"
[[venues]]
name = "opts"
exchange = "deribit"
role = ["options"]
[[venues]]
name = "hedge"
exchange = "deribit"
role = ["hedge"]
[daemon]
journal_path = "{journal}"
[metrics]
enabled = false
[collateral]
mode = "{mode}"
max_transfer_usd = 1000000
max_daily_transfer_usd = 2000000
[[collateral.venues]]
name = "opts"
[[collateral.venues]]
name = "hedge"
band = {{ floor = 10.0, target = 15.0, ceiling = 40.0 }}
[[collateral.routes]]
from_venue = "opts"
to_venue = "hedge"
currency = "BTC"
address = "sim-hedge-1-btc"
fee_coin = 0.0001
min_coin = 0.0002
delay_s = 1860
[sim]
start = 2026-12-01T08:00:00Z
[[sim.underlyings]]
name = "BTC"
spot_usd = 60000
vol = 0.5
[[sim.balances]]
venue = "opts"
currency = "BTC"
amount = 10.0
[[sim.balances]]
venue = "hedge"
currency = "BTC"
amount = 1.0
[[sim.book]]
venue = "opts"
underlying = "BTC"
kind = "option"
settlement = "inverse"
option_type = "call"
strike_usd = 65000.0
expiry = 2026-12-25T08:00:00Z
size = 2.0
[[sim.book]]
venue = "hedge"
underlying = "BTC"
kind = "perpetual"
settlement = "inverse"
size = -300000.0
"""


@pytest.mark.slow
async def test_collateral_moves_to_the_hedge_venue_before_it_is_liquidated(
    tmp_path: Path,
) -> None:
    """BTC jumps +15% against the hedge venue's short perp: its equity / MM falls under its
    floor, the job withdraws BTC from the options venue through the gate and journal, the
    deposit lands, the floor is met again, and the emulator liquidated nothing."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(journal=tmp_path / "j.sqlite", mode="auto"))
    config = load_config(path, {})
    clock = ManualClock(START_MS)
    jump = JumpEvent(START_MS + 2 * MINUTE_MS, "BTC", 0.15)
    world = build_sim_world(config, events=[jump], clock=clock)
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        with Journal.open(config.daemon.journal_path) as journal:
            ctx = EngineContext(config, journal, venues, clock.now_ms)
            jobs = Jobs(ctx, HedgeEngine(ctx, config.strategy.build()))
            try:
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
                    log = world.venues[name].exchange.order_log()
                    assert not [o for o in log if o.is_liquidation], name
            finally:
                for venue in venues.values():
                    await venue.close()


@pytest.mark.slow
async def test_plan_mode_waits_for_an_operator_approval(tmp_path: Path) -> None:
    """In mode plan the same move only proposes a journaled plan; after approval the next run
    sends exactly its transfers and marks it executed."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(journal=tmp_path / "j.sqlite", mode="plan"))
    config = load_config(path, {})
    clock = ManualClock(START_MS)
    jump = JumpEvent(START_MS + 2 * MINUTE_MS, "BTC", 0.15)
    world = build_sim_world(config, events=[jump], clock=clock)
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        with Journal.open(config.daemon.journal_path) as journal:
            ctx = EngineContext(config, journal, venues, clock.now_ms)
            jobs = Jobs(ctx, HedgeEngine(ctx, config.strategy.build()))
            try:
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
            finally:
                for venue in venues.values():
                    await venue.close()


async def test_an_unreachable_floor_restricts_only_its_venue(tmp_path: Path) -> None:
    """A floor no plan can restore puts that venue alone on reducing orders (recorded with the
    reason); the trading state stays ACTIVE, so the other venues trade on, and an operator's
    resume lifts it (regression: REDUCING was global). The same plan made again is not sent
    again (regression: its journaled transfer id crashed the job)."""
    path = tmp_path / "config.toml"
    text = CONFIG.format(journal=tmp_path / "j.sqlite", mode="auto").replace(
        "band = { floor = 10.0, target = 15.0, ceiling = 40.0 }",
        "band = { floor = 1000000000.0, target = 1000000001.0, ceiling = 1000000002.0 }",
    )
    path.write_text(text)
    config = load_config(path, {})
    clock = ManualClock(START_MS)
    world = build_sim_world(config, clock=clock)
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        with Journal.open(config.daemon.journal_path) as journal:
            ctx = EngineContext(config, journal, venues, clock.now_ms)
            jobs = Jobs(ctx, HedgeEngine(ctx, config.strategy.build()))
            try:
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
            finally:
                for venue in venues.values():
                    await venue.close()
