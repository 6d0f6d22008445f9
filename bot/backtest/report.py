"""Summaries of a backtest: risk and cost per strategy, and where the P&L came from.

Per strategy: mean and std of the hedged P&L (USD at the horizon; the mean's
standard error divides by the effective sample size when the paths are
overlapping windows of one recorded series, see :func:`effective_sample_size`) and of the
break-even premium as a fraction of the model premium (for a written book,
the total cost of writing and hedging, ≈ 1 when hedging is frequent and
free); P&L percentiles; CVaR, the mean P&L of the worst 5 % / 1 % of paths
(Rockafellar & Uryasev 2000), so a loss shows as a negative number; trades,
turnover and costs per path; and the mean attribution terms, which add up to
the mean P&L (see :class:`bot.backtest.spec.PathOutcome`).

A run with the option-hedge loop on is reported beside the same run without
it (same seed, so the same paths): both attributions per strategy, and what
the loop paid, so a desk sees what its vega limits cost and what they save.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from bot.backtest.history import Historical
from bot.backtest.spec import BacktestResult, StrategyResult
from bot.pricing.arrays import FloatArray

PERCENTILES: Final = (1, 5, 50, 95, 99)
ATTRIBUTION: Final = (
    "delta_usd",
    "gamma_usd",
    "theta_usd",
    "vega_usd",
    "carry_usd",
    "funding_usd",
    "cost_usd",
    "residual_usd",
)

Summary = dict[str, float | str | dict[str, float]]


def cvar(pnl_usd: FloatArray, level: float) -> float:
    """Mean of the worst ``1 − level`` fraction of outcomes (at least one path).

    Example: P&L 1..100 USD at level 0.95: the mean of 1..5 = 3 USD.
    """
    k = max(1, math.floor(pnl_usd.size * (1.0 - level) + 1e-9))
    return float(np.mean(np.partition(pnl_usd, k - 1)[:k]))


def effective_sample_size(x: FloatArray) -> float:
    """How many independent draws ``x`` (in path order) is worth: n / (1 + 2·Σ ρ_k), summing
    the autocorrelations ρ_k up to the first that is not positive (Geyer 1992's initial
    positive sequence, simplified).

    Overlapping windows of one recorded series are not independent: a window starting an
    hour after another shares most of its path. Example: n independent draws, each
    repeated twice (a, a, b, b, ...), have ρ_1 ≈ 0.5 and ρ_2 ≈ 0, so the 2n values are
    worth about 2n / (1 + 2·0.5) = n.
    """
    n = x.size
    centred = x - np.mean(x)
    var = float(np.dot(centred, centred))
    if n < 3 or var == 0.0:
        return float(n)
    spectrum = np.fft.rfft(centred, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n] / var
    positive = np.flatnonzero(acf[1:] <= 0.0)
    stop = int(positive[0]) + 1 if positive.size else n
    return float(min(n, n / (1.0 + 2.0 * float(np.sum(acf[1:stop])))))


def summarize(result: BacktestResult, strategy: StrategyResult) -> Summary:
    """One strategy's figures, as plain floats (JSON-ready); means are per path."""
    paths = strategy.paths
    pnl = paths.pnl_usd
    premium = float(np.mean(np.abs(result.premium_usd)))
    breakeven = result.breakeven_premium_usd(strategy) / np.abs(result.premium_usd)
    attribution = {
        name.removesuffix("_usd"): float(np.mean(getattr(paths, name)))
        * (-1.0 if name == "cost_usd" else 1.0)
        for name in ATTRIBUTION
    }
    overlapping = isinstance(result.model, Historical)
    n_eff = effective_sample_size(pnl) if overlapping else float(pnl.size)
    return {
        "strategy": strategy.spec.display,
        "paths": float(pnl.size),
        "premium_usd": premium,
        "pnl_mean_usd": float(np.mean(pnl)),
        "pnl_std_usd": float(np.std(pnl)),
        "pnl_mean_se_usd": float(np.std(pnl) / math.sqrt(n_eff)),
        "se_basis": (
            "effective sample size of overlapping windows" if overlapping else "independent paths"
        ),
        "effective_paths": n_eff,
        "breakeven_frac_mean": float(np.mean(breakeven)),
        "breakeven_frac_std": float(np.std(breakeven)),
        "percentiles_usd": {
            f"p{q}": float(v)
            for q, v in zip(PERCENTILES, np.percentile(pnl, PERCENTILES), strict=True)
        },
        "cvar95_usd": cvar(pnl, 0.95),
        "cvar99_usd": cvar(pnl, 0.99),
        "trades_mean": float(np.mean(paths.trades)),
        "turnover_coin_mean": float(np.mean(paths.turnover_coin)),
        "turnover_usd_mean": float(np.mean(paths.turnover_usd)),
        "costs_usd_mean": float(np.mean(paths.cost_usd)),
        "funding_usd_mean": float(np.mean(paths.funding_usd)),
        "attribution_usd_mean": attribution,
    }


def summarize_all(result: BacktestResult) -> list[Summary]:
    """:func:`summarize` for every strategy, in the order given."""
    return [summarize(result, s) for s in result.strategies]


