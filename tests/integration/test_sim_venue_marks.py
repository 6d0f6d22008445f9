"""One simulated world, two exchanges: the Deribit and Binance emulators read through unmodified
ccxt quote the same index and each its own perpetual mark and funding."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.factory import Runtime, build_venues
from tests.sim_configs import START_MS, load, market, quiet, sim, venue

CONFIG = sim(
    venue("opts"),
    venue("hedge", "binanceusdm", roles=("hedge",)),
    quiet(),
    market(0.5, perp_basis_frac="{{ opts = 0.0004 }}"),
)


async def test_both_emulators_share_the_index_and_mark_and_fund_their_own_perps(
    tmp_path: Path,
) -> None:
    """Deribit's BTC-PERPETUAL (basis +0.04% from the config) and Binance's BTCUSDT (its
    dialect's -0.03%) show one index; each marks at index x (1 + 0.08% + basis) and pays its
    own venue's funding on that premium."""
    config = load(tmp_path, CONFIG)
    clock = ManualClock(START_MS)
    world = build_sim_world(config, clock=clock)
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        deribit, binance = venues["opts"], venues["hedge"]
        assert isinstance(deribit, CcxtVenue) and isinstance(binance, CcxtVenue)
        try:
            ticker = await deribit.client.publicGetTicker({"instrument_name": "BTC-PERPETUAL"})
            premium = await binance.client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
        finally:
            for venue in venues.values():
                await venue.close()
    d = ticker["result"]
    index = float(premium["indexPrice"])
    assert d["index_price"] == pytest.approx(index, rel=1e-9)
    assert d["mark_price"] == pytest.approx(index * (1 + 0.0008 + 0.0004), rel=1e-6)
    assert float(premium["markPrice"]) == pytest.approx(index * (1 + 0.0008 - 0.0003), rel=1e-6)
    # Deribit: the 0.12% premium beyond its ±0.05% band; Binance: 0.05% + clamp(0.01% - 0.05%).
    assert d["funding_8h"] == pytest.approx(0.0007)
    assert float(premium["lastFundingRate"]) == pytest.approx(0.0001)
