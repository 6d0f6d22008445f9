"""The plan id: the same routes give the same id and plan in any order and however their
figures are written; any change to a route's fields gives another id."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.domain.collateral import AccountKey, CollateralSnapshot, Route, optimize
from bot.domain.collateral.frame import build_frame
from bot.domain.collateral.model import DEFAULT_SETTINGS
from bot.domain.collateral.optimizer import _plan_id
from bot.domain.ids import Currency
from tests.property.test_collateral_properties import snapshots

FIGURES = st.sampled_from([0.0, -0.0, 1, 1.0, 0.1, 1e-300, 2.5e6])
ADDRESSES = st.sampled_from(["addr", "x'y", 'q"uote', "back\\slash", "new\nline", "é"])


@st.composite
def odd_snapshots(draw: st.DrawFn) -> CollateralSnapshot:
    """A snapshot with extra routes whose keys repeat and whose figures are equal but are
    written differently (``0.0``/``-0.0``, ``1``/``1.0``)."""
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
    return replace(snap, routes=(*snap.routes, *extra))


def _id(snap: CollateralSnapshot) -> str:
    return _plan_id(build_frame(snap, DEFAULT_SETTINGS), DEFAULT_SETTINGS)


def _rewritten(route: Route) -> Route:
    """The same route, its figures written as floats with no negative zero."""
    return replace(
        route, fee_coin=float(route.fee_coin) + 0.0, min_coin=float(route.min_coin) + 0.0
    )


@settings(max_examples=40, deadline=None)
@given(odd_snapshots(), st.randoms(use_true_random=False))
def test_same_routes_in_any_order_give_the_same_id_and_plan(
    snap: CollateralSnapshot, rnd: random.Random
) -> None:
    """Routes permuted, repeated keys included, and figures rewritten: the same id and plan."""
    routes = [_rewritten(r) for r in snap.routes]
    rnd.shuffle(routes)
    other = replace(snap, routes=tuple(routes))
    assert _id(other) == _id(snap)
    assert optimize(other) == optimize(snap)


@settings(max_examples=60, deadline=None)
@given(odd_snapshots(), st.data())
def test_any_route_field_changed_changes_the_id(
    snap: CollateralSnapshot, data: st.DataObject
) -> None:
    """A route's fee, minimum, delay, address or network changed, or a route added: another id."""
    assume(snap.routes)
    k = data.draw(st.integers(0, len(snap.routes) - 1))
    route = snap.routes[k]
    changed = data.draw(
        st.sampled_from(
            [
                replace(route, fee_coin=route.fee_coin + 1e-9),
                replace(route, min_coin=route.min_coin * 2 + 1e-9),
                replace(route, delay_ms=route.delay_ms + 1),
                replace(route, address=f"{route.address}!"),
                replace(route, network=f"{route.network or ''}x"),
            ]
        )
    )
    routes = list(snap.routes)
    routes[k] = changed
    assert _id(replace(snap, routes=tuple(routes))) != _id(snap)
    assert _id(replace(snap, routes=(*snap.routes, changed))) != _id(snap)
