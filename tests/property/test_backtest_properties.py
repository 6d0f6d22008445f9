"""Invariants of the backtester for any book, costs and strategy widths."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.backtest import GBM, Book, Carry, Costs, OptionLeg, StrategySpec, run_backtest

legs = st.builds(
    OptionLeg,
    st.booleans(),
    st.floats(50.0, 200.0),
    st.floats(0.01, 0.5),
    st.floats(-5.0, 5.0).filter(lambda q: abs(q) > 1e-3),
    st.sampled_from(["linear", "coin"]),
)


@settings(max_examples=40)
@given(
    book_legs=st.lists(legs, min_size=1, max_size=3),
    initial_hedge=st.floats(-3.0, 3.0),
    fee=st.floats(0.0, 0.01, allow_subnormal=False),
    funding=st.floats(-1e-3, 1e-3, allow_subnormal=False),
    width=st.floats(0.0, 2.0),
    carry=st.sampled_from(["financed", "none"]),
    seed=st.integers(0, 2**32),
)
def test_attribution_adds_up_and_costs_follow_turnover(
    *,
    book_legs: list[OptionLeg],
    initial_hedge: float,
    fee: float,
    funding: float,
    width: float,
    carry: Carry,
    seed: int,
) -> None:
    """P&L = sum of attribution terms, cost = cost_frac × turnover, trades ≤ steps + 1."""
    result = run_backtest(
        Book(tuple(book_legs), initial_hedge),
        GBM(100.0, 0.6, 0.1),
        [StrategySpec("band", {"width_up": width, "width_down": width})],
        Costs(fee_frac=fee, funding_per_8h=funding),
        paths=40,
        steps=12,
        seed=seed,
        carry=carry,
        rate=0.03,
    )
    p = result.strategies[0].paths
    scale = 1.0 + np.abs(p.pnl_usd) + p.turnover_usd
    assert np.all(np.abs(p.attributed_usd() - p.pnl_usd) <= 1e-10 * scale)
    np.testing.assert_allclose(p.cost_usd, fee * p.turnover_usd, rtol=1e-12, atol=0)
    assert np.all(p.trades <= 13)