def to_json_dict(
    result: BacktestResult, without: BacktestResult | None = None
) -> dict[str, object]:
    """The run's settings and every summary, for ``--json``; with the option hedge on,
    ``option_hedge`` holds its settings, its cost and the summaries ``without`` it."""
    c = result.costs
    extra = {} if without is None else {"option_hedge": option_hedge_dict(result, without)}
    return {
        "paths": result.n_paths,
        "steps": result.steps,
        "seed": result.seed,
        "horizon_years": result.horizon_years,
        "rate": result.rate,
        "carry": result.carry,
        "chunk_paths": result.chunk_paths,
        "costs": {
            "fee_frac": c.fee_frac,
            "spread_frac": c.spread_frac,
            "slippage_frac": c.slippage_frac,
            "funding_per_8h": c.funding_per_8h,
        },
        "strategies": summarize_all(result),
        **extra,
    }


def option_hedge_dict(result: BacktestResult, without: BacktestResult) -> dict[str, object]:
    """The loop's settings, its mean cost per path and the run ``without`` it."""
    spec, paid = result.option_hedge, result.option_hedge_cost_usd
    if spec is None or paid is None:
        raise ValueError("the run had no option hedge to compare")
    return {
        "hard_vega_usd_per_volpt": spec.hard_vega_usd_per_volpt,
        "soft_vega_usd_per_volpt": spec.soft_vega_usd_per_volpt,
        "tenor_days": spec.tenor_days,
        "lot_coin": spec.lot_coin,
        "cost_frac": spec.cost_frac,
        "cost_usd_mean": float(np.mean(paid)),
        "without": {"strategies": summarize_all(without)},
    }


def format_table(result: BacktestResult, without: BacktestResult | None = None) -> str:
    """A fixed-width text report: one block per strategy; with ``without``, the option
    hedge's settings and cost, and each strategy's figures without it."""
    lines = [
        f"{result.n_paths:,} paths x {result.steps} steps over {result.horizon_years:.4g} years, "
        f"seed {result.seed}, carry {result.carry}, cost {result.costs.cost_frac:.6g} of notional"
    ]
    others = [None] * len(result.strategies) if without is None else summarize_all(without)
    if without is not None:
        oh = option_hedge_dict(result, without)
        lines.append(
            f"option hedge: |standardised vega| past {oh['hard_vega_usd_per_volpt']:g} USD/volpt "
            f"back to {oh['soft_vega_usd_per_volpt']:g} with a {oh['tenor_days']:g}-day call, "
            f"{oh['lot_coin']:g} coin lots at {oh['cost_frac']:g} of premium: "
            f"{oh['cost_usd_mean']:.4f} USD per path"
        )
    for s, other in zip(summarize_all(result), others, strict=True):
        pct = s["percentiles_usd"]
        attr = s["attribution_usd_mean"]
        assert isinstance(pct, dict) and isinstance(attr, dict)
        lines += [
            "",
            f"{s['strategy']}",
            f"  P&L USD        mean {s['pnl_mean_usd']:+.4f} (se {s['pnl_mean_se_usd']:.4f}"
            + _se_note(s)
            + f")  std {s['pnl_std_usd']:.4f}",
            "  percentiles    " + "  ".join(f"{k} {v:+.4f}" for k, v in pct.items()),
            f"  CVaR           95% {s['cvar95_usd']:+.4f}  99% {s['cvar99_usd']:+.4f}",
            f"  break-even     {s['breakeven_frac_mean']:.4f} x premium "
            f"(std {s['breakeven_frac_std']:.4f}, premium {s['premium_usd']:.4f} USD)",
            f"  trading        {s['trades_mean']:.2f} trades, turnover "
            f"{s['turnover_coin_mean']:.4f} coin / {s['turnover_usd_mean']:.2f} USD, "
            f"costs {s['costs_usd_mean']:.4f} USD, funding {s['funding_usd_mean']:+.4f} USD",
            _attribution_line(attr),
        ]
        if other is not None:
            lines += _without_lines(other)
    return "\n".join(lines)


def _without_lines(s: Summary) -> list[str]:
    """One strategy's P&L and attribution on the same paths without the option hedge."""
    attr = s["attribution_usd_mean"]
    assert isinstance(attr, dict)
    return [
        "  without option hedge (same paths)",
        f"    P&L USD      mean {s['pnl_mean_usd']:+.4f}  std {s['pnl_std_usd']:.4f}  "
        f"CVaR 95% {s['cvar95_usd']:+.4f}  costs {s['costs_usd_mean']:.4f} USD",
        _attribution_line(attr, "    attribution  "),
    ]


def _attribution_line(attr: dict[str, float], label: str = "  attribution    ") -> str:
    return label + "  ".join(f"{k} {v:+.4f}" for k, v in attr.items())


def _se_note(summary: Summary) -> str:
    """What the standard error counts: nothing to add for independent paths; for overlapping
    CSV windows, the effective sample size it divides by."""
    if summary["se_basis"] == "independent paths":
        return ""
    return (
        f", overlapping windows: effective sample size {summary['effective_paths']:,.0f} "
        f"of {summary['paths']:,.0f}"
    )
