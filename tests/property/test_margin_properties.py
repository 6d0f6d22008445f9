"""Invariants of revaluation, margin and liquidation distance on random books."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.margin.linear import BINANCE_BTCUSDT_2021, TierTable, tiered_margin
from bot.domain.margin.liquidation import LiquidationParams
from bot.domain.margin.standard import standard_margin
from bot.domain.position_table import KindCode
from bot.domain.revalue import revalue
from bot.domain.stress.liquidation import liquidation_distance
from tests.property.random_books import T0_MS, F, book_rows, book_table

row = book_rows()
_table = book_table


@settings(max_examples=40, deadline=None)
@given(st.lists(row, min_size=1, max_size=12), st.floats(0.0, 50.0))
def test_zero_move_is_zero_change(rows: list[tuple[Any, ...]], equity: float) -> None:
    """Multiplier 1 and no vol shift revalue every book, coin equity included, to zero change."""
    res = revalue(
        _table(rows),
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        price_mult=[[1.0]],
        equity_coin=[[equity]],
    )
    assert np.abs(res.equity_usd).max() == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(row, min_size=1, max_size=12), st.floats(1.0, 5.0))
def test_margin_monotone_in_size(rows: list[tuple[Any, ...]], scale: float) -> None:
    """Scaling every position up by >= 1 never lowers standard IM or MM in any cell."""
    small = _table(rows)
    big_rows = [(*r[:3], r[3] * scale, *r[4:]) for r in rows]
    kw: dict[str, Any] = {"forward_usd": F, "valuation_ts_ms": T0_MS}
    a, b = standard_margin(small, **kw), standard_margin(_table(big_rows), **kw)
    for x, y in (
        (a.initial_coin, b.initial_coin),
        (a.maintenance_coin, b.maintenance_coin),
        (a.initial_usd, b.initial_usd),
        (a.maintenance_usd, b.maintenance_usd),
    ):
        assert (y >= x - 1e-9 * np.abs(x)).all()


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 4e8), st.floats(0.0, 4e8))
def test_tiers_continuous_and_monotone(n1: float, n2: float) -> None:
    """Marginal tiered MM rises with notional and is continuous at every bound."""
    tiers = TierTable.from_rows(BINANCE_BTCUSDT_2021)
    lo, hi = sorted((n1, n2))
    assert tiered_margin(hi, tiers)[1] >= tiered_margin(lo, tiers)[1]
    bounds = tiers.upper_usd[:-1]
    below, above = tiered_margin(bounds, tiers)[1], tiered_margin(bounds * (1 + 1e-12), tiers)[1]
    np.testing.assert_allclose(below, above, rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(row, min_size=0, max_size=8),
    st.floats(1.5, 4.0),
    st.sampled_from([-1.0, 1.0]),
    st.floats(1.0, 10.0),
)
def test_equity_meets_maintenance_at_the_root(
    rows: list[tuple[Any, ...]], cushion: float, side: float, perp_coin: float
) -> None:
    """Where a finite, non-zero distance is found, equity equals MM there (full revaluation).

    A leveraged linear perp (equity 0.1 coin per coin of it) makes a breach likely.
    """
    t = _table([*rows, (KindCode.PERPETUAL, False, False, side * perp_coin, 1.0, 1, 0.5, 0)])
    mm0 = standard_margin(t, forward_usd=F, valuation_ts_ms=T0_MS).maintenance_total_usd / F
    equity = np.array([[cushion * mm0[0] + 0.1 * perp_coin]])
    params = LiquidationParams(vol_beta_down=0.3, vol_beta_up=0.1)
    res = liquidation_distance(
        t,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=equity,
        annual_vol_frac=0.6,
        params=params,
    )
    for move, beta in ((-res.down_frac[0], 0.3), (res.up_frac[0], 0.1)):
        if not 0 < abs(move) < np.inf:
            continue
        shift = beta * abs(move)
        fm = F * (1 + move)
        eq = (
            equity[0, 0] * F
            + revalue(
                t,
                forward_usd=F,
                valuation_ts_ms=T0_MS,
                price_mult=[[1 + move]],
                vol_shift=shift,
                equity_coin=equity,
            ).venue_equity_usd[0, 0]
        )
        vols = np.where(t.kind == KindCode.OPTION, t.mark_iv + shift, np.nan)
        mm = standard_margin(t, forward_usd=fm, valuation_ts_ms=T0_MS, vol=vols)
        total = mm.maintenance_coin[0, 0] * fm + mm.maintenance_usd[0, 0]  # coin at moved index
        assert abs(eq - total) <= 1e-4 * max(total, 1.0) + 1e-6 * F
