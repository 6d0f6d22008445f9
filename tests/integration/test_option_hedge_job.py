"""The option-hedge job on the emulator: a short-vega book past its hard limit gets a
proposal from the venue's real chain (through ccxt), journaled PROPOSED with Greeks before and
after; a live proposal is not doubled; an overdue one expires."""

from __future__ import annotations

from pathlib import Path

import structlog

from bot.engine.context import LatestRead
from bot.engine.option_hedge_job import execute_approved, propose_option_hedges
from bot.engine.status import status_of
from bot.journal import ProposalState
from tests.integration.test_engine import CONFIG, make_rig

SHORT_VEGA = """
[[sim.book]]
venue = "sim-a"
underlying = "BTC"
kind = "option"
settlement = "inverse"
option_type = "call"
strike_usd = 60000.0
expiry = 2026-12-25T08:00:00Z
size = -20.0
[greek_limits]
[[greek_limits.limits]]
underlying = "BTC"
bucket = "all"
soft_vega_usd_per_volpt = 800.0
hard_vega_usd_per_volpt = 1000.0
[options_hedge]
enabled = true
expiry_s = 60
min_open_interest_coin = 0
max_spread_frac = 0.5
"""


async def test_a_hard_breach_is_proposed_once_and_expires(tmp_path: Path) -> None:
    """Short 20 calls (about -1,500 USD/volpt standardised) past the 1,000 limit: the proposal
    buys options, its rows end inside the 800 aim, and a second look adds none."""
    async with make_rig(tmp_path, CONFIG + SHORT_VEGA) as rig:
        latest = LatestRead().after_cycle(await rig.engine.run_cycle())
        (pid,) = await propose_option_hedges(rig.ctx, latest)
        record = rig.journal.option_proposals.get(pid)
        assert record.state is ProposalState.PROPOSED and record.underlying == "BTC"
        (row,) = record.document["rows"]
        assert row["before"] < -1000.0 and abs(row["after"]) <= 800.0 + 1e-6
        assert record.document["legs"] and all(
            leg["amount_coin"] > 0 for leg in record.document["legs"]
        )
        assert await propose_option_hedges(rig.ctx, latest) == ()
        rig.clock.advance(61_000)
        rig.journal.option_proposals.expire(rig.ctx.clock_ms())
        assert rig.journal.option_proposals.get(pid).state is ProposalState.EXPIRED


async def test_an_approved_proposal_is_executed_through_ccxt_and_vega_comes_back_inside(
    tmp_path: Path,
) -> None:
    """Breach -> proposal -> approval -> IOC orders journal-first through ccxt: the next cycle
    finds the vega inside the hard limit and re-hedges the options' delta with the perp."""
    text = CONFIG.replace("amount = 2.0", "amount = 50.0") + SHORT_VEGA + "iv_tolerance_volpt = 5\n"
    async with make_rig(tmp_path, text) as rig:
        latest = LatestRead().after_cycle(await rig.engine.run_cycle())
        (pid,) = await propose_option_hedges(rig.ctx, latest)
        rig.journal.option_proposals.approve(pid, rig.ctx.clock_ms())
        assert await execute_approved(rig.ctx, latest) == (pid,)
        assert rig.journal.option_proposals.get(pid).state is ProposalState.EXECUTED
        orders = [
            r for r, _, _ in rig.journal.orders.since(0) if r.request.client_id.startswith(pid)
        ]
        assert orders and all(r.state.value == "filled" for r in orders)
        perp_before = rig.perp_usd()
        rig.clock.advance(1_000)
        after = LatestRead().after_cycle(await rig.engine.run_cycle())
        status = status_of(rig.ctx, after, rig.ctx.clock_ms())
    (row,) = [r for r in status["greek_buckets"] if r["bucket"] == "all"]  # type: ignore[attr-defined]
    assert abs(row["vega_std_usd_per_volpt"]) <= 1000.0 and row["limit"] != "hard"
    assert rig.perp_usd() != perp_before, "the bought calls' delta was hedged with the perp"


async def test_an_infeasible_breach_is_journaled_with_why_once(tmp_path: Path) -> None:
    """Position caps of 0.1 coin cannot mend the breach: the journal holds one INFEASIBLE
    record saying by how much the whitelist falls short, not one per look."""
    text = CONFIG + SHORT_VEGA + "max_position_coin = 0.1\nn_expiries = 1\nmax_abs_delta = 0.2\n"
    async with make_rig(tmp_path, text) as rig:
        latest = LatestRead().after_cycle(await rig.engine.run_cycle())
        assert await propose_option_hedges(rig.ctx, latest) == ()
        rig.clock.advance(1_000)
        assert await propose_option_hedges(rig.ctx, latest) == ()
        (record,) = rig.journal.option_proposals.recent()
    assert record.state is ProposalState.INFEASIBLE
    (why,) = record.document["why"]
    assert why.startswith("BTC all standardised vega USD/volpt -")
    assert "moves it by at most" in why or "no whitelisted option moves it" in why


async def test_a_short_vega_book_past_its_hard_limit_shows_in_status_and_health(
    tmp_path: Path,
) -> None:
    """The standardised vega per bucket is in /status with the limit's level, and greeks:BTC
    degrades saying an option hedge is due."""
    async with make_rig(tmp_path, CONFIG + SHORT_VEGA) as rig:
        latest = LatestRead().after_cycle(await rig.engine.run_cycle())
        status = status_of(rig.ctx, latest, rig.ctx.clock_ms())
    rows = {r["bucket"]: r for r in status["greek_buckets"]}  # type: ignore[attr-defined]
    assert set(rows) == {"7-30d", "undated", "all"}
    assert rows["all"]["vega_std_usd_per_volpt"] < -1000.0 and rows["all"]["limit"] == "hard"
    health = status["health"]
    assert isinstance(health, dict)
    greeks = next(c for c in health["components"] if c["name"] == "greeks:BTC")
    assert greeks["level"] == "degraded" and greeks["reason"].startswith("option hedge due: all")


async def test_an_approved_proposal_above_the_premium_cap_is_not_sent(tmp_path: Path) -> None:
    """The risk gate's per-order premium cap of 1 USD denies every leg: nothing is journaled or
    sent and the proposal stays approved until it expires."""
    text = CONFIG.replace("amount = 2.0", "amount = 50.0").replace(
        "[risk]\n", "[risk]\nmax_order_premium_usd = 1.0\nmax_daily_premium_usd = 1.0\n"
    )
    async with make_rig(tmp_path, text + SHORT_VEGA) as rig:
        latest = LatestRead().after_cycle(await rig.engine.run_cycle())
        (pid,) = await propose_option_hedges(rig.ctx, latest)
        rig.journal.option_proposals.approve(pid, rig.ctx.clock_ms())
        with structlog.testing.capture_logs() as logs:
            assert await execute_approved(rig.ctx, latest) == ()
        denials = [e for e in logs if e["event"] == "order_denied"]
        assert denials and {e["reason"] for e in denials} == {"order premium cap"}
        assert all(e["detail"].endswith("USD > 1.00 USD") for e in denials)
        assert rig.journal.option_proposals.get(pid).state is ProposalState.APPROVED
        assert not [
            r for r, _, _ in rig.journal.orders.since(0) if r.request.client_id.startswith(pid)
        ]
