"""Invariants of the stress grid on random books: monotone P&L, agreement with revalue, margin."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.margin.standard import standard_margin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import revalue
from bot.domain.stress import grid_of, prepare
from bot.domain.stress.kernel import state_vol
from tests.property.random_books import T0_MS, F, book_rows, book_table

MOVES = np.linspace(-0.6, 0.6, 13)

row = book_rows(venues=2)


def _table(rows: list[tuple[Any, ...]]) -> PositionTable:
    return book_table(rows, venues=("a", "b"))


linear_row = st.tuples(
    st.sampled_from([KindCode.PERPETUAL, KindCode.FUTURE]),
    st.booleans(),
    st.just(False),
    st.floats(0.0, 20.0),  # long only
    st.just(1.0),
    st.integers(1, 200),
    st.just(0.5),
    st.integers(0, 1),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(linear_row, min_size=1, max_size=10), st.floats(0.0, 30.0), st.floats(0.0, 30.0))
def test_pnl_is_monotone_in_price_for_a_long_linear_book(
    rows: list[tuple[Any, ...]], eq_a: float, eq_b: float
) -> None:
    """Long futures/perps with coin equity >= 0: total P&L never falls as the price rises."""
    book = prepare(_table(rows), forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=[[eq_a], [eq_b]])
    grid = grid_of(book, MOVES, (0.0, 0.5), vol_relative=True)
    steps = np.diff(grid.pnl_usd, axis=0)
    assert (steps >= -1e-7 * (1.0 + np.abs(grid.pnl_usd[1:]))).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(row, min_size=1, max_size=12),
    st.floats(0.0, 50.0),
    st.floats(0.0, 50.0),
    st.integers(0, len(MOVES) - 1),
    st.sampled_from([-0.5, 0.0, 0.7]),
)
def test_grid_cell_equals_revalue_and_standard_margin_at_that_cell(
    rows: list[tuple[Any, ...]], eq_a: float, eq_b: float, i: int, rel: float
) -> None:
    """Any cell: venue P&L = revalue's equity change; MM = standard_margin at the moved state."""
    table = _table(rows)
    equity = [[eq_a], [eq_b]]
    book = prepare(table, forward_usd=F, valuation_ts_ms=T0_MS, equity_coin=equity)
    grid = grid_of(book, MOVES, (rel,), vol_relative=True)
    mult = 1.0 + MOVES[i]
    rv = revalue(
        table,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        price_mult=mult,
        vol_shift_rel=rel,
        vol_floor=0.01,
        equity_coin=equity,
    )
    scale = 1.0 + np.abs(rv.venue_equity_usd[0]).max() + eq_a * F + eq_b * F
    assert np.allclose(grid.venue_pnl_usd[i, 0], rv.venue_equity_usd[0], atol=1e-9 * scale)
    vol = state_vol(book, np.zeros((1, 1)), np.full((1, 1), rel))[0]
    sm = standard_margin(table, forward_usd=F * mult, valuation_ts_ms=T0_MS, vol=vol)
    mm = sm.maintenance_coin[:, 0] * F * mult + sm.maintenance_usd[:, 0]
    assert np.allclose(grid.maintenance_usd[i, 0], mm, rtol=1e-9, atol=1e-6)
