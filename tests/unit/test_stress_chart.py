"""The stress chart: a colour bar for gains and losses, one panel per venue, the scenarios,
and the liquidation boundary when a venue liquidates on the grid."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.app.stress_chart import COLOURBAR_LABEL, draw_stress
from bot.app.stress_run import StressReport, build_report
from bot.config.loader import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@cache
def _report() -> StressReport:
    config = load_config(EXAMPLE, {})
    return build_report(config, config.stress)


def _titled(fig: Any, start: str) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_title().startswith(start)]


def _calm() -> StressReport:
    """The example's grid with every venue's equity above maintenance everywhere."""
    report = _report()
    g = report.grid
    grid = dataclasses.replace(
        g,
        equity_usd=np.maximum(g.equity_usd, g.maintenance_usd + 1.0),
        first_liquidated=-np.ones_like(g.first_liquidated),
    )
    return dataclasses.replace(report, grid=grid)


def _liquidating() -> StressReport:
    """The calm grid with deribit-a's equity below maintenance from +20 % up, first to go."""
    report = _calm()
    g = report.grid
    k = g.venues.index("deribit-a")
    up = g.price_moves_frac[:, None] >= 0.2
    equity = g.equity_usd.copy()
    equity[:, :, k] = np.where(up, -1.0, equity[:, :, k])
    first = np.where(up, k, -1) * np.ones_like(g.first_liquidated)
    grid = dataclasses.replace(g, equity_usd=equity, first_liquidated=first)
    return dataclasses.replace(report, grid=grid)


class TestStressChart:
    def test_colour_bars_tick_both_signs_with_separators(self) -> None:
        """Each colour bar has negative and positive ticks, in USD with thousands separators."""
        fig = draw_stress(_report())
        bars = [ax for ax in fig.axes if ax.get_ylabel() == COLOURBAR_LABEL]
        assert len(bars) == 3  # total and two venues
        for bar in bars:
            labels = [t.get_text() for t in bar.get_yticklabels()]
            assert any(t.startswith("-") for t in labels), labels
            assert any(t.startswith("+") for t in labels), labels
            assert any("," in t for t in labels), labels

    def test_one_panel_per_venue_and_the_scenarios(self) -> None:
        """Beside the total there is a P&L panel per venue and a bar per named scenario."""
        fig = draw_stress(_report())
        assert len(_titled(fig, "deribit-a: P&L")) == len(_titled(fig, "binance-a: P&L")) == 1
        (scenarios,) = _titled(fig, "Named scenarios")
        labels = {t.get_text() for t in scenarios.get_yticklabels()}
        assert "crash -50%, vol x2" in labels
        assert "default of deribit-a (lost deribit-a)" in labels

    def test_a_grid_without_liquidation_says_so(self) -> None:
        """A grid where no venue liquidates says so on every heatmap."""
        fig = draw_stress(_calm())
        assert len([ax for ax in fig.axes if "no liquidation" in ax.get_title()]) == 3

    def test_the_liquidation_boundary_is_drawn_where_a_venue_goes(self) -> None:
        """With deribit-a liquidated from +20 %, the total and deribit-a's panels draw the
        boundary (a contour line) and hatch the cells; binance-a's says none."""
        fig = draw_stress(_liquidating())
        (total,) = _titled(fig, "Total P&L")
        (venue_a,) = _titled(fig, "deribit-a: P&L")
        (venue_b,) = _titled(fig, "binance-a: P&L")
        for ax in (total, venue_a):
            assert "hatched" in ax.get_title() and len(ax.collections) >= 3  # mesh, fill, line
        assert "no liquidation" in venue_b.get_title()
