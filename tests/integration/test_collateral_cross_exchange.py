"""Collateral between two exchanges: Deribit options, Binance USDⓈ-M hedge, both emulated and
reached through unmodified ccxt; BTC moves from Binance to Deribit and USDT from Deribit to
Binance over the shared network, each with the sending venue's fee and delay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.sim_world import SimWorldSetup
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.domain.collateral import PlanStatus, optimize
from bot.domain.ids import VenueId
from bot.domain.orders import TransferState
from bot.engine.collateral_job import collateral_snapshot, run_collateral
from bot.engine.context import EngineContext
from bot.engine.scheduler import Jobs
from bot.journal import Journal
from bot.sim.faults import DropMode, FaultAction
from tests.integration.test_engine import engine_rig
from tests.sim_configs import (
    account,
    balance,
    collateral_job,
    load,
    market,
    option,
    perpetual,
    quiet,
    route,
    sim,
    split_venues,
)

MINUTE_MS = 60_000
WITHDRAW = "POST /sapi/v1/capital/withdraw/apply"


def collateral(*parts: str) -> str:
    """Deribit options ``opts`` and a Binance USDⓈ-M hedge ``hedge``, the collateral job in
    auto, and ``parts``: its venues and routes, then the world's balances and book."""
    return sim(
        split_venues("binanceusdm"),
        quiet(),
        collateral_job(),
        *parts,
    )


SHORT_CALLS = option("opts", strike_usd=65000.0, size=-2.0)
"""Two short calls at Deribit."""
USDT_ROUTES = route("opts", "hedge", "USDT", fee_coin=1.0, min_coin=10.0, delay_s=1860) + route(
    "hedge", "opts", "USDT", fee_coin=1.0, min_coin=10.0, delay_s=1830
)
CONFIG = collateral(
    account("opts", (4.0, 5.0, 40.0)),
    account("hedge"),
    route("hedge", "opts", "BTC", fee_coin=0.00005, min_coin=0.0001, delay_s=1830),
    market(0.5),
    balance("opts", "BTC", 0.5),
    balance("hedge", "BTC", 2.0),
    balance("hedge", "USDT", 100000.0),
    SHORT_CALLS,
)
"""Deribit's two short calls on 0.5 BTC are under its floor; Binance holds 2 BTC and USDT."""
TO_BINANCE = collateral(
    account("opts"),
    account("hedge", (5.0, 6.0, 40.0)),
    USDT_ROUTES,
    market(0.5),
    balance("opts", "USDT", 100000.0),
    balance("hedge", "USDT", 10000.0),
    perpetual("hedge", 10.0, settlement="linear"),
)
"""Binance's 10 BTC long perp on 10,000 USDT is under its floor; Deribit holds 100,000 USDT."""
TO_DERIBIT = collateral(
    account("opts", (4.0, 5.0, 40.0)),
    account("hedge"),
    USDT_ROUTES,
    market(0.5),
    balance("opts", "BTC", 0.5),
    balance("hedge", "USDT", 100000.0),
    SHORT_CALLS,
)
"""Deribit's two short calls on 0.5 BTC are under its floor; Binance holds 100,000 USDT."""
USDT_FEE = 1.0  # both emulators' USDT withdrawal fee, charged by the sending venue
DERIBIT_DELAY_MS = MINUTE_MS + 30 * MINUTE_MS  # Deribit's confirmation, then the network
FEE_BTC = 0.00005  # Binance's (the sending venue's) BTC withdrawal fee in the emulator
DELAY_MS = 30_000 + 30 * MINUTE_MS  # Binance's review, then the network


def _btc(world: SimWorldSetup, venue: str) -> float:
    """The BTC cash balance of ``venue``'s main account, as the emulator holds it."""
    return world.venues[venue].exchange.all_balances()[1]["BTC"].balance


@dataclass
class Daemon:
    """The two emulators, the engine's context and jobs on one manual clock."""

    clock: ManualClock
    world: SimWorldSetup
    journal: Journal
    ctx: EngineContext
    jobs: Jobs


