"""The backtest kernel sums only the Greeks its readers need."""

from __future__ import annotations

import numpy as np

from bot.backtest import GBM, Book, OptionLeg, StrategySpec, run_backtest
from bot.backtest.book import book_greeks

LEGS = (OptionLeg(True, 100.0, 1.0 / 12.0, -1.0), OptionLeg(False, 90.0, 0.5, 2.0, "coin"))


def test_without_cross_greeks_the_others_are_unchanged_and_vanna_is_zero() -> None:
    """cross=False leaves value, delta, gamma, vega and theta bit for bit, vanna and std vega 0."""
    spot = np.linspace(60.0, 140.0, 41)
    full = book_greeks(LEGS, spot, 0.01, 0.6, 0.05)
    lean = book_greeks(LEGS, spot, 0.01, 0.6, 0.05, cross=False)
    for name in ("value_usd", "delta_coin", "gamma_coin_per_usd", "vega_usd", "theta_usd"):
        assert np.array_equal(getattr(full, name), getattr(lean, name))
    assert not lean.vanna_coin.any() and not lean.vega_std_usd_per_volpt.any()
    assert full.vanna_coin.any()  # the book has vanna: leaving it out is a choice, not a no-op


def test_a_vanna_reader_beside_others_does_not_change_their_outcomes() -> None:
    """Interval's outcome is the same whether zakamouline (a vanna reader) runs beside it."""
    interval = StrategySpec("interval", {"interval_s": 86_400.0})
    zak = StrategySpec("zakamouline", {"risk_aversion": 1.0})
    model = GBM(100.0, 0.6, 0.05)
    alone = run_backtest(Book(LEGS), model, [interval], paths=500, steps=20, seed=5, rate=0.05)
    both = run_backtest(Book(LEGS), model, [interval, zak], paths=500, steps=20, seed=5, rate=0.05)
    a, b = alone.strategies[0].paths, both.strategies[0].paths
    assert np.array_equal(a.pnl_usd, b.pnl_usd) and np.array_equal(a.trades, b.trades)
