"""The plan id hashes the same text as ``repr`` of its nested input tuples (journaled ids)."""

from __future__ import annotations

import ast
from dataclasses import replace
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.collateral import AccountKey, CollateralSnapshot, Route, optimizer
from bot.domain.collateral.model import DEFAULT_SETTINGS
from bot.domain.collateral.optimizer import _plan_id, _routes_repr
from bot.domain.ids import Currency
from tests.property.test_collateral_properties import snapshots


def _former_routes(snapshot: CollateralSnapshot) -> str:
    """The route list's text as first written: ``repr`` of the nested tuples, sorted."""
    routes = sorted(
        (tuple(map(str, r.sort_key)), r.fee_coin, r.min_coin, r.delay_ms) for r in snapshot.routes
    )
    return repr(routes)


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
def test_route_list_text_is_the_former_repr(snap: CollateralSnapshot) -> None:
    """The route list written route by route is ``repr`` of the sorted nested tuples."""
    assert _routes_repr(snap) == _former_routes(snap)


@settings(max_examples=30, deadline=None)
@given(odd_snapshots())
def test_plan_id_hashes_the_repr_of_its_parts(snap: CollateralSnapshot) -> None:
    """The plan id hashes ``repr`` of a 7-tuple of its parts, the route list fifth."""
    texts: list[str] = []
    with patch.object(optimizer, "plan_id", side_effect=lambda text: texts.append(text) or ""):
        _plan_id(snap, DEFAULT_SETTINGS)
    [text] = texts
    parts = ast.literal_eval(text)
    assert repr(parts) == text and len(parts) == 7
    assert repr(parts[4]) == _former_routes(snap)
