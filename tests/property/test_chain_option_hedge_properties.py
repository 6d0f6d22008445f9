"""The recorded option-hedge loop for any book vega, call vega, limits and lot: a trade never
leaves the book further from its limit, and it stops inside the soft limit or within a lot."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.backtest.chain_option_hedge import VegaLimit, hedge_trades


@given(
    book_vega=st.floats(-5_000.0, 5_000.0),
    unit_vega=st.floats(0.5, 500.0),
    hard=st.floats(10.0, 2_000.0),
    soft_frac=st.floats(0.1, 1.0),
    lot=st.sampled_from([0.01, 0.1, 1.0, 10.0]),
)
def test_a_trade_brings_the_book_toward_its_limit_by_whole_lots(
    book_vega: float, unit_vega: float, hard: float, soft_frac: float, lot: float
) -> None:
    """Whole lots; a trade leaves |vega| smaller than before and within the soft limit or
    one lot's vega of it (no trade where a lot would overshoot further); inside the hard
    limit, no trade."""
    limit = VegaLimit("BTC", hard, hard * soft_frac)
    one = np.ones((1, 2))
    out = hedge_trades(
        np.array([1.0, 0.0]), np.array([0, 0]), {1: limit},
        std_vega_per_coin=one * [book_vega, unit_vega], premium_usd=one * 100.0,
        bid_usd=one * 99.0, ask_usd=one * 101.0, spot_usd=np.full((1, 1), 60_000.0),
        lot_coin=lot, fee_frac=0.0003,
    )  # fmt: skip
    q = out.size_coin[0, 1]
    after = book_vega + q * unit_vega
    assert abs(q / lot - round(q / lot)) < 1e-6
    if abs(book_vega) <= hard:
        assert q == 0.0
    elif q != 0.0:
        assert abs(after) < abs(book_vega)
        assert abs(after) <= max(limit.soft_vega_usd_per_volpt, lot * unit_vega) + 1e-6
    else:
        assert abs(book_vega + np.sign(-book_vega) * lot * unit_vega) >= abs(book_vega) - 1e-9
