"""The sweep report: the cost-vs-risk frontier and the best cell per risk budget."""

from __future__ import annotations

import json

from bot.backtest.sweep import Row
from bot.backtest.sweep_report import best_within, frontier, scenarios, sweep_json

COSTS = json.dumps({"fee_frac": 0.0005, "spread_frac": 0.0, "slippage_frac": 0.0,
                    "funding_per_8h": 0.0})  # fmt: skip


def cell(name: str, risk: float, cost: float, model: str = "gbm vol=0.2") -> Row:
    return {"strategy": name, "seed": 1, "model": model, "costs": COSTS,
            "pnl_std_usd": risk, "costs_usd_mean": cost}  # fmt: skip


WORKED = [cell("A", 1, 5), cell("B", 2, 3), cell("C", 2.5, 4), cell("D", 3, 1)]
"""The module doc's example: C is riskier and dearer than B."""


class TestFrontier:
    def test_the_worked_example(self) -> None:
        """A (1, 5), B (2, 3), C (2.5, 4), D (3, 1): the frontier is A, B, D."""
        assert [r["strategy"] for r in frontier(WORKED)] == ["A", "B", "D"]

    def test_a_tie_in_risk_keeps_the_cheaper(self) -> None:
        """Of two cells equally risky, only the cheaper is on the frontier."""
        assert [r["strategy"] for r in frontier([cell("X", 1, 2), cell("Y", 1, 1)])] == ["Y"]


class TestBestWithin:
    def test_the_cheapest_cell_inside_the_budget(self) -> None:
        """A 2.7 USD budget admits A, B (C is dearer than B): B is the cheapest."""
        assert best_within(WORKED, 2.7) == WORKED[1]

    def test_nothing_when_every_cell_is_riskier(self) -> None:
        """A budget below every cell's risk picks nothing."""
        assert best_within(WORKED, 0.5) is None


class TestScenarios:
    def test_frontiers_are_per_model_and_cost_level(self) -> None:
        """A cheap cell under another model does not dominate this model's cells."""
        rows = [*WORKED, cell("Z", 0.1, 0.1, model="merton vol=0.2")]
        doc = sweep_json(rows, {}, [2.7], {})
        fronts = {s["scenario"]: s["frontier"] for s in doc["scenarios"]}  # type: ignore[attr-defined]
        assert list(fronts.values()) == [[0, 1, 3], [4]]
        assert len(scenarios(rows)) == 2


class TestFrontierChart:
    def test_one_panel_per_scenario_labelled_on_the_frontier(self) -> None:
        """Two scenarios draw two panels titled by scenario; only frontier cells get a label."""
        from bot.backtest.sweep_plot import draw_frontier

        se = {"costs_usd_mean_se": 0.01}
        rows = [{**r, **se} for r in [*WORKED, cell("Z", 0.1, 0.1, model="merton vol=0.2")]]
        axes = [ax for ax in draw_frontier(rows, "test").axes if ax.get_visible()]
        assert [ax.get_title() for ax in axes] == [
            "gbm vol=0.2 | fee 5 bp",
            "merton vol=0.2 | fee 5 bp",
        ]
        labels = [t.get_text().split(",")[0] for t in axes[0].texts]
        assert labels == ["A", "B", "D"]
