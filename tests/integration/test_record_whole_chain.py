"""The recorder against the emulator on loopback: the hedge perp's funding rate from the venue,
and with ``whole_chain`` every listed option of the underlying, enough to fit a smile."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pytest

from bot.app.recording import with_recording
from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.backtest.chain_data import ChainLeg, HedgeSource, load_market
from bot.chain import ChainStore, Partition
from bot.clock import ManualClock
from bot.config.record import RecordConfig
from bot.domain.ids import Symbol
from bot.domain.pnl import utc_day
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.timeunits import MS_PER_DAY, MS_PER_MINUTE
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.cycle_result import CycleResult
from bot.venues.factory import Runtime, build_venues
from tests.sim_configs import START_MS, load, market, quiet, sim, venue

PERP = Symbol("BTC/USD:BTC")
DERIBIT_BTC = Partition("deribit", "BTC")

CONFIG = sim(
    venue("deribit"), quiet("{tmp}/j.sqlite"), market(0.5, perp_basis_frac="{{ deribit = 0.0004 }}")
)


def _rows(store: ChainStore, table: str) -> pa.Table:
    return pa.concat_tables(store.read(table, DERIBIT_BTC))


async def _record(
    tmp: Path, *, whole_chain: bool, advances_ms: tuple[int, ...] = (MS_PER_MINUTE,)
) -> tuple[ChainStore, dict[str, float]]:
    """Record a poll of the perp through the daemon's hook, then one more after each of
    ``advances_ms``; the store and the emulator's published BTC delivery prices by day."""
    config = load(tmp, CONFIG, tmp=tmp)
    clock = ManualClock(START_MS)
    world = build_sim_world(config, clock=clock)
    record = RecordConfig(
        enabled=True, store=tmp / "store", whole_chain=whole_chain, whole_chain_interval_s=60
    )
    async with serve_sim_world(world) as (endpoints, running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        async with AsyncExitStack() as stack:
            for venue in venues.values():
                stack.push_async_callback(venue.close)
            hook = with_recording(record, stack, None, venues=venues, clock_ms=clock.now_ms)
            assert hook is not None
            for advance_ms in (0, *advances_ms):
                clock.advance(advance_ms)
                snap = await venues["deribit"].snapshot(watch=[PERP])
                portfolio = PortfolioSnapshot(snap.ts_ms, (snap,))
                hook(
                    CycleResult(snap.ts_ms, portfolio, None, None, (), None, INITIAL_STATE, {}, 0.0)
                )
                await _venue_reads()
        published = running["deribit"].exchange.delivery_prices("btc_usd", 0, 10).data
    return ChainStore(tmp / "store"), {d.date: d.delivery_price for d in published}


async def _venue_reads() -> None:
    """Wait for the hook's venue reads under way, if any."""
    for task in asyncio.all_tasks():
        if task.get_name() == "record_venue_reads":
            await task


async def test_the_perp_row_keeps_the_emulator_funding_rate(tmp_path: Path) -> None:
    """The perp's hedges rows carry the funding rate Deribit's book summary publishes
    (funding_8h: the 0.12% premium beyond the 0.05% band, 0.07%)."""
    store, _ = await _record(tmp_path, whole_chain=False)
    hedges = _rows(store, "hedges")
    assert hedges.column("funding_rate").to_pylist() == [pytest.approx(0.0007)] * 2
    assert store.partitions("options") == [], "no option is held: none is recorded"


async def test_whole_chain_records_every_listed_option_once_per_read(tmp_path: Path) -> None:
    """With whole_chain, each read adds every listed BTC option (one row per option and read
    time, none twice), with mark IVs: enough for --mark svi to fit each expiry's smile."""
    store, _ = await _record(tmp_path, whole_chain=True)
    options = _rows(store, "options")
    pairs = list(
        zip(
            options.column("ts_ms").to_pylist(),
            options.column("instrument").to_pylist(),
            strict=True,
        )
    )
    assert len(pairs) == len(set(pairs)), "an option recorded twice at one time"
    names = set(options.column("instrument").to_pylist())
    assert len(names) > 20 and len(set(options.column("ts_ms").to_pylist())) == 2
    ivs = options.column("mark_iv").to_numpy()
    assert np.all(np.isfinite(ivs) & (ivs > 0))
    call = options.filter(pa.compute.equal(options.column("option_type"), "call")).slice(0, 1)
    leg = ChainLeg(
        "deribit",
        "BTC",
        "call",
        float(call.column("strike_usd")[0].as_py()),
        int(call.column("expiry_ms")[0].as_py()),
        -1.0,
    )
    hedge = [HedgeSource("BTC", "deribit", str(PERP))]
    marked = load_market(store, [leg], hedge, mark="mark")
    fitted = load_market(store, [leg], hedge, mark="svi")
    assert np.all(np.isfinite(fitted.premium_usd))
    assert not np.array_equal(fitted.iv, marked.iv), "the smile's vol, not the mark's"
    assert np.allclose(fitted.iv, marked.iv, atol=0.05)


async def test_a_passed_expiry_records_the_venue_delivery_price(tmp_path: Path) -> None:
    """Once a recorded expiry has passed, the next read records the emulator's delivery
    price of that day in settlements, stamped at the expiry; later expiries get none."""
    store, deliveries = await _record(
        tmp_path, whole_chain=True, advances_ms=(3 * MS_PER_DAY + MS_PER_MINUTE,)
    )
    first = min(_rows(store, "options").column("expiry_ms").to_pylist())
    settlements = _rows(store, "settlements")
    assert settlements.column("ts_ms").to_pylist() == [first]
    assert settlements.column("delivery_usd").to_pylist() == [deliveries[utc_day(first)]]
