"""Shadow paper margin: a paper venue over the emulator's public endpoints reports the
``[margin]`` model's IM and MM of its declared options book, which status and the margin job
show."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.app.daemon import paper_settings
from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import load_config
from bot.domain.instruments import InstrumentKind, OptionType
from bot.domain.margin import standard_margin
from bot.domain.position_table import PositionTable
from bot.domain.snapshot import PortfolioSnapshot, VenueSnapshot
from bot.engine.margin_job import analyse
from bot.engine.status import margin_rows
from bot.venues.factory import Runtime, build_venues
from tests.sim_configs import START_MS, hedge_route, load, market, quiet, sim, venue

SIM = sim(venue("deribit"), quiet("{tmp}/sim.sqlite"), market(0.5))

PAPER = (
    'mode = "paper"\n'
    + venue("deribit")
    + 'api_url = "{url}"\n'
    + hedge_route("deribit")
    + quiet("{tmp}/paper.sqlite")
    + '[[paper.cash]]\nvenue = "deribit"\ncurrency = "BTC"\namount = 2.0\n'
)
"""The paper venue over the emulator at ``{url}``, hedging on its perp, with 2 BTC of cash."""

BOOK = """
[[paper.book]]
venue = "deribit"
symbol = "{symbol}"
size = -5.0
"""


async def _paper_read(tmp: Path, url: str, clock: ManualClock) -> VenueSnapshot:
    """The paper venue's read of a declared book: 5 short BTC calls struck nearest 60,000."""
    lister = tmp / "list.toml"
    lister.write_text(PAPER.format(url=url, tmp=tmp))
    runtime = Runtime(clock_ms=clock.now_ms)
    (public,) = build_venues(load_config(lister, {}), {}, runtime).values()
    try:
        listed = await public.load_instruments()
    finally:
        await public.close()
    calls = [
        i
        for i in listed.values()
        if i.kind is InstrumentKind.OPTION and i.option_type is OptionType.CALL
    ]
    last = max(i.expiry_ms or 0 for i in calls)
    call = min(
        (i for i in calls if i.expiry_ms == last), key=lambda i: abs((i.strike_usd or 0) - 60000)
    )
    path = tmp / "paper.toml"
    path.write_text(PAPER.format(url=url, tmp=tmp) + BOOK.format(symbol=call.symbol))
    config = load_config(path, {})
    (venue,) = build_venues(config, {}, runtime, paper=paper_settings(config)).values()
    try:
        return await venue.snapshot()
    finally:
        await venue.close()


async def test_paper_book_reports_the_standard_model_margin(tmp_path: Path) -> None:
    """The BTC balance's IM and MM are the standard model's on the read's positions and
    marks, non-zero; status shows them and the margin job measures liquidation against them."""
    clock = ManualClock(START_MS)
    emulator = build_sim_world(load(tmp_path, SIM, tmp=tmp_path), clock=clock)
    async with serve_sim_world(emulator) as (endpoints, _running):
        read = await _paper_read(tmp_path, endpoints["deribit"].base_url, clock)
    model = standard_margin(
        PositionTable.from_snapshots([read]),
        forward_usd=PositionTable.from_snapshots([read]).forward_usd(),
        valuation_ts_ms=read.ts_ms,
    )
    (btc,) = read.balances
    assert btc.initial_margin > 0 and btc.maintenance_margin > 0
    assert btc.initial_margin == pytest.approx(float(model.initial_coin.sum()), rel=1e-12)
    assert btc.maintenance_margin == pytest.approx(float(model.maintenance_coin.sum()), rel=1e-12)
    assert btc.available == pytest.approx(btc.equity - btc.initial_margin)
    (row,) = margin_rows(PortfolioSnapshot(read.ts_ms, (read,)))["deribit"]
    assert row["maintenance_margin"] == btc.maintenance_margin
    config = load_config(tmp_path / "paper.toml", {})
    view = analyse(PortfolioSnapshot(read.ts_ms, (read,)), config, {})
    assert view.distance is not None and view.drift == ()
    assert view.distance.maintenance_usd[0] == pytest.approx(
        btc.maintenance_margin * float(model.index_usd[0]), rel=1e-9
    )
    assert math.isfinite(view.distance.up_frac[0])
