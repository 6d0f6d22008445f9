"""The backtest chart: nothing covers the data, labels stay in their panel, a lone parameter
set says so, recorded prices get dates, and the title names book, model, costs and paths."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.backtest import (
    GBM,
    BacktestResult,
    Book,
    Costs,
    Historical,
    OptionHedgeSpec,
    OptionLeg,
    StrategySpec,
    read_price_csv,
    run_backtest,
)
from bot.backtest.plot import ONE_SET_NOTE, draw_plot

BOOK = Book((OptionLeg(is_call=True, strike_usd=100.0, expiry_years=1 / 12, quantity_coin=-1.0),))
GRID = [StrategySpec("band", {"width_down": 0.1, "width_up": w}) for w in (0.05, 0.1, 0.2)]


def _run(model: Any, specs: list[StrategySpec]) -> BacktestResult:
    return run_backtest(
        BOOK, model, specs, Costs(fee_frac=5e-4), paths=2000, steps=24, seed=1, pricing_vol=0.2
    )


@cache
def _grid() -> BacktestResult:
    return _run(GBM(spot0_usd=100.0, vol=0.2, drift=0.05), GRID)


def _drawn(result: BacktestResult) -> tuple[Any, Any]:
    fig = draw_plot(result)
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def _axes(fig: Any, title: str) -> Any:
    (ax,) = [ax for ax in fig.axes if ax.get_title().startswith(title)]
    return ax


def test_the_legend_leaves_the_histogram_peak_uncovered() -> None:
    """The strategies' legend lies outside the histogram panel: its box (from the renderer)
    holds neither the tallest bar's top nor any part of the panel."""
    fig, renderer = _drawn(_grid())
    ax = _axes(fig, "Hedged P&L")
    legend = fig.legends[0].get_window_extent(renderer)
    pnl = _grid().strategies[0].paths.pnl_usd
    density, edges = np.histogram(pnl, bins=80, density=True)
    k = int(np.argmax(density))
    peak = ax.transData.transform(((edges[k] + edges[k + 1]) / 2, density[k]))
    assert not legend.contains(*peak)
    assert not legend.overlaps(ax.get_window_extent(renderer))


def test_frontier_labels_stay_inside_their_panel() -> None:
    """Each frontier point's label (the parameter that varies) lies inside the panel."""
    fig, renderer = _drawn(_grid())
    ax = _axes(fig, "Cost vs risk")
    box = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text().startswith("width_up=")]
    assert len(labels) == 3
    for label in labels:
        extent = label.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, label.get_text()


def test_a_single_parameter_set_says_there_is_no_frontier() -> None:
    """One strategy is one point: the frontier panel says so and gives its std and cost."""
    fig, _ = _drawn(_run(GBM(spot0_usd=100.0, vol=0.2), GRID[:1]))
    texts = [t.get_text() for t in _axes(fig, "Cost vs risk").texts]
    assert any(t.startswith(ONE_SET_NOTE) and "std" in t for t in texts)


def test_recorded_prices_are_drawn_on_dates(tmp_path: Path) -> None:
    """A CSV run's sample paths have a date axis (month and day), not years."""
    csv = tmp_path / "prices.csv"
    rows = [f"{1709251200 + 3600 * i},{100 * 1.0005 ** (i % 50)},0.2" for i in range(24 * 40)]
    csv.write_text("timestamp,price,iv\n" + "\n".join(rows) + "\n", encoding="utf-8")
    fig, _ = _drawn(_run(Historical(read_price_csv(csv), 100.0), GRID[:1]))
    ax = _axes(fig, "Sample paths")
    assert ax.get_xlabel() == "date (UTC), 2024"
    assert ax.get_xticklabels()[0].get_text() == "Mar 01"
    assert "recorded prices 2024-03-01 to" in fig.get_suptitle()


def test_the_title_names_book_model_costs_and_paths() -> None:
    """The title says what was run: the book, the model, the costs and how many paths."""
    title = draw_plot(_grid()).get_suptitle()
    for part in ("short 1 call K 100", "GBM σ 20%, drift 5%", "costs 5 bp a trade", "2,000 paths"):
        assert part in title


def test_the_run_without_the_option_hedge_is_drawn_beside() -> None:
    """With --option-hedge the chart adds the run without it: one dashed histogram and one
    hollow point per strategy, and a title line naming the limits."""
    spec = OptionHedgeSpec(hard_vega_usd_per_volpt=0.02, soft_vega_usd_per_volpt=0.01)
    model = GBM(spot0_usd=100.0, vol=0.2, drift=0.05)
    args = {"paths": 200, "steps": 12, "seed": 1, "pricing_vol": 0.2}
    hedged = run_backtest(BOOK, model, GRID[:2], Costs(), option_hedge=spec, **args)
    fig = draw_plot(hedged, run_backtest(BOOK, model, GRID[:2], Costs(), **args))
    dashed = [p for p in _axes(fig, "Hedged P&L").patches if p.get_linestyle() != "solid"]
    hollow = [ln for ln in _axes(fig, "Cost vs risk").lines if ln.get_markerfacecolor() == "none"]
    assert (len(dashed), len(hollow)) == (2, 2)
    assert "option hedge: standardised vega past 0.02 back to 0.01" in fig.get_suptitle()
