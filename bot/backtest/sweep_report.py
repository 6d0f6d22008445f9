"""What a sweep says: per-cell figures with standard errors, the cost-vs-risk frontier, and
the best parameter set within each risk budget.

The model and the cost level are the market a desk faces, not a choice it
makes, so the frontier and the best cells are found per *scenario* (one model
and one cost level), among the strategies, params and seeds run in it. Risk
is the std of the hedged P&L (USD at the horizon), cost the mean trading cost
paid per path. A cell is on the frontier when no other cell is both
less risky (or as risky) and cheaper; so, walking the frontier from the least
risky cell, each next cell is cheaper and riskier. The best cell within a
risk budget is the cheapest cell whose risk is at most the budget, which is
always a frontier cell. Example: cells (risk, cost) A (1, 5), B (2, 3),
C (2.5, 4), D (3, 1): the frontier is A, B, D (C is riskier and dearer than B);
a budget of 2.7 USD picks B, of 0.5 USD nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.backtest.sweep import Row

RISK = "pnl_std_usd"
COST = "costs_usd_mean"


def frontier(rows: Sequence[Row]) -> list[Row]:
    """The frontier cells, least risky first (see the module doc)."""
    out: list[Row] = []
    for row in sorted(rows, key=lambda r: (float(r[RISK]), float(r[COST]))):
        if not out or float(row[COST]) < float(out[-1][COST]):
            out.append(row)
    return out


def best_within(rows: Sequence[Row], budget_usd: float) -> Row | None:
    """The cheapest cell with risk at most ``budget_usd`` (None: every cell is riskier)."""
    inside = [r for r in frontier(rows) if float(r[RISK]) <= budget_usd]
    return inside[-1] if inside else None


def scenarios(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """The cells of each scenario, by its text (``gbm vol=0.2 | fee 5 bp``), in run order."""
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(scenario_text(row), []).append(row)
    return out


def scenario_text(row: Row) -> str:
    """A cell's model and costs: ``gbm vol=0.2 | fee 5 bp, spread 2 bp``."""
    costs = json.loads(str(row["costs"]))
    bp = {k.removesuffix("_frac"): v * 1e4 for k, v in costs.items() if k.endswith("_frac")}
    cost_bp = ", ".join(f"{k} {v:g} bp" for k, v in sorted(bp.items()) if v)
    funding = f", funding {costs['funding_per_8h']:g}/8h" if costs["funding_per_8h"] else ""
    return f"{row['model']} | {cost_bp or 'no costs'}{funding}"


def choice_text(row: Row) -> str:
    """What the desk chooses in a cell: ``band(width_up=0.05), seed 1``."""
    return f"{row['strategy']}, seed {row['seed']}"


def cell_text(row: Row) -> str:
    """A cell's parameters in one line: ``band(width_up=0.05) | gbm vol 0.2 | fee .. | seed 1``."""
    costs = json.loads(str(row["costs"]))
    bp = {k.removesuffix("_frac"): v * 1e4 for k, v in costs.items() if k.endswith("_frac")}
    cost_bp = ", ".join(f"{k} {v:g} bp" for k, v in bp.items() if v)
    return f"{row['strategy']} | {row['model']} | {cost_bp or 'no costs'} | seed {row['seed']}"


def sweep_json(
    rows: Sequence[Row],
    failures: dict[str, str],
    budgets_usd: Sequence[float],
    settings: dict[str, object],
) -> dict[str, object]:
    """The ``--json`` document: settings, cells, and per scenario its frontier and best cell
    per budget (as indexes into ``cells``), then the failed groups."""
    index = {id(r): i for i, r in enumerate(rows)}
    return {
        **settings,
        "cells": list(rows),
        "scenarios": [
            {
                "scenario": name,
                "frontier": [index[id(r)] for r in frontier(cells)],
                "best_per_budget": [
                    {"risk_budget_usd": b, "cell": _index_or_none(index, best_within(cells, b))}
                    for b in budgets_usd
                ],
            }
            for name, cells in scenarios(rows).items()
        ],
        "failed": dict(sorted(failures.items())),
    }


def _index_or_none(index: dict[int, int], row: Row | None) -> int | None:
    return None if row is None else index[id(row)]


def sweep_text(rows: Sequence[Row], failures: dict[str, str], budgets_usd: Sequence[float]) -> str:
    """Per scenario: every cell (mean ± se), its frontier and best per budget; then failures."""
    lines = [f"{len(rows)} cells, {len(failures)} failed groups"]
    for name, cells in scenarios(rows).items():
        lines += ["", f"scenario {name}"]
        for r in cells:
            lines += [
                f"  {choice_text(r)}",
                f"    P&L USD mean {float(r['pnl_mean_usd']):+.4f} "
                f"(se {float(r['pnl_mean_se_usd']):.4f})  std {float(r[RISK]):.4f}  "
                f"CVaR95 {float(r['cvar95_usd']):+.4f}  cost {float(r[COST]):.4f} "
                f"(se {float(r['costs_usd_mean_se']):.4f})  trades {float(r['trades_mean']):.2f}",
            ]
        lines.append("  cost-vs-risk frontier (least risky first):")
        lines += [
            f"    risk {float(r[RISK]):.4f}  cost {float(r[COST]):.4f}  {choice_text(r)}"
            for r in frontier(cells)
        ]
        for b in budgets_usd:
            best = best_within(cells, b)
            lines.append(
                f"  best within risk {b:g} USD: "
                + (choice_text(best) if best else "no cell is that safe")
            )
    lines += [f"FAILED {key}: {message}" for key, message in sorted(failures.items())]
    return "\n".join(lines)
