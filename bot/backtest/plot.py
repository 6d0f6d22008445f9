"""``--plot FILE.png``: the three pictures a desk asks of a hedging backtest.

1. The hedged P&L distribution of each strategy (overlaid histograms).
2. The cost-vs-risk frontier: mean cost paid against P&L std, one point per
   strategy or grid point, labelled with the parameters that differ between
   them; a good strategy sits low and to the left. A single parameter set is
   one point, and the panel says so.
3. A few sample paths: spot, and each strategy's hedge against the book's
   −delta (a perfect hedge would track it). Time is in days, or in dates for a
   recorded (CSV) series.

One legend under the panels names each strategy's colour, so nothing covers
the data; the title names the book, the model, the costs and the path count.
With the option-hedge loop (``--option-hedge``), the run without it on the same
paths is drawn beside: dashed histograms and hollow points, and the title names
the limits.
Drawn on an Agg canvas (never through pyplot); this module is imported only
when a chart is asked for (matplotlib takes ~0.5 s to import).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.backtest.book import Book
from bot.backtest.history import Historical
from bot.backtest.paths import GBM, Heston, Merton, PathModel
from bot.backtest.spec import BacktestResult, Costs, StrategySpec
from bot.domain.timeunits import SECONDS_PER_YEAR
from bot.ops.files import save_png_atomically

ONE_SET_NOTE = "one parameter set: no frontier to compare\n(--grid KEY=V1,V2 draws one)"
_DAYS_PER_YEAR = 365.0
_USD = "{x:,.6g}"
"""Axis ticks in USD with thousands separators (60,000; 0.5)."""


def model_text(model: PathModel | None) -> str:
    """The model and its parameters, e.g. ``GBM σ 20%, drift 5%``."""
    if isinstance(model, GBM):
        return f"GBM σ {model.vol:.0%}, drift {model.drift:.0%}"
    if isinstance(model, Merton):
        return (
            f"Merton σ {model.vol:.0%}, jumps {model.jump_intensity_per_year:g}/year of "
            f"log size {model.jump_mean_log:+g} ± {model.jump_std_log:g}"
        )
    if isinstance(model, Heston):
        return (
            f"Heston σ0 {np.sqrt(model.v0):.0%}, κ {model.kappa:g}, θ {model.theta:g}, "
            f"ξ {model.xi:g}, ρ {model.rho:+g}"
        )
    if isinstance(model, Historical):
        t = model.series.time_s
        return f"recorded prices {_date(t[0])} to {_date(t[-1])}"
    return "model not given"


def costs_text(costs: Costs) -> str:
    """Fee, half-spread and slippage in basis points per trade, and funding."""
    bp = 1e4
    return (
        f"costs {costs.cost_frac * bp:g} bp a trade (fee {costs.fee_frac * bp:g} + half-spread "
        f"{costs.spread_frac / 2 * bp:g} + slippage {costs.slippage_frac * bp:g}), "
        f"funding {costs.funding_per_8h * bp:g} bp/8h"
    )


def book_text(book: Book) -> str:
    """``short 1 call K 100, 30.4 d`` per leg."""
    legs = [
        f"{'short' if leg.quantity_coin < 0 else 'long'} {abs(leg.quantity_coin):g} "
        f"{'call' if leg.is_call else 'put'} K {leg.strike_usd:g}, "
        f"{leg.expiry_years * _DAYS_PER_YEAR:.3g} d"
        for leg in book.legs
    ]
    return "; ".join(legs)


def _date(epoch_s: float) -> str:
    return datetime.fromtimestamp(float(epoch_s), UTC).strftime("%Y-%m-%d")


def short_labels(specs: list[StrategySpec]) -> list[str]:
    """Each strategy by what sets it apart: the name when names differ, and the parameters
    whose values differ (``width_up=0.05``); all of it when nothing does."""
    names = {s.name for s in specs}
    keys = sorted({k for s in specs for k in s.params})
    varying = [k for k in keys if len({repr(s.params.get(k)) for s in specs}) > 1]
    out = []
    for s in specs:
        parts = [f"{k}={s.params[k]}" for k in varying if k in s.params]
        head = s.name if len(names) > 1 or not parts else ""
        out.append(" ".join(p for p in (head, ", ".join(parts)) if p) or s.display)
    return out


def _histograms(ax: Any, result: BacktestResult, without: BacktestResult | None) -> None:
    pnls = [s.paths.pnl_usd for s in result.strategies]
    plain = [] if without is None else [s.paths.pnl_usd for s in without.strategies]
    lo, hi = np.percentile(np.concatenate(pnls + plain), [0.5, 99.5])
    bins = np.linspace(lo, hi, 80) if hi > lo else 10
    for j, pnl in enumerate(pnls):
        ax.hist(pnl, bins=bins, histtype="step", density=True, color=f"C{j}", lw=1.2)
    for j, pnl in enumerate(plain):
        ax.hist(pnl, bins=bins, histtype="step", density=True, color=f"C{j}", lw=0.9, ls="--")
    ax.axvline(0.0, color="0.4", lw=0.6, ls="--")
    ax.xaxis.set_major_formatter(_USD)
    ax.set(title="Hedged P&L at the horizon", xlabel="P&L, USD", ylabel="density, 1/USD")


def _frontier(ax: Any, result: BacktestResult, without: BacktestResult | None) -> None:
    risk = np.array([float(np.std(s.paths.pnl_usd)) for s in result.strategies])
    cost = np.array([float(np.mean(s.paths.cost_usd)) for s in result.strategies])
    for j, s in enumerate(() if without is None else without.strategies):
        x, y = float(np.std(s.paths.pnl_usd)), float(np.mean(s.paths.cost_usd))
        ax.plot(x, y, "o", mfc="none", color=f"C{j}", ms=7, zorder=2)
        ax.annotate("", (risk[j], cost[j]), (x, y), arrowprops={"arrowstyle": "->", "lw": 0.8})
    labels = short_labels([s.spec for s in result.strategies])
    if len(result.strategies) > 1:
        ax.plot(risk, cost, "-", color="0.75", lw=1.0, zorder=1)
    mid_x = (risk.min() + risk.max()) / 2
    for j, (x, y, label) in enumerate(zip(risk, cost, labels, strict=True)):
        ax.plot(x, y, "o", color=f"C{j}", ms=7, zorder=2)
        left = x <= mid_x  # a label points into the panel, never off its edge
        ax.annotate(
            label,
            (x, y),
            xytext=(7 if left else -7, 5),
            textcoords="offset points",
            ha="left" if left else "right",
            fontsize="x-small",
        )
    if len(result.strategies) == 1:
        ax.text(
            0.5,
            0.1,
            f"{ONE_SET_NOTE}\nstd {risk[0]:,.4g} USD, cost {cost[0]:,.4g} USD",
            transform=ax.transAxes,
            ha="center",
            fontsize="small",
            bbox={"fc": "white", "ec": "0.7"},
        )
    ax.margins(x=0.25, y=0.2)
    ax.xaxis.set_major_formatter(_USD)
    ax.yaxis.set_major_formatter(_USD)
    ax.set(
        title="Cost vs risk (low and left is better)",
        xlabel="P&L std, USD",
        ylabel="mean cost paid, USD",
    )


def _times(result: BacktestResult, i: int) -> tuple[Any, str]:
    """Sample path ``i``'s grid times: dates for a recorded series, else days (or years)."""
    model = result.model
    if isinstance(model, Historical):  # path i is the window starting at row i
        start_s = float(model.series.time_s[i])
        seconds = start_s + result.time_years * SECONDS_PER_YEAR
        return np.array([datetime.fromtimestamp(s, UTC) for s in seconds]), "date (UTC)"
    if result.horizon_years <= 2.0:
        return result.time_years * _DAYS_PER_YEAR, "days"
    return result.time_years, "years"


