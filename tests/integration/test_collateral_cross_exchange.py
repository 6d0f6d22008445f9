"""Collateral between two exchanges: Deribit options, Binance USDⓈ-M hedge, both emulated and
reached through unmodified ccxt; BTC moves from Binance to Deribit over the shared network."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.sim_world import SimWorldSetup, build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.domain.collateral import PlanStatus
from bot.domain.orders import TransferState
from bot.engine.collateral_job import collateral_snapshot, run_collateral
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.scheduler import Jobs
from bot.journal import Journal
from bot.sim.faults import DropMode, FaultAction
from bot.venues.factory import Runtime, build_venues

START_MS = 1_796_112_000_000  # 2026-12-01T08:00:00Z
MINUTE_MS = 60_000
WITHDRAW = "POST /sapi/v1/capital/withdraw/apply"

CONFIG = """
mode = "sim"
[[venues]]
name = "opts"
exchange = "deribit"
role = ["options"]
[[venues]]
name = "hedge"
exchange = "binanceusdm"
role = ["hedge"]
[daemon]
journal_path = "{journal}"
[metrics]
enabled = false
[collateral]
mode = "auto"
max_transfer_usd = 1000000
max_daily_transfer_usd = 2000000
[[collateral.venues]]
name = "opts"
band = {{ floor = 4.0, target = 5.0, ceiling = 40.0 }}
[[collateral.venues]]
name = "hedge"
[[collateral.routes]]
from_venue = "hedge"
to_venue = "opts"
currency = "BTC"
address = "sim-opts-1-btc"
fee_coin = 0.00005
min_coin = 0.0001
delay_s = 1830
[sim]
start = 2026-12-01T08:00:00Z
[[sim.underlyings]]
name = "BTC"
spot_usd = 60000
vol = 0.5
[[sim.balances]]
venue = "opts"
currency = "BTC"
amount = 0.5
[[sim.balances]]
venue = "hedge"
currency = "BTC"
amount = 2.0
[[sim.balances]]
venue = "hedge"
currency = "USDT"
amount = 100000.0
[[sim.book]]
venue = "opts"
underlying = "BTC"
kind = "option"
settlement = "inverse"
option_type = "call"
strike_usd = 65000.0
expiry = 2026-12-25T08:00:00Z
size = -2.0
"""


FEE_BTC = 0.00005  # Binance's (the sending venue's) BTC withdrawal fee in the emulator
DELAY_MS = 30_000 + 30 * MINUTE_MS  # Binance's review, then the network


def _btc(world: SimWorldSetup, venue: str) -> float:
    """The BTC cash balance of ``venue``'s main account, as the emulator holds it."""
    return world.venues[venue].exchange.all_balances()[1]["BTC"].balance


def _config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text.format(journal=tmp_path / "j.sqlite"))
    return load_config(path, {})


def _assert_binance_equity_is_its_usdt(jobs: Jobs, config: Config) -> None:
    """Single-asset mode: the 2 BTC held at Binance are no margin there, worth nothing as
    collateral; the account's equity is its 100,000 USDT."""
    assert jobs.latest.portfolio is not None
    view = collateral_snapshot(jobs.latest.portfolio, config, ())
    hedge = next(a for a in view.accounts if a.account.venue == "hedge")
    assert hedge.equity_usd == pytest.approx(100_000.0, rel=1e-3)
    assert hedge.haircut("BTC") == 0.0


async def _run(tmp_path: Path, *, lose_answer: bool) -> None:
    """Send the planned withdrawal (its answer lost if ``lose_answer``), then follow it until it
    lands, asserting it is sent once and arrives with Binance's fee and delay."""
    config = _config(tmp_path, CONFIG)
    clock = ManualClock(START_MS)
    world = build_sim_world(config, clock=clock)
    if lose_answer:
        world.venues["hedge"].faults.drop(
            FaultAction.FILL_THEN_DROP, method=WITHDRAW, count=1, mode=DropMode.CLOSE
        )
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        with Journal.open(config.daemon.journal_path) as journal:
            ctx = EngineContext(config, journal, venues, clock.now_ms)
            jobs = Jobs(ctx, HedgeEngine(ctx, config.strategy.build()))
            try:
                await jobs.hedge_cycle()
                _assert_binance_equity_is_its_usdt(jobs, config)
                sent = await run_collateral(ctx, jobs.latest)
                assert sent is not None and sent.status is PlanStatus.OPTIMAL
                [planned] = sent.plan.transfers
                assert (planned.route.source.venue, planned.route.destination.venue) == (
                    "hedge",
                    "opts",
                )
                [record] = journal.transfers.open()
                assert record.request.transfer_id == planned.transfer_id
                lost = TransferState.UNKNOWN if lose_answer else TransferState.PROCESSING
                assert record.state is lost
                hedge = world.venues["hedge"].exchange
                [withdrawal] = hedge.withdrawals(1, "BTC")
                assert withdrawal.fee == FEE_BTC
                assert withdrawal.amount == pytest.approx(planned.amount_coin)
                assert _btc(world, "hedge") == pytest.approx(2.0 - withdrawal.amount)

                clock.advance(DELAY_MS - MINUTE_MS)  # reviewed and on chain, not landed
                await jobs.hedge_cycle()
                await run_collateral(ctx, jobs.latest)
                assert journal.transfers.get(planned.transfer_id).state is not (
                    TransferState.COMPLETED
                )
                opts = world.venues["opts"].exchange
                assert [d.state for d in opts.deposits(1, "BTC")] == ["pending"]

                clock.advance(2 * MINUTE_MS)
                await jobs.hedge_cycle()
                landed = await run_collateral(ctx, jobs.latest)
                done = journal.transfers.get(planned.transfer_id)
                assert done.state is TransferState.COMPLETED
                assert done.venue_transfer_id == str(withdrawal.id)
                assert journal.transfers.open() == ()
                assert landed is not None and landed.plan.transfers == ()
                assert len(hedge.withdrawals(1, "BTC")) == 1  # never sent twice
                [deposit] = opts.deposits(1, "BTC")
                assert deposit.state == "completed"
                assert deposit.amount == pytest.approx(withdrawal.amount - FEE_BTC)
                assert deposit.received_timestamp == withdrawal.created_timestamp + DELAY_MS
            finally:
                for venue in venues.values():
                    await venue.close()


@pytest.mark.slow
async def test_btc_moves_from_binance_to_deribit_with_binances_fee_and_delay(
    tmp_path: Path,
) -> None:
    """The Deribit options account under its floor draws BTC from the Binance account, whose
    equity counts its USDT alone (BTC is no margin there): the withdrawal is journaled, sent
    once through ccxt's sapi call, tracked by its withdrawOrderId and lands at Deribit after
    Binance's review and network delay, less Binance's fee."""
    await _run(tmp_path, lose_answer=False)


@pytest.mark.slow
async def test_a_lost_binance_withdrawal_answer_is_looked_up_never_resent(
    tmp_path: Path,
) -> None:
    """The Binance withdrawal goes through but its answer is lost: the transfer is not sent
    again, and the history's withdrawOrderId echo carries it to completion."""
    await _run(tmp_path, lose_answer=True)
