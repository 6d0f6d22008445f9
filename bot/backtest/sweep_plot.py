"""``deltabot backtest --grid FILE.toml --plot FILE.png``: the sweep's cost-vs-risk frontier.

One panel per scenario (model and cost level), one point per cell (mean
trading cost per path against the P&L std), with a bar of ± one standard
error of the mean cost; the frontier cells
(:func:`bot.backtest.sweep_report.frontier`) joined by a line and labelled, the
others grey. A good cell sits low and to the left. Drawn on an Agg canvas;
imported only when a chart is asked for (matplotlib takes ~0.5 s to import).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.backtest.sweep import Row
from bot.backtest.sweep_report import COST, RISK, choice_text, frontier, scenarios
from bot.ops.files import save_png_atomically


def draw_frontier(rows: Sequence[Row], title: str) -> Figure:
    """The figure of the module docstring: one panel per scenario."""
    groups = scenarios(rows)
    cols = min(3, len(groups))
    n_rows = -(-len(groups) // cols)
    fig = Figure(figsize=(6.5 * cols, 5.0 * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, cols, squeeze=False).ravel()
    for ax, (name, cells) in zip(axes, groups.items(), strict=False):
        _panel(ax, name, cells)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"deltabot backtest sweep: {title}, {len(rows)} cells; frontier in blue "
        "(grey: dominated, a cheaper and no riskier cell exists)",
        fontsize="medium",
    )
    return fig


def _panel(ax: Any, name: str, cells: Sequence[Row]) -> None:
    best = frontier(cells)
    on = {id(r) for r in best}
    for r in cells:
        ax.errorbar(
            float(r[RISK]),
            float(r[COST]),
            yerr=float(r["costs_usd_mean_se"]),
            fmt="o",
            ms=6 if id(r) in on else 4,
            color="C0" if id(r) in on else "0.65",
            zorder=2 if id(r) in on else 1,
        )
    ax.plot([float(r[RISK]) for r in best], [float(r[COST]) for r in best], "-", color="C0")
    mid_x = (min(float(r[RISK]) for r in cells) + max(float(r[RISK]) for r in cells)) / 2
    for r in best:
        left = float(r[RISK]) <= mid_x  # a label points into the panel, never off its edge
        ax.annotate(
            choice_text(r),
            (float(r[RISK]), float(r[COST])),
            xytext=(7 if left else -7, 4),
            textcoords="offset points",
            ha="left" if left else "right",
            fontsize="x-small",
        )
    ax.set_title(name, fontsize="small")
    ax.set_xlabel("risk: P&L std, USD per path")
    ax.set_ylabel("cost: mean trading cost, USD per path (± 1 se)")
    ax.grid(alpha=0.3)


def write_frontier(rows: Sequence[Row], title: str, path: Path) -> None:
    """Draw :func:`draw_frontier` into ``path`` (PNG), atomically and readable by all."""
    save_png_atomically(draw_frontier(rows, title), path)
