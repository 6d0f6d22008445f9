"""Vectorised value_book equals a slow per-position Python reference on random books."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.exposure import Exposure, value_book
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY, MS_PER_YEAR
from bot.pricing import black76

T0_MS = 1_700_000_000_000
BASE_USD = (60_000.0, 3_000.0)
GREEKS = ("delta_coin", "gamma_coin_per_pct", "vega_usd_per_volpt", "theta_usd_per_day")


@dataclass(frozen=True)
class Row:
    underlying: int
    kind: KindCode
    inverse: bool
    is_call: bool
    size: float
    strike_usd: float
    expiry_ms: int
    iv: float
    forward_usd: float

    @property
    def amount_is_usd(self) -> bool:
        return self.inverse and self.kind in (KindCode.FUTURE, KindCode.PERPETUAL)


@st.composite
def rows(draw: st.DrawFn) -> Row:
    u = draw(st.integers(0, 1))
    kind = draw(st.sampled_from(list(KindCode)))
    inverse = kind != KindCode.SPOT and draw(st.booleans())
    usd_amount = inverse and kind in (KindCode.FUTURE, KindCode.PERPETUAL)
    magnitude = 1e6 if usd_amount else 100.0
    size = draw(st.one_of(st.just(0.0), st.floats(-magnitude, magnitude)))
    dated = kind in (KindCode.OPTION, KindCode.FUTURE)
    # Few distinct expiries so buckets merge; -2 and 0 days are expired.
    days = draw(st.sampled_from([-2, 0, 1, 7, 30, 91])) if dated else None
    return Row(
        underlying=u,
        kind=kind,
        inverse=inverse,
        is_call=kind == KindCode.OPTION and draw(st.booleans()),
        size=size,
        strike_usd=BASE_USD[u] * draw(st.floats(0.5, 2.0)) if kind == KindCode.OPTION else np.nan,
        expiry_ms=NO_EXPIRY_MS if days is None else T0_MS + days * MS_PER_DAY,
        iv=draw(st.floats(0.1, 1.5)),
        forward_usd=BASE_USD[u] * draw(st.floats(0.8, 1.2)),
    )


def _table(book: list[Row]) -> PositionTable:
    col = {name: [getattr(r, name) for r in book] for name in Row.__dataclass_fields__}
    return PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        underlying_idx=np.array(col["underlying"], dtype=np.int64),
        kind=np.array(col["kind"], dtype=np.int8),
        size=np.array(col["size"], dtype=np.float64),
        is_inverse=np.array(col["inverse"], dtype=bool),
        amount_is_usd=np.array([r.amount_is_usd for r in book], dtype=bool),
        is_call=np.array(col["is_call"], dtype=bool),
        strike_usd=np.array(col["strike_usd"], dtype=np.float64),
        expiry_ms=np.array(col["expiry_ms"], dtype=np.int64),
        mark_iv=np.array(col["iv"], dtype=np.float64),
        index_usd=BASE_USD,
    )


def _reference(book: list[Row], numeraire: str, collateral: list[float]) -> dict[str, Any]:
    """One position at a time, straight from the module docstring's formulas."""
    legs: dict[str, list[list[float]]] = {
        leg: [[0.0] * 2 for _ in GREEKS] for leg in ("opt", "hdg")
    }
    buckets: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    expired = [0, 0]
    for r in book:
        if r.size == 0:
            continue
        if r.kind in (KindCode.OPTION, KindCode.FUTURE) and r.expiry_ms <= T0_MS:
            expired[r.underlying] += 1
            continue
        f = r.forward_usd
        if r.kind == KindCode.OPTION:
            tau = (r.expiry_ms - T0_MS) / MS_PER_YEAR
            g = black76(r.is_call, f, r.strike_usd, tau, r.iv)
            premium_coin = float(g.price) / f if r.inverse else 0.0
            delta = r.size * (float(g.delta) - premium_coin)
            gamma = 0.01 * f * r.size * float(g.gamma)
            vega, theta = r.size * float(g.vega) * 0.01, r.size * float(g.theta) / 365
            leg = "opt"
        else:
            delta = r.size / f if r.amount_is_usd else r.size
            gamma, vega, theta, leg = 0.0, 0.0, 0.0, "hdg"
        if numeraire == "coin" and r.inverse:
            gamma -= 0.01 * delta
        for i, x in enumerate((delta, gamma, vega, theta)):
            legs[leg][i][r.underlying] += x
        bucket = buckets[(r.underlying, r.expiry_ms)]
        bucket[0] += gamma
        bucket[1] += vega
    return {"legs": legs, "buckets": dict(buckets), "expired": expired, "collateral": collateral}


def _close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-7)


def _check(e: Exposure, ref: dict[str, Any], numeraire: str) -> None:
    for leg, totals in (("opt", e.options), ("hdg", e.hedges)):
        for i, name in enumerate(GREEKS):
            _close(getattr(totals, name), ref["legs"][leg][i])
    counted = np.asarray(ref["collateral"]) if numeraire == "usd" else np.zeros(2)
    delta = np.add(ref["legs"]["opt"][0], ref["legs"]["hdg"][0]) + counted
    _close(e.delta_coin, delta)
    _close(e.delta_usd, delta * BASE_USD)
    assert e.n_expired.tolist() == ref["expired"]
    keys = sorted(ref["buckets"])
    assert (
        list(zip(e.buckets.underlying_idx.tolist(), e.buckets.expiry_ms.tolist(), strict=True))
        == keys
    )
    _close(e.buckets.gamma_coin_per_pct, [ref["buckets"][k][0] for k in keys])
    _close(e.buckets.vega_usd_per_volpt, [ref["buckets"][k][1] for k in keys])


@given(
    book=st.lists(rows(), max_size=25),
    numeraire=st.sampled_from(["usd", "coin"]),
    collateral=st.lists(st.floats(-50, 50), min_size=2, max_size=2),
)
def test_matches_per_position_reference(
    book: list[Row], numeraire: str, collateral: list[float]
) -> None:
    """Per-underlying totals, option/hedge legs, expiry buckets and expired counts match."""
    e = value_book(
        _table(book),
        forward_usd=np.array([r.forward_usd for r in book]),
        valuation_ts_ms=T0_MS,
        numeraire=numeraire,
        collateral_coin=collateral,
    ).exposure
    _check(e, _reference(book, numeraire, collateral), numeraire)


@given(book=st.lists(rows(), max_size=25), numeraire=st.sampled_from(["usd", "coin"]))
def test_buckets_sum_to_totals(book: list[Row], numeraire: str) -> None:
    """Summing the expiry buckets per underlying gives the total gamma and vega."""
    e = value_book(
        _table(book),
        forward_usd=np.array([r.forward_usd for r in book]),
        valuation_ts_ms=T0_MS,
        numeraire=numeraire,
        collateral_coin=[0.0, 0.0],
    ).exposure
    b = e.buckets
    for name in ("gamma_coin_per_pct", "vega_usd_per_volpt"):
        per_underlying = np.bincount(b.underlying_idx, weights=getattr(b, name), minlength=2)
        _close(per_underlying, getattr(e, name))
