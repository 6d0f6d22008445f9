"""The hedge engine against the Deribit emulator through real ccxt, with fault knobs on."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import structlog

from bot.app.sim_world import SimWorldSetup, build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import Config
from bot.domain.health import Level
from bot.domain.ids import VenueId
from bot.domain.orders import OrderState
from bot.domain.risk import DenyReason
from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle import HedgeEngine
from bot.engine.health import health_of
from bot.engine.reconciler import reconcile_journal
from bot.engine.status import status_of
from bot.journal import Journal
from bot.ops.status_server import run_status_server
from bot.sim.faults import DropMode, FaultAction
from bot.sim.market import MarketEvent
from bot.venues.factory import Runtime, build_venues
from tests.sim_configs import (
    START_MS,
    balance,
    band,
    hedge_route,
    load,
    market,
    option,
    perpetual,
    quiet,
    risk_caps,
    sim,
    underlying_spec,
    venue,
)

PERP = "BTC/USD:BTC"


def engine_config(
    *,
    btc: float = 2.0,
    perp_usd: float = -60000.0,
    caps: str = "",
    options: str = "",
    numeraire: str = "usd",
) -> str:
    """Options and hedge on one Deribit venue ``sim-a``: ``btc`` of collateral, ``options``
    (:func:`option` entries) and an inverse perp of ``perp_usd``, a ±0.1 BTC band, and
    ``caps`` (:func:`risk_caps`'s) or the high ones."""
    return sim(
        venue("sim-a"),
        hedge_route("sim-a", PERP),
        band(0.1),
        caps or risk_caps(max_consecutive_failures=3, unknown_grace_s=30),
        quiet(),
        market(0.6),
        balance("sim-a", "BTC", btc),
        options,
        perpetual("sim-a", perp_usd),
        **({"numeraire": numeraire} if numeraire != "usd" else {}),
    )


CONFIG = engine_config()
"""2 BTC of collateral and a −60,000 USD perp: +1 BTC of delta to hedge."""


@dataclasses.dataclass
class Rig:
    config: Config
    clock: ManualClock
    world: SimWorldSetup
    ctx: EngineContext
    engine: HedgeEngine
    journal: Journal
    venues: dict[str, Any]

    @property
    def exchange(self) -> Any:
        return self.world.venues["sim-a"].exchange

    @property
    def faults(self) -> Any:
        return self.world.venues["sim-a"].faults

    def perp_usd(self) -> float:
        """The emulator's BTC-PERPETUAL position, in USD (its amount unit)."""
        rows = self.exchange.all_positions()[1]
        return sum(p.size for p in rows if p.instrument_name == "BTC-PERPETUAL")

    def venue_orders(self) -> list[Any]:
        return list(self.exchange.order_log())


@asynccontextmanager
async def make_rig(
    tmp_path: Path,
    text: str,
    *,
    venue_ahead_ms: int = 0,
    on_rate_limited: Callable[[VenueId, str], None] | None = None,
    events: Sequence[MarketEvent] = (),
) -> AsyncIterator[Rig]:
    """:func:`engine_rig` of the config ``text`` (its journal in ``tmp_path``)."""
    config = load(tmp_path, text, journal=tmp_path / "journal.sqlite")
    async with engine_rig(
        config, venue_ahead_ms=venue_ahead_ms, on_rate_limited=on_rate_limited, events=events
    ) as rig:
        yield rig


@asynccontextmanager
async def engine_rig(
    config: Config,
    *,
    venue_ahead_ms: int = 0,
    on_rate_limited: Callable[[VenueId, str], None] | None = None,
    events: Sequence[MarketEvent] = (),
) -> AsyncIterator[Rig]:
    """The engine on the emulator from ``sim.start``; ``venue_ahead_ms`` sets the emulator's
    clock ahead of ours; ``on_rate_limited`` hears each rate-limit answer; ``events`` are the
    market's script."""
    assert config.sim is not None
    clock = ManualClock(config.sim.start_ms)
    world = build_sim_world(config, events=events, clock=clock)

    def our_ms() -> int:
        return clock.now_ms() - venue_ahead_ms

    async with serve_sim_world(world) as (endpoints, _running):
        runtime = Runtime(clock_ms=our_ms, on_rate_limited=on_rate_limited)
        venues = build_venues(config, {}, runtime, sim_endpoints=endpoints)
        journal = Journal.open(config.daemon.journal_path)
        ctx = EngineContext(config, journal, venues, our_ms)
        engine = HedgeEngine(ctx, config.strategy.build())
        try:
            yield Rig(config, clock, world, ctx, engine, journal, dict(venues))
        finally:
            for v in venues.values():
                await v.close()
            journal.close()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with make_rig(tmp_path, CONFIG) as built:
        yield built


async def test_cycle_hedges_the_book_into_its_band_and_then_holds(rig: Rig) -> None:
    """2 BTC of collateral and a −1 BTC perp are +1 BTC of delta: one sell of ~60,000 USD."""
    first = await rig.engine.run_cycle()
    assert first.error is None
    [(intent, _outcome)] = first.outcomes
    assert intent.order.side.value == "sell"
    assert intent.order.amount == pytest.approx(60_000, abs=100)
    assert rig.journal.orders.get(intent.order.client_id).state is OrderState.FILLED
    assert rig.perp_usd() == pytest.approx(-60_000 - intent.order.amount)
    rig.clock.advance(5_000)
    second = await rig.engine.run_cycle()
    assert second.error is None and second.outcomes == ()
    [decision] = second.plan.decisions if second.plan else []
    assert abs(decision.book_delta_coin + decision.hedge_coin) <= 0.1


async def test_reply_lost_after_fill_is_reconciled_not_resent(rig: Rig) -> None:
    """The venue fills but the reply is lost: UNKNOWN, then FILLED by lookup; one order only."""
    rig.faults.drop(FaultAction.FILL_THEN_DROP, method="private/sell", mode=DropMode.CLOSE)
    first = await rig.engine.run_cycle()
    [(intent, outcome)] = first.outcomes
    assert type(outcome).__name__ == "Ambiguous"
    assert rig.journal.orders.get(intent.order.client_id).state is OrderState.UNKNOWN
    rig.clock.advance(5_000)
    second = await rig.engine.run_cycle()
    assert second.outcomes == ()
    assert rig.journal.orders.get(intent.order.client_id).state is OrderState.FILLED
    assert len(rig.venue_orders()) == 1


async def test_request_lost_before_the_venue_stays_in_flight_until_the_grace_period(
    rig: Rig,
) -> None:
    """An order the venue never saw blocks re-hedging until NOT_FOUND, then one new order."""
    rig.faults.drop(FaultAction.DROP_BEFORE_SEEN, method="private/sell", mode=DropMode.CLOSE)
    first = await rig.engine.run_cycle()
    [(lost, _)] = first.outcomes
    rig.clock.advance(5_000)
    inside_grace = await rig.engine.run_cycle()
    assert inside_grace.outcomes == ()
    assert rig.journal.orders.get(lost.order.client_id).state is OrderState.UNKNOWN
    rig.clock.advance(31_000)
    after_grace = await rig.engine.run_cycle()
    assert rig.journal.orders.get(lost.order.client_id).state is OrderState.NOT_FOUND
    [(retry, _)] = after_grace.outcomes
    assert retry.order.client_id != lost.order.client_id
    assert [o.label for o in rig.venue_orders()] == [retry.order.client_id]


async def test_empty_position_read_is_unknown_not_flat_and_repeated_failures_halt(
    rig: Rig,
) -> None:
    """Positions vanishing from a read skip the hedge; three such cycles halt trading."""
    await rig.engine.run_cycle()
    orders_before = len(rig.venue_orders())
    rig.faults.set_empty_positions()
    for _ in range(3):
        rig.clock.advance(5_000)
        result = await rig.engine.run_cycle()
        assert result.error is not None and "no positions" in result.error
        assert result.outcomes == ()
    assert len(rig.venue_orders()) == orders_before
    assert rig.journal.state.trading_state().mode is TradingMode.HALTED


async def test_after_a_restart_an_empty_read_contradicting_the_journal_is_unknown(
    rig: Rig,
) -> None:
    """A new engine on the same journal refuses a first empty read while our journaled
    fills say the venue holds a perp; an operator's resume accepts the book as read."""
    await rig.engine.run_cycle()
    assert rig.venue_orders()
    rig.faults.set_empty_positions()
    restarted = HedgeEngine(rig.ctx, rig.config.strategy.build())
    rig.clock.advance(5_000)
    result = await restarted.run_cycle()
    assert result.error is not None and "BTC/USD:BTC" in result.error
    assert result.outcomes == () and len(rig.venue_orders()) == 1
    rig.journal.state.set_trading_state(
        TradingState(TradingMode.ACTIVE, "checked by hand", SetBy.OPERATOR, rig.clock.now_ms())
    )
    rig.clock.advance(5_000)
    assert (await restarted.run_cycle()).error is None


async def test_a_book_closed_by_our_own_fills_may_read_empty(tmp_path: Path) -> None:
    """Coin numeraire, a +1 BTC perp: the hedge closes it, and the empty read that follows is
    explained by our fills, not treated as a vanished book."""
    text = engine_config(btc=0.5, perp_usd=60000.0, numeraire="coin")
    async with make_rig(tmp_path, text) as r:
        first = await r.engine.run_cycle()
        assert [i.order.side.value for i, _ in first.outcomes] == ["sell"]
        assert r.perp_usd() == 0
        r.clock.advance(5_000)
        second = await r.engine.run_cycle()
        assert second.error is None and second.outcomes == ()


async def test_failing_position_read_sends_nothing(rig: Rig) -> None:
    """A position read that keeps failing fails the cycle before any order is planned."""
    rig.faults.inject_error(10028, method="private/get_positions")
    result = await rig.engine.run_cycle()
    assert result.error is not None and result.plan is None
    assert result.outcomes == () and rig.venue_orders() == []


class FrozenPositions:
    """A venue whose position reads are stuck at their first answer (fills don't show)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._frozen: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def fetch_positions(self) -> Any:
        if self._frozen is None:
            self._frozen = await self._inner.fetch_positions()
        return self._frozen

    async def snapshot(self, watch: Any = ()) -> Any:
        snap = await self._inner.snapshot(watch)
        if self._frozen is None:
            self._frozen = snap.positions
        return dataclasses.replace(snap, positions=self._frozen)


async def test_stuck_position_read_locks_the_underlying_after_one_order(rig: Rig) -> None:
    """Fills without a position change lock BTC: at most one order, whatever the cycles."""
    stuck = FrozenPositions(rig.venues["sim-a"])
    ctx = dataclasses.replace(rig.ctx, venues={"sim-a": stuck})
    engine = HedgeEngine(ctx, rig.config.strategy.build())
    results = []
    for _ in range(4):
        results.append(await engine.run_cycle())
        rig.clock.advance(5_000)
    assert len(rig.venue_orders()) <= 2
    assert "BTC" in rig.journal.state.locks()
    last = results[-1]
    assert last.decision is not None and last.decision.approved == ()
    assert {d.reason for d in last.decision.denied} <= {DenyReason.LOCKED}


async def test_operator_halt_in_the_journal_stops_the_next_cycle(rig: Rig) -> None:
    """A HALTED state written beside the engine denies every order of the next cycle."""
    rig.journal.state.set_trading_state(
        TradingState(TradingMode.HALTED, "operator test", SetBy.OPERATOR, START_MS)
    )
    result = await rig.engine.run_cycle()
    assert result.outcomes == ()
    assert result.decision is not None
    assert {d.reason for d in result.decision.denied} == {DenyReason.HALTED}
    assert rig.venue_orders() == []


async def test_margin_job_exports_liquidation_distance_and_agrees_with_the_venue(
    rig: Rig,
) -> None:
    """A coin-margined account short its own coin in the inverse perp is USD-stable: no move
    liquidates it; our margin model agrees with the emulator's; the distance is exported."""
    from bot.engine.margin_job import margin_snapshot

    latest = LatestRead().after_cycle(await rig.engine.run_cycle())
    view = margin_snapshot(rig.ctx, latest)
    assert view is not None and view.distance is not None
    [i] = [k for k, v in enumerate(view.distance.venues) if v == "sim-a"]
    # 2 BTC of equity against ~120,000 USD short of BTC-PERPETUAL: the coin equity
    # is 120,000 / F at any price F, always far above the maintenance margin.
    assert np.isinf(view.distance.down_frac[i]) and np.isinf(view.distance.up_frac[i])
    assert view.distance.equity_usd[i] == pytest.approx(120_000, rel=0.01)
    assert 0 < view.distance.maintenance_usd[i] < 0.01 * view.distance.equity_usd[i]
    assert view.drift == ()
    body, _ = rig.ctx.metrics.exposition()
    assert b'deltabot_liquidation_distance_ratio{direction="up",venue="sim-a"}' in body


async def test_stress_job_exports_the_worst_loss_of_the_light_pass(rig: Rig) -> None:
    """The light stress pass sees the crash loss of a half-hedged book vanish once hedged,
    and exports the worst loss."""
    from bot.engine.margin_job import stress_snapshot

    first = LatestRead().after_cycle(await rig.engine.run_cycle())
    before = stress_snapshot(rig.ctx, first)  # on the read before the hedge
    rig.clock.advance(5_000)
    after = stress_snapshot(rig.ctx, first.after_cycle(await rig.engine.run_cycle()))
    assert before is not None and after is not None
    # Before: 2 BTC of equity against a 1 BTC short is 1 BTC long: the -50% crash costs
    # about 0.5 x 60,000 USD. After: short 2 BTC, USD-stable, it costs next to nothing.
    assert before.crash_loss_usd == pytest.approx(30_000, rel=0.02)
    assert 0 <= after.worst_loss_usd < 0.01 * 120_000
    light = after
    body, _ = rig.ctx.metrics.exposition()
    line = next(x for x in body.decode().splitlines() if x.startswith("deltabot_worst_stress"))
    assert float(line.split()[-1]) == pytest.approx(light.worst_loss_usd)


async def test_surface_job_fits_the_options_venue_smiles_from_its_chain(tmp_path: Path) -> None:
    """With an option held, the surface job fits every quoted expiry of BTC closely (the
    emulator's smiles are SSVI slices) and without butterfly arbitrage."""
    from bot.engine.scheduler import Jobs

    async with make_rig(tmp_path, CONFIG + option("sim-a", strike_usd=65000.0, size=-1.0)) as r:
        jobs = Jobs(r.ctx, r.engine)
        await jobs.hedge_cycle()
        await jobs.surfaces()  # the scheduler keeps what the job returned for the next cycle
        surface = jobs.latest.surfaces["sim-a"]["BTC"]
        fitted = [s for s in surface.smiles.values() if s.fit is not None]
        assert len(fitted) >= 4
        assert all(s.arbitrage_free and s.rms_volpt < 1.0 for s in fitted)


ITM_CALL = option("sim-a", strike_usd=40000.0, size=2.0)


async def test_delta_cross_check_sets_black_76_against_the_tickers_black_scholes(
    tmp_path: Path,
) -> None:
    """A deep ITM call: the gate compares our Black-76 delta with the ticker's Black-Scholes
    delta (equal), never with the position's premium-adjusted delta (off by the premium)."""
    async with make_rig(tmp_path, CONFIG + ITM_CALL) as rig:
        result = await rig.engine.run_cycle()
        assert result.error is None and result.plan is not None and result.decision is not None
        check = result.plan.delta_checks["BTC"]
        assert check.venue_coin == pytest.approx(check.ours_coin, abs=1e-9)
        assert DenyReason.DELTA_MISMATCH not in {d.reason for d in result.decision.denied}
        [option] = rig.exchange.positions(1, "BTC", "option")
        ticker = rig.exchange.ticker(option.instrument_name)
        assert ticker.greeks is not None
        assert check.venue_coin == pytest.approx(2.0 * ticker.greeks["delta"], abs=1e-9)
        premium = 2.0 * ticker.mark_price
        assert premium > 0.5
        assert option.delta == pytest.approx(check.venue_coin - premium, abs=1e-9)


async def test_an_order_no_lookup_can_find_is_given_up_after_its_window(rig: Rig) -> None:
    """An order lost before the venue, whose every lookup then fails, leaves UNKNOWN for
    NOT_FOUND once the resolution window is over (no intent stays unknown for ever)."""
    import structlog

    rig.faults.drop(FaultAction.DROP_BEFORE_SEEN, method="private/sell", mode=DropMode.CLOSE)
    [(lost, _)] = (await rig.engine.run_cycle()).outcomes
    cid = lost.order.client_id
    for method in ("private/get_open_orders_by_instrument", "private/get_order_history_by_*"):
        rig.faults.inject_error(10001, method=method)  # every lookup fails: no evidence
    rig.clock.advance(rig.config.risk.unknown_resolution_ms - 1_000)
    await reconcile_journal(rig.ctx, recheck_not_found=False)
    assert rig.journal.orders.get(cid).state is OrderState.UNKNOWN
    rig.clock.advance(1_000)
    with structlog.testing.capture_logs() as logs:
        await reconcile_journal(rig.ctx, recheck_not_found=False)
    assert rig.journal.orders.get(cid).state is OrderState.NOT_FOUND
    assert [e["client_id"] for e in logs if e["event"] == "order_unknown_past_window"] == [cid]


def eth_route(symbol: str) -> str:
    """An ETH book, its coin and a [[hedges]] route for it on sim-a through ``symbol``."""
    return (
        hedge_route("sim-a", symbol, underlying="ETH")
        + underlying_spec("ETH", 3000, 0.7)
        + balance("sim-a", "ETH", 10.0)
        + perpetual("sim-a", -15000.0, underlying="ETH")
    )


async def test_an_unlisted_route_stops_only_itself(tmp_path: Path) -> None:
    """A route the venue does not list (Deribit's own name instead of ccxt's) is refused at
    start-up, naming it; if it meets a cycle anyway, it is reported alone and BTC still
    hedges (regression: it failed every cycle as 'venue unreadable' and halted)."""
    from bot.engine.routes import check_routes_listed
    from bot.venues.base import StartupError

    async with make_rig(tmp_path, CONFIG + eth_route("ETH-PERPETUAL")) as r:
        with pytest.raises(StartupError, match=r"\[\[hedges\]\]\[1\]\.symbol: 'ETH-PERPETUAL'"):
            await check_routes_listed(r.ctx)
        result = await r.engine.run_cycle()
        assert result.error is None and result.plan is not None
        assert [p for p in result.plan.problems if "ETH-PERPETUAL" in p]
        assert [i.order.symbol for i, _ in result.outcomes] == [PERP]


async def test_a_lost_reply_costs_no_lock_when_another_order_fills(tmp_path: Path) -> None:
    """The venue fills the BTC hedge but its reply is lost while the ETH hedge fills normally:
    the post-trade check first resolves the lost one by lookup and counts its fills, so
    nothing is locked and the BTC order is FILLED, not resent (regression: it locked BTC
    until an operator's resume)."""
    async with make_rig(tmp_path, CONFIG + eth_route("ETH/USD:ETH")) as r:
        r.faults.drop(FaultAction.FILL_THEN_DROP, method="private/sell", mode=DropMode.CLOSE)
        first = await r.engine.run_cycle()
        assert [i.order.symbol for i, _ in first.outcomes] == [PERP, "ETH/USD:ETH"]
        lost = first.outcomes[0][0].order.client_id
        assert r.journal.state.locks() == {}
        assert r.journal.orders.get(lost).state is OrderState.FILLED
        r.clock.advance(5_000)
        second = await r.engine.run_cycle()
        assert second.error is None and second.outcomes == ()
        assert len(r.venue_orders()) == 2


async def test_a_fill_landing_after_not_found_is_booked_alerted_and_corrected(rig: Rig) -> None:
    """An order given up as NOT_FOUND that lands at the venue later: the scheduled recheck
    books it FILLED with an alert, and the next cycle sends the correcting order."""
    import structlog

    rig.faults.drop(FaultAction.DROP_BEFORE_SEEN, method="private/sell", mode=DropMode.CLOSE)
    [(lost, _)] = (await rig.engine.run_cycle()).outcomes
    rig.clock.advance(31_000)
    [(retry, _)] = (await rig.engine.run_cycle()).outcomes  # NOT_FOUND, hedged once more
    assert retry.order.client_id != lost.order.client_id
    assert rig.journal.orders.get(lost.order.client_id).state is OrderState.NOT_FOUND
    late = await rig.venues["sim-a"].create_order(lost.order)  # it lands after all
    assert late.reason.startswith("accepted")
    with structlog.testing.capture_logs() as logs:
        await reconcile_journal(rig.ctx)
    assert rig.journal.orders.get(lost.order.client_id).state is OrderState.FILLED
    assert [e["client_id"] for e in logs if e["event"] == "late_evidence_after_not_found"] == [
        lost.order.client_id
    ]
    rig.clock.advance(5_000)
    [(correction, _)] = (await rig.engine.run_cycle()).outcomes
    assert correction.order.side is not lost.order.side
    assert correction.amount_coin == pytest.approx(lost.amount_coin, rel=0.05)


async def test_frozen_marks_are_stale_by_the_venues_timestamps(rig: Rig) -> None:
    """Marks frozen for longer than max_input_age: no hedge, the gate names the mark, venue
    and age, and /health fails on stale inputs, though every read returned just now."""
    await rig.venues["sim-a"].snapshot([PERP])  # the answer the frozen feed will replay
    rig.faults.set_stale_marks()
    rig.clock.advance(12_000)
    result = await rig.engine.run_cycle()
    assert result.error is None and result.decision is not None
    assert result.outcomes == () and rig.venue_orders() == []
    [denial] = result.decision.denied
    assert denial.reason is DenyReason.STALE_INPUTS
    assert "mark BTC/USD:BTC on sim-a" in denial.detail and "12 s old" in denial.detail
    health = health_of(rig.ctx, LatestRead().after_cycle(result), rig.ctx.clock_ms())
    assert not health.ok and "stale inputs" in health.detail and "BTC/USD:BTC" in health.detail


def metric(rig: Rig, series: str) -> float:
    """The value of one exported series, e.g. ``name{venue="sim-a"}``."""
    body, _ = rig.ctx.metrics.exposition()
    [line] = [x for x in body.decode().splitlines() if x.startswith(series + " ")]
    return float(line.split()[-1])


@pytest.mark.parametrize("venue_ahead_ms", [30_000, -30_000])
async def test_clock_skew_is_alarmed_and_input_ages_stay_right(
    tmp_path: Path, venue_ahead_ms: int
) -> None:
    """The venue's clock 30 s ahead of ours or behind: fresh marks are 0 s old and hedge,
    marks frozen for 12 s are 12 s old; the skew is exported and fails /health."""
    side = "ahead of" if venue_ahead_ms > 0 else "behind"
    async with make_rig(tmp_path, CONFIG, venue_ahead_ms=venue_ahead_ms) as r:
        fresh = await r.engine.run_cycle()
        assert fresh.error is None and fresh.plan is not None and len(fresh.outcomes) == 1
        assert fresh.plan.inputs.age_ms(fresh.plan.valuation_ts_ms) == 0
        health = health_of(r.ctx, LatestRead().after_cycle(fresh), r.ctx.clock_ms())
        assert not health.ok
        [failing] = [c for c in health.components if c.level is Level.FAILING]
        assert failing.name == "venue_clocks"
        assert failing.reason == f"clock skew: sim-a is 30 s {side} ours (±0 s, max 5 s)"
        assert metric(r, 'deltabot_clock_skew_seconds{venue="sim-a"}') == venue_ahead_ms / 1000
        assert metric(r, 'deltabot_input_age_seconds{venue="sim-a"}') == 0.0

        r.faults.set_stale_marks()
        r.clock.advance(12_000)
        frozen = await r.engine.run_cycle()
        assert frozen.plan is not None
        assert (frozen.plan.inputs.name, frozen.plan.inputs.venue) == ("mark BTC/USD:BTC", "sim-a")
        assert frozen.plan.inputs.age_ms(frozen.plan.valuation_ts_ms) == 12_000
        health = health_of(r.ctx, LatestRead().after_cycle(frozen), r.ctx.clock_ms())
        assert "stale inputs: mark BTC/USD:BTC on sim-a is 12 s old" in health.detail
        assert f"clock skew: sim-a is 30 s {side} ours" in health.detail
        assert metric(r, 'deltabot_input_age_seconds{venue="sim-a"}') == 12.0


async def test_a_position_moved_outside_deltabot_is_journaled_hedged_and_locks_when_large(
    rig: Rig,
) -> None:
    """A trade on the account that deltabot did not send is journaled as external and the
    next hedge uses the venue's position; one beyond max_external_change_usd locks BTC."""
    from bot.domain.ids import ClientOrderId, Symbol, VenueId
    from bot.domain.orders import OrderRequest, Side

    await rig.engine.run_cycle()
    venue = rig.venues["sim-a"]

    async def trade_by_hand(label: str, side: Side, usd: float) -> None:
        request = OrderRequest(ClientOrderId(label), VenueId("sim-a"), Symbol(PERP), side, usd)
        assert (await venue.create_order(request)).reason.startswith("accepted")

    await trade_by_hand("manual-1", Side.BUY, 8_000.0)  # 0.13 BTC: beyond the band, not the limit
    rig.clock.advance(5_000)
    second = await rig.engine.run_cycle()
    [change] = rig.journal.external.since(0)
    assert (change.symbol, change.change) == (PERP, 8_000.0)
    assert 7_500 < change.change_usd < 8_500 and rig.journal.state.locks() == {}
    [(correction, _)] = second.outcomes  # the hedge takes the book as the venue shows it
    assert correction.order.side is Side.SELL

    await trade_by_hand("manual-2", Side.SELL, 20_000.0)
    rig.clock.advance(5_000)
    third = await rig.engine.run_cycle()
    assert "moved outside deltabot" in rig.journal.state.locks()["BTC"]
    assert third.outcomes == ()


async def test_a_late_landing_beside_another_fill_locks_nothing(tmp_path: Path) -> None:
    """The BTC hedge reaches the venue only after the client gave up waiting while the ETH
    hedge fills at once: the post-trade check cannot judge BTC yet (unverified, no lock);
    once it lands, the next cycle books it and sends no second BTC order."""
    async with make_rig(tmp_path, CONFIG + eth_route("ETH/USD:ETH")) as r:
        r.venues["sim-a"].client.timeout = 300  # ms: the client gives up long before the venue
        r.faults.set_latency(1_500, method="private/sell")
        first = await r.engine.run_cycle()
        r.faults.set_latency(0)
        assert [i.order.symbol for i, _ in first.outcomes] == [PERP, "ETH/USD:ETH"]
        assert r.journal.state.locks() == {}
        btc = first.outcomes[0][0].order.client_id
        for _ in range(100):  # the delayed BTC sell lands and fills (5 s at most)
            if btc in [o.label for o in r.venue_orders()]:
                break
            await asyncio.sleep(0.05)
        r.clock.advance(5_000)
        second = await r.engine.run_cycle()
        assert r.journal.orders.get(btc).state is OrderState.FILLED
        assert r.journal.state.locks() == {} and r.journal.external.since(0) == ()
        assert PERP not in [i.order.symbol for i, _ in second.outcomes]
        assert [o.label for o in r.venue_orders()].count(btc) == 1


CAPPED = engine_config(caps=risk_caps(1000, 1000, max_consecutive_failures=3, unknown_grace_s=30))


class TestHealthOfAHedgeThatCannotTrade:
    """The issue's case: the hourly cap denies every order while BTC sits far outside its band."""

    async def test_health_fails_naming_the_cap_and_the_band(self, tmp_path: Path) -> None:
        """One order fits the hourly cap, then the gate denies every order: risk_gate fails
        after 2 cycles, band:BTC after 3 not worked, and /health answers 503 naming both."""
        async with make_rig(tmp_path, CAPPED) as r:
            latest = LatestRead()
            for _ in range(4):
                latest = latest.after_cycle(await r.engine.run_cycle())
                r.clock.advance(5_000)
            health = health_of(r.ctx, latest, r.ctx.clock_ms())
            by_name = {c.name: c for c in health.components}
            assert by_name["risk_gate"].level is Level.FAILING
            assert "hourly notional cap" in by_name["risk_gate"].reason
            assert by_name["band:BTC"].level is Level.FAILING
            assert "not worked for 3 cycles" in by_name["band:BTC"].reason
            assert by_name["venues"].level is Level.OK and by_name["locks"].level is Level.OK
            async with (
                run_status_server(r.ctx.metrics, lambda: health, dict) as server,
                aiohttp.ClientSession() as http,
                http.get(f"{server.base_url}/health") as resp,
            ):
                body = await resp.json()
            assert resp.status == 503
            assert "hourly notional cap" in body["detail"] and "band:BTC" in body["detail"]

    async def test_the_first_denied_cycle_only_degrades(self, tmp_path: Path) -> None:
        """After the one order that fit and a single all-denied cycle, nothing fails yet."""
        async with make_rig(tmp_path, CAPPED) as r:
            latest = LatestRead()
            for _ in range(2):
                latest = latest.after_cycle(await r.engine.run_cycle())
                r.clock.advance(5_000)
            health = health_of(r.ctx, latest, r.ctx.clock_ms())
            by_name = {c.name: c.level for c in health.components}
            assert by_name["risk_gate"] is Level.DEGRADED and by_name["band:BTC"] is Level.DEGRADED
            assert health.ok


async def test_a_late_cycle_is_judged_with_wall_grace_scaled_by_the_clock_speed(
    rig: Rig,
) -> None:
    """last_cycle fails past 3 hedge intervals plus 10 wall seconds: at x1440 (the demo) a
    cycle 30 wall seconds late is still ok on the simulated clock, on the wall clock not."""
    latest = LatestRead().after_cycle(await rig.engine.run_cycle())
    interval_s = rig.ctx.config.daemon.hedge_interval_s
    later_ms = rig.ctx.clock_ms() + round((3 * interval_s + 30) * 1000)
    wall = {c.name: c.level for c in health_of(rig.ctx, latest, later_ms).components}
    fast = dataclasses.replace(rig.ctx, clock_speed=1440.0)
    simulated = {c.name: c.level for c in health_of(fast, latest, later_ms).components}
    assert wall["last_cycle"] is Level.FAILING and simulated["last_cycle"] is Level.OK


async def test_each_cycle_logs_one_heartbeat_line(rig: Rig) -> None:
    """The heartbeat names each routed underlying's total delta and band state, the orders
    sent and denied and the duration, at info."""
    with structlog.testing.capture_logs() as logs:
        await rig.engine.run_cycle()
    [beat] = [e for e in logs if e["event"] == "cycle"]
    assert beat["log_level"] == "info"
    assert beat["underlyings"]["BTC"]["band"] == "worked"
    assert beat["underlyings"]["BTC"]["delta_coin"] == pytest.approx(1.0, abs=0.01)
    assert (beat["sent"], beat["denied"]) == (1, 0) and "error" not in beat
    assert beat["duration_s"] >= 0


async def test_status_names_its_clock_and_shows_iso_times(rig: Rig) -> None:
    """/status says which clock its times are on and shows each beside its _ms value."""
    latest = LatestRead().after_cycle(await rig.engine.run_cycle())
    status = status_of(rig.ctx, latest, rig.ctx.clock_ms())
    assert status["clock"] == "wall"
    assert status["now"] == "2026-12-01T08:00:00.000Z"
    last = status["last_cycle"]
    assert isinstance(last, dict) and last["started"] == "2026-12-01T08:00:00.000Z"
    health = status["health"]
    assert isinstance(health, dict) and {"band:BTC", "risk_gate"} <= {
        c["name"] for c in health["components"]
    }