@asynccontextmanager
async def _daemon(config: Config) -> AsyncIterator[Daemon]:
    """The daemon's jobs over both emulators, from ``sim.start``."""
    async with engine_rig(config) as rig:
        yield Daemon(rig.clock, rig.world, rig.journal, rig.ctx, Jobs(rig.ctx, rig.engine))


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
    config = load(tmp_path, CONFIG)
    async with _daemon(config) as d:
        clock, world, journal, ctx, jobs = d.clock, d.world, d.journal, d.ctx, d.jobs
        if lose_answer:
            world.venues["hedge"].faults.drop(
                FaultAction.FILL_THEN_DROP, method=WITHDRAW, count=1, mode=DropMode.CLOSE
            )
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
        assert journal.transfers.get(planned.transfer_id).state is not (TransferState.COMPLETED)
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "source", "destination", "delay_ms"),
    [
        (TO_BINANCE, "opts", "hedge", DERIBIT_DELAY_MS),
        (TO_DERIBIT, "hedge", "opts", DELAY_MS),
    ],
    ids=["deribit-to-binance", "binance-to-deribit"],
)
async def test_usdt_moves_between_the_exchanges_with_the_senders_fee_and_delay(
    tmp_path: Path, text: str, source: str, destination: str, delay_ms: int
) -> None:
    """The account under its floor draws USDT from the other exchange's cash: the withdrawal is
    sent once through the sender's ccxt client and lands after the sender's review and network
    delay, less the sender's 1 USDT; USDT is collateral at both ends."""
    config = load(tmp_path, text)
    async with _daemon(config) as d:
        await d.jobs.hedge_cycle()
        sent = await run_collateral(d.ctx, d.jobs.latest)
        assert sent is not None and sent.status is PlanStatus.OPTIMAL
        [planned] = sent.plan.transfers
        route = planned.route
        assert (route.source.venue, route.destination.venue, route.asset) == (
            source,
            destination,
            "USDT",
        )
        sender = d.world.venues[VenueId(source)].exchange
        receiver = d.world.venues[VenueId(destination)].exchange
        [withdrawal] = sender.withdrawals(1, "USDT")
        assert withdrawal.fee == USDT_FEE
        assert withdrawal.amount == pytest.approx(planned.amount_coin)
        before = receiver.all_balances()[1]["USDT"].balance

        d.clock.advance(delay_ms + MINUTE_MS)
        await d.jobs.hedge_cycle()
        await run_collateral(d.ctx, d.jobs.latest)
        assert d.journal.transfers.get(planned.transfer_id).state is TransferState.COMPLETED
        [deposit] = receiver.deposits(1, "USDT")
        assert deposit.amount == pytest.approx(withdrawal.amount - USDT_FEE)
        assert deposit.received_timestamp == withdrawal.created_timestamp + delay_ms
        assert len(sender.withdrawals(1, "USDT")) == 1  # never sent twice
        after = receiver.all_balances()[1]["USDT"].balance
        assert after == pytest.approx(before + deposit.amount, abs=100.0)  # less trading fees


def _example_with_raised_binance_band(tmp_path: Path) -> Config:
    """config.example.toml, the Binance band above the example account's ratio (about 36)."""
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    band = "band = { floor = 2.0, target = 3.0, ceiling = 5.0 }"
    assert example.count(band) == 1
    path = tmp_path / "config.toml"
    path.write_text(example.replace(band, "band = { floor = 38.0, target = 40.0, ceiling = 60.0 }"))
    return load_config(path, {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "j.sqlite")})


async def test_the_example_config_plans_usdt_from_deribit_to_binance(tmp_path: Path) -> None:
    """config.example.toml with the Binance band raised above its account's ratio: the planner
    tops Binance up with Deribit's USDT over the example's route (Deribit's fee and delay), not
    with coin, which is no margin there."""
    config = _example_with_raised_binance_band(tmp_path)
    async with _daemon(config) as d:
        await d.jobs.hedge_cycle()
        assert d.jobs.latest.portfolio is not None
        result = optimize(collateral_snapshot(d.jobs.latest.portfolio, config, ()))
    assert result.status is PlanStatus.OPTIMAL
    [move] = result.plan.transfers
    route = move.route
    assert (route.source.venue, route.destination.venue, route.asset) == (
        "deribit-a",
        "binance-a",
        "USDT",
    )
    assert (route.fee_coin, route.delay_ms) == (USDT_FEE, DERIBIT_DELAY_MS)
    assert 0 < move.amount_coin <= 50_000.0