def _paths(ax: Any, result: BacktestResult) -> None:
    ax_spot = ax.twinx()
    unit = "days"
    for i in range(result.sample_spot_usd.shape[0]):
        t, unit = _times(result, i)
        ax_spot.plot(t, result.sample_spot_usd[i], color="grey", lw=0.8, alpha=0.6)
        ax.plot(t[:-1], -result.sample_delta_coin[i], "k--", lw=0.8)
        for j, s in enumerate(result.strategies):
            ax.step(t[:-1], s.sample_hedge_coin[i], where="post", lw=1.0, color=f"C{j}")
    ax_spot.set_ylabel("spot, USD (grey)")
    ax_spot.yaxis.set_major_formatter(_USD)
    ax.set(title="Sample paths: hedge vs −book delta (dashed)", xlabel=unit, ylabel="hedge, coin")
    if unit.startswith("date"):  # six dates of the first path, day and month: no overlap
        t, _ = _times(result, 0)
        ticks = t[np.linspace(0, t.size - 1, 6).round().astype(int)]
        ax.set_xticks(ticks, [d.strftime("%b %d") for d in ticks])
        ax.set_xlabel(f"date (UTC), {ticks[0].year}")


def draw_plot(result: BacktestResult, without: BacktestResult | None = None) -> Figure:
    """The figure of the module docstring; ``without``: the same paths without the option
    hedge ``result`` ran with."""
    fig = Figure(figsize=(17.0, 6.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax_pnl, ax_front, ax_path = fig.subplots(1, 3)
    _histograms(ax_pnl, result, without)
    _frontier(ax_front, result, without)
    _paths(ax_path, result)
    from matplotlib.lines import Line2D  # noqa: PLC0415

    handles = [
        Line2D([], [], color=f"C{j}", label=s.spec.display) for j, s in enumerate(result.strategies)
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(3, len(handles)),
        fontsize="small",
        frameon=False,
    )
    fig.suptitle(
        f"deltabot backtest: {book_text(result.book)} · {model_text(result.model)} · "
        f"{costs_text(result.costs)}\n{result.n_paths:,} paths × {result.steps} steps, "
        f"seed {result.seed}, cash {result.carry}, rate {result.rate:g}"
        + _hedge_text(result, without),
        fontsize="medium",
    )
    return fig


def _hedge_text(result: BacktestResult, without: BacktestResult | None) -> str:
    """The option hedge's limits, and how the run without it is drawn ("" without one)."""
    oh = result.option_hedge
    if oh is None or without is None:
        return ""
    return (
        f"\noption hedge: standardised vega past {oh.hard_vega_usd_per_volpt:g} back to "
        f"{oh.soft_vega_usd_per_volpt:g} USD/volpt (solid); without it on the same paths: "
        "dashed, hollow"
    )


def write_plot(result: BacktestResult, path: Path, without: BacktestResult | None = None) -> None:
    """Draw :func:`draw_plot` into ``path`` (PNG), atomically and readable by all."""
    save_png_atomically(draw_plot(result, without), path)
