"""The PNG of ``deltabot stress --plot``: where the book loses, and who is liquidated first.

Top left, the total P&L over price move × vol shift; top right, the named
scenarios' P&L as bars (a venue lost or liquidated is named beside its bar);
below, one panel per venue with its own P&L. Every heatmap is centred on 0
(green gains, red losses) with a colour bar ticked on both signs in USD with
thousands separators, marks "now" (no move, vol unchanged) and its worst cell,
and draws the liquidation boundary the text report computes: on the total,
where some venue is the first to liquidate on the way to the cell; on a venue,
where its equity is below its maintenance margin. A grid on which no venue
liquidates says so.

Matplotlib is imported inside :func:`draw_stress` (~0.5 s) and drawn on an Agg
canvas, never through pyplot; :func:`write_chart` saves it atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.app.stress_run import StressReport
from bot.domain.stress import NO_VENUE, ScenarioResult, StressGrid
from bot.ops.files import save_png_atomically
from bot.pricing.arrays import FloatArray

COLOURBAR_LABEL = "P&L, USD"
_LIQUIDATED = "black"


def _usd(x: float, _: object = None) -> str:
    return f"{x:+,.0f}" if x else "0"


def _colour_ticks(lo: float, hi: float) -> list[float]:
    """About four round ticks each side of 0: the colour bar reads gains and losses alike."""
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    ticks: set[float] = {0.0}
    if lo < 0:
        ticks |= {t for t in MaxNLocator(4).tick_values(lo, 0.0) if lo <= t <= 0}
    if hi > 0:
        ticks |= {t for t in MaxNLocator(4).tick_values(0.0, hi) if 0 <= t <= hi}
    return sorted(ticks)


def _heatmap(
    fig: Any,
    ax: Any,
    grid: StressGrid,
    *,
    z: FloatArray,
    liquidated: NDArray[np.bool_],
    title: str,
    hatched: str,
) -> None:
    """One P&L heatmap (``z`` and ``liquidated`` are price × vol) with its colour bar,
    liquidation boundary (``hatched`` says what the hatched cells mean), "now" and worst
    cell."""
    from matplotlib.colors import TwoSlopeNorm  # noqa: PLC0415

    x, y = 100 * grid.price_moves_frac, 100 * grid.vol_shifts
    zt = z.T  # vol rows × price columns
    lo, hi = float(zt.min()), float(zt.max())
    span = max(abs(lo), abs(hi), 1.0)
    norm = TwoSlopeNorm(0.0, min(lo, -1e-9 * span), max(hi, 1e-9 * span))
    mesh = ax.pcolormesh(x, y, zt, cmap="RdYlGn", norm=norm, shading="nearest")
    bar = fig.colorbar(mesh, ax=ax, label=COLOURBAR_LABEL, ticks=_colour_ticks(lo, hi))
    bar.ax.yaxis.set_major_formatter(_usd)
    gone = liquidated.T.astype(float)
    if gone.any():
        ax.contourf(x, y, gone, levels=[0.5, 1.5], colors="none", hatches=["//"])
        if min(gone.shape) > 1 and not gone.all():
            ax.contour(x, y, gone, levels=[0.5], colors=_LIQUIDATED, linewidths=1.5)
        title += f"\nhatched: {hatched}"
    else:
        title += ": no liquidation on this grid"
    ax.axvline(0.0, color="0.3", lw=0.6, ls="--")
    ax.axhline(0.0, color="0.3", lw=0.6, ls="--")
    i, j = np.unravel_index(int(np.argmin(z)), z.shape)
    ax.plot(x[i], y[j], marker="*", ms=13, color="blue", mec="white", ls="")
    # The label goes towards the middle of the panel, so a corner cell's stays inside it.
    up = y[j] < (y[0] + y[-1]) / 2
    right = x[i] < (x[0] + x[-1]) / 2
    ax.annotate(
        f"worst {_usd(float(z[i, j]))}",
        (x[i], y[j]),
        xytext=(8 if right else -8, 8 if up else -8),
        textcoords="offset points",
        ha="left" if right else "right",
        va="bottom" if up else "top",
        fontsize="x-small",
        color="blue",
        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
    )
    kind = "relative, %" if grid.vol_relative else "absolute, vol points"
    ax.set(xlabel="price move of every underlying, %", ylabel=f"vol shift ({kind})")
    ax.set_title(title, fontsize="medium")


def _scenario_label(s: ScenarioResult) -> str:
    gone = [f"lost {', '.join(s.lost)}"] if s.lost else []
    gone += [f"liquidated {', '.join(s.liquidated)}"] if s.liquidated else []
    return f"{s.name} ({'; '.join(gone)})" if gone else s.name


def _scenarios(ax: Any, scenarios: tuple[ScenarioResult, ...]) -> None:
    """The named scenarios' total P&L as horizontal bars, worst at the top."""
    if not scenarios:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no scenarios", ha="center", va="center")
        return
    ordered = sorted(scenarios, key=lambda s: s.pnl_usd, reverse=True)
    pnl = [s.pnl_usd for s in ordered]
    rows = np.arange(len(ordered))
    ax.barh(rows, pnl, color=["#1a9850" if v >= 0 else "#d73027" for v in pnl], height=0.6)
    ax.set_yticks(rows, [_scenario_label(s) for s in ordered], fontsize="small")
    ax.xaxis.set_major_formatter(_usd)
    ax.tick_params(axis="x", labelrotation=20, labelsize="small")
    ax.axvline(0.0, color="0.3", lw=0.6)
    for row, value in zip(rows, pnl, strict=True):
        ax.annotate(
            _usd(value),
            (0.0, row),
            xytext=(4 if value < 0 else -4, 0),
            textcoords="offset points",
            va="center",
            ha="left" if value < 0 else "right",
            fontsize="x-small",
        )
    ax.set(xlabel="total P&L, USD", title="Named scenarios")


def draw_stress(report: StressReport) -> Any:
    """The figure of the module docstring (a matplotlib ``Figure`` on an Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    grid = report.grid
    venues = grid.venues
    fig = Figure(figsize=(max(13.0, 6.5 * len(venues)), 11.0), layout="constrained")
    FigureCanvasAgg(fig)
    rows: Any = fig.subfigures(2, 1, height_ratios=(1.0, 0.9))
    top, bottom = rows
    ax_total, ax_scen = top.subplots(1, 2, width_ratios=(1.25, 1.0))
    _heatmap(
        top,
        ax_total,
        grid,
        z=grid.pnl_usd,
        liquidated=grid.first_liquidated != NO_VENUE,
        title="Total P&L",
        hatched="a venue is liquidated on the way there",
    )
    _scenarios(ax_scen, report.scenarios)
    venue_axes = np.atleast_1d(bottom.subplots(1, len(venues), squeeze=False)[0])
    for k, (ax, venue) in enumerate(zip(venue_axes, venues, strict=True)):
        _heatmap(
            bottom,
            ax,
            grid,
            z=grid.venue_pnl_usd[:, :, k],
            liquidated=grid.breached[:, :, k],
            title=f"{venue}: P&L",
            hatched="equity below maintenance margin",
        )
    fig.suptitle(
        f"deltabot stress: the [sim] book at {report.start}, {grid.price_moves_frac.size} price "
        f"moves × {grid.vol_shifts.size} vol shifts, worst loss {grid.worst_loss_usd:,.0f} USD",
        fontsize="medium",
    )
    return fig


def write_chart(report: StressReport, path: Path) -> None:
    """Draw :func:`draw_stress` into ``path`` (PNG), atomically and readable by all."""
    save_png_atomically(draw_stress(report), path)
