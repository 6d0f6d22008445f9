"""Overlapping CSV windows: the standard error divides by an effective sample size, and says so."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.backtest import GBM, Book, Historical, OptionLeg, StrategySpec, run_backtest
from bot.backtest.history import PriceSeries
from bot.backtest.report import effective_sample_size, format_table, summarize

BOOK = Book((OptionLeg(True, 100.0, 1.0 / 365.0, -1.0),))
BAND = [StrategySpec("band", {"width_up": 0.1, "width_down": 0.1})]


def test_independent_draws_count_in_full() -> None:
    """Draws with no autocorrelation are worth (almost) their number."""
    draws = np.random.default_rng(0).normal(size=4_000)
    assert effective_sample_size(draws) == pytest.approx(4_000, rel=0.1)


def test_each_draw_twice_is_worth_half() -> None:
    """Every value repeated twice (ρ₁ = ½) is worth half as many draws: the docstring's example."""
    draws = np.repeat(np.random.default_rng(1).normal(size=2_000), 2)
    assert effective_sample_size(draws) == pytest.approx(2_000, rel=0.1)


def test_csv_windows_report_their_effective_sample_size() -> None:
    """Windows of a recorded series: se = std / √n_eff with n_eff < paths, named in the report."""
    rng = np.random.default_rng(2)
    minutes = np.arange(3_000) * 60.0
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.001, minutes.size)))
    model = Historical(PriceSeries(minutes, prices, None), 100.0)
    result = run_backtest(BOOK, model, BAND, paths=2_000, steps=24, seed=0, pricing_vol=0.5)
    summary = summarize(result, result.strategies[0])
    n_eff = summary["effective_paths"]
    assert isinstance(n_eff, float) and n_eff < summary["paths"]
    std = summary["pnl_std_usd"]
    assert isinstance(std, float)
    assert summary["pnl_mean_se_usd"] == pytest.approx(std / math.sqrt(n_eff))
    assert "overlapping windows: effective sample size" in format_table(result)


def test_monte_carlo_paths_stay_independent() -> None:
    """Simulated paths are independent: se = std / √paths and the report adds nothing."""
    result = run_backtest(BOOK, GBM(100.0, 0.5, 0.0), BAND, paths=500, steps=24, seed=0)
    summary = summarize(result, result.strategies[0])
    assert (summary["se_basis"], summary["effective_paths"]) == ("independent paths", 500.0)
