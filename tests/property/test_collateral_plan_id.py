"""The plan id hashes the same text as ``repr`` of its nested input tuples (journaled ids)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.collateral import AccountKey, CollateralSnapshot, Route
from bot.domain.collateral.model import DEFAULT_SETTINGS, OptimizerSettings
from bot.domain.collateral.optimizer import _plan_id
from bot.domain.collateral.plan import plan_id
from bot.domain.ids import Currency
from tests.property.test_collateral_properties import snapshots


def _former_plan_id(snapshot: CollateralSnapshot, opts: OptimizerSettings) -> str:
    """The plan id as first written: ``repr`` of the nested tuples, routes sorted as tuples."""

    def amounts(values: Mapping[Currency, float]) -> tuple[tuple[str, float], ...]:
        return tuple(sorted(values.items()))

    accounts = sorted(
        (
            str(a.account),
            a.equity_usd,
            a.initial_margin_usd,
            a.maintenance_margin_usd,
            (a.band.floor, a.band.target, a.band.ceiling),
            amounts(a.free_coin),
            amounts(a.haircut_frac),
            amounts(a.idle_cost_frac_per_year),
        )
        for a in snapshot.accounts
    )
    routes = sorted(
        (tuple(map(str, r.sort_key)), r.fee_coin, r.min_coin, r.delay_ms) for r in snapshot.routes
    )
    trust = [(v, astuple(t)) for v, t in snapshot.trust.items()]
    moving = sorted((str(t.destination), t.asset, t.amount_coin) for t in snapshot.in_flight)
    parts = (
        snapshot.ts_ms,
        amounts(snapshot.prices_usd),
        accounts,
        trust,
        routes,
        moving,
        astuple(opts),
    )
    return plan_id(repr(parts))


FIGURES = st.sampled_from([0.0, -0.0, 1, 1.0, 0.1, 1e-300, 2.5e6])
ADDRESSES = st.sampled_from(["addr", "x'y", 'q"uote', "back\\slash", "new\nline", "é"])


@st.composite
def odd_snapshots(draw: st.DrawFn) -> CollateralSnapshot:
    """A snapshot with extra routes whose keys repeat and whose figures are equal but are
    written differently (``0.0``/``-0.0``, ``1``/``1.0``), in any order."""
    snap = draw(snapshots())
    keys = [a.account for a in snap.accounts]
    extra = []
    for _ in range(draw(st.integers(0, 8))):
        src, dst = draw(st.sampled_from([(a, b) for a in keys for b in keys if a.venue != b.venue]))
        extra.append(
            Route(
                AccountKey(src.venue, src.sub_account),
                dst,
                Currency(draw(st.sampled_from(["BTC", "USDC"]))),
                fee_coin=draw(FIGURES),
                min_coin=draw(FIGURES),
                delay_ms=draw(st.sampled_from([0, 600_000])),
                address=draw(ADDRESSES),
                network=draw(st.sampled_from([None, "arb"])),
            )
        )
    routes = draw(st.permutations([*snap.routes, *extra]))
    return replace(snap, routes=tuple(routes))


@settings(max_examples=100, deadline=None)
@given(odd_snapshots())
def test_plan_id_is_the_hash_of_the_former_text(snap: CollateralSnapshot) -> None:
    """The plan id written route by route equals the id of ``repr`` of the nested tuples."""
    assert _plan_id(snap, DEFAULT_SETTINGS) == _former_plan_id(snap, DEFAULT_SETTINGS)
