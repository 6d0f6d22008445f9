"""``--plot FILE.png``: the three pictures a desk asks of a hedging backtest.

1. The hedged P&L distribution of each strategy (overlaid histograms).
2. The cost-vs-risk frontier: mean cost paid against P&L std, one point per
   strategy or grid point; a good strategy sits low and to the left.
3. A few sample paths: spot, and each strategy's hedge against the book's
   −delta (a perfect hedge would track it).

Matplotlib runs headless (Agg); this is the only module that writes an image.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from bot.ops.files import save_png_atomically

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bot.backtest.spec import BacktestResult


def write_plot(result: BacktestResult, path: Path) -> None:
    """Draw the three panels of the module docstring into ``path`` (PNG)."""
    fig, (ax_pnl, ax_front, ax_path) = plt.subplots(1, 3, figsize=(16, 4.8))
    try:
        pnls = [s.paths.pnl_usd for s in result.strategies]
        lo, hi = np.percentile(np.concatenate(pnls), [0.5, 99.5])
        bins = np.linspace(lo, hi, 80) if hi > lo else 10
        for s, pnl in zip(result.strategies, pnls, strict=True):
            ax_pnl.hist(pnl, bins=bins, histtype="step", density=True, label=s.spec.display)
        ax_pnl.set(title="Hedged P&L at the horizon", xlabel="USD", ylabel="density")
        ax_pnl.legend(fontsize="small")

        risk = [float(np.std(s.paths.pnl_usd)) for s in result.strategies]
        cost = [float(np.mean(s.paths.cost_usd)) for s in result.strategies]
        ax_front.plot(risk, cost, "o-")
        for s, x, y in zip(result.strategies, risk, cost, strict=True):
            ax_front.annotate(s.spec.display, (x, y), fontsize="x-small")
        ax_front.set(title="Cost vs risk", xlabel="P&L std, USD", ylabel="mean cost paid, USD")

        t = result.time_years
        decisions = t[:-1]
        ax_spot = ax_path.twinx()
        for i in range(result.sample_spot_usd.shape[0]):
            ax_spot.plot(t, result.sample_spot_usd[i], color="grey", lw=0.8, alpha=0.6)
            ax_path.plot(decisions, -result.sample_delta_coin[i], "k--", lw=0.8)
            for j, s in enumerate(result.strategies):
                hedge = s.sample_hedge_coin[i]
                ax_path.step(decisions, hedge, where="post", lw=1.0, color=f"C{j}")
        ax_spot.set_ylabel("spot, USD (grey)")
        ax_path.set(title="Sample paths: hedge vs -delta (dashed)", xlabel="years", ylabel="coin")
        fig.tight_layout()
        save_png_atomically(fig, path)
    finally:
        plt.close(fig)
