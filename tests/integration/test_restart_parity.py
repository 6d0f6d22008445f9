"""Warm and cold restart parity (issue 11): the same venue state reconciled from the journal
the daemon wrote and from an empty journal gives the same positions, the same hedge
decision and no orders.

The warm journal is not a tidy one: the daemon hedged, the market jumped, and it crashed
between sending the next hedge (which the venue filled) and journaling the answer. The
emulator's clock stands still while both restarts read it, so both see one venue state.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import Config
from bot.domain.orders import OrderState, SendOutcome
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.cycle_result import CycleResult
from bot.engine.reconciler import reconcile_journal
from bot.journal import Journal
from bot.sim.market import JumpEvent
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.factory import Runtime, build_venues
from tests.integration.test_engine import engine_config
from tests.sim_configs import START_MS, load, option, risk_caps

MINUTE_MS = 60_000

CONFIG = engine_config(caps=risk_caps(), options=option("sim-a", strike_usd=65000.0, size=5.0))
"""Five long calls and a short perp on one Deribit venue with 2 BTC of collateral."""


class Crash(BaseException):
    """The process dying: nothing in the engine catches it."""


def _crash_after_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next order reaches the venue and the process dies before the answer is seen."""
    send: Callable[[CcxtVenue, Any], Awaitable[SendOutcome]] = CcxtVenue.create_order

    async def sent_then_crash(self: CcxtVenue, request: Any) -> SendOutcome:
        await send(self, request)
        raise Crash(request.client_id)

    monkeypatch.setattr(CcxtVenue, "create_order", sent_then_crash)


async def _restart(config: Config, path: Path, venues: Any, clock: ManualClock) -> CycleResult:
    """What ``deltabot run`` does after a restart, up to its first cycle: open the journal,
    reconcile, run a cycle."""
    with Journal.open(path) as journal:
        ctx = EngineContext(config, journal, venues, clock.now_ms)
        engine = HedgeEngine(ctx, config.strategy.build())
        await reconcile_journal(ctx)
        assert journal.orders.open() == ()
        assert journal.orders.in_flight() == {}
        return await engine.run_cycle()


def _positions(result: CycleResult) -> dict[str, float]:
    assert result.portfolio is not None
    return {p.instrument.symbol: p.size for snap in result.portfolio.venues for p in snap.positions}


async def test_warm_and_cold_restarts_reconcile_to_the_same_book_and_send_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crashed daemon's journal and an empty one reconcile to one book and decision, no order."""
    warm, cold = tmp_path / "warm.sqlite", tmp_path / "cold.sqlite"
    config = load(tmp_path, CONFIG, journal=warm)
    clock = ManualClock(START_MS)
    jump = JumpEvent(START_MS + MINUTE_MS, "BTC", 0.05)
    world = build_sim_world(config, events=[jump], clock=clock)
    exchange = world.venues["sim-a"].exchange
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        try:
            with Journal.open(warm) as journal:
                engine = HedgeEngine(
                    EngineContext(config, journal, venues, clock.now_ms), config.strategy.build()
                )
                hedged = await engine.run_cycle()
                assert hedged.error is None and len(hedged.outcomes) == 1
                clock.advance(2 * MINUTE_MS)  # past the jump: the calls' delta grew
                with monkeypatch.context() as patch:
                    _crash_after_send(patch)
                    with pytest.raises(Crash) as crashed:
                        await engine.run_cycle()
                lost = str(crashed.value)
                assert journal.orders.get(lost).state is OrderState.SUBMITTED
            venue_orders = [o.label for o in exchange.order_log()]
            assert venue_orders[-1] == lost and len(venue_orders) == 2

            warm_result = await _restart(config, warm, venues, clock)
            cold_result = await _restart(config, cold, venues, clock)

            with Journal.open(warm) as journal:
                record = journal.orders.get(lost)
                assert record.state is OrderState.FILLED
                fills = journal.orders.fills_of(record.request.venue, lost)
                assert math.isclose(sum(f.amount for f in fills), record.filled_amount)
            assert [o.label for o in exchange.order_log()] == venue_orders
        finally:
            for venue in venues.values():
                await venue.close()
    for result in (warm_result, cold_result):
        assert result.error is None and result.outcomes == ()
        assert result.plan is not None and not result.plan.intents
    assert _positions(warm_result) == _positions(cold_result)
    assert warm_result.plan is not None and cold_result.plan is not None
    assert warm_result.plan.hedge_positions == cold_result.plan.hedge_positions
    [w], [c] = warm_result.plan.decisions, cold_result.plan.decisions
    assert (w.book_delta_coin, w.hedge_coin, w.new_hedge_coin) == (
        c.book_delta_coin,
        c.hedge_coin,
        c.new_hedge_coin,
    )
