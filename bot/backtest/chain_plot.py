"""``--plot`` of a recorded backtest: P&L components over time, delta against the band, the
book's IV.

1. Each attribution term of the first strategy, cumulative, and every
   strategy's total P&L (thick), USD, against time.
2. Each strategy's total delta (book plus hedge, before each decision) per
   underlying, coin, with the first strategy's band shaded.
3. The book's vega-weighted mark IV per underlying.

Drawn on an Agg canvas; imported only when a chart is asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.backtest.chain_run import COMPONENTS, ChainBacktest
from bot.ops.files import save_png_atomically


def draw_chain_plot(run: ChainBacktest) -> Figure:
    """The three panels (see the module docstring)."""
    fig = Figure(figsize=(15, 5.2), layout="constrained")
    FigureCanvasAgg(fig)
    when = [datetime.fromtimestamp(ms / 1000, tz=UTC) for ms in run.market.time_ms]
    pnl_ax, delta_ax, iv_ax = fig.subplots(1, 3)
    first = run.results[0]
    for i, name in enumerate(COMPONENTS):
        sign = -1.0 if name in ("slippage_usd", "fees_usd") else 1.0
        pnl_ax.plot(when, sign * first.components_usd[:, i], lw=1, label=name.removesuffix("_usd"))
    for result in run.results:
        pnl_ax.plot(when, result.pnl_usd, lw=2.2, label=f"P&L {result.spec.display}")
    pnl_ax.set_title(f"P&L and its attribution ({first.spec.display}), USD")
    pnl_ax.legend(fontsize=7, ncol=2)
    for u, underlying in enumerate(run.market.underlyings):
        for result in run.results:
            label = f"{underlying} {result.spec.display}"
            delta_ax.step(when, result.total_delta_coin[:, u], where="post", lw=1, label=label)
        if not np.isnan(first.band_lower_coin[:, u]).all():
            lower, upper = first.band_lower_coin[:, u], first.band_upper_coin[:, u]
            delta_ax.fill_between(when, lower, upper, step="post", alpha=0.15)
        iv_ax.plot(when, 100 * run.book_iv[:, u], label=underlying)
    delta_ax.axhline(0.0, color="grey", lw=0.6)
    delta_ax.set_title("total delta (book + hedge) before each decision, coin; band shaded")
    delta_ax.legend(fontsize=7)
    iv_ax.set_title("book IV (vega-weighted mark IV), %")
    iv_ax.legend(fontsize=7)
    for ax in (pnl_ax, delta_ax, iv_ax):
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"recorded backtest: {len(run.legs)} options, {run.market.time_ms.size} snapshots, "
        f"marked at the {run.mark}, fee {run.costs.fee_frac:.2%}"
    )
    return fig


def write_chain_plot(run: ChainBacktest, path: Path) -> None:
    """Draw :func:`draw_chain_plot` into ``path`` (PNG), atomically and readable by all."""
    save_png_atomically(draw_chain_plot(run), path)
