"""The report of a backtest over recorded data: what was replayed, and each strategy's run.

Per strategy: the P&L at the end and its attribution (the terms of
:data:`bot.backtest.chain_run.COMPONENTS`, which add up to it), hedge trades and
turnover, the largest distance of the total delta outside the kernel's band
(and its largest absolute value), and the largest drawdown of the P&L. With
the option-hedge loop, what it traded and paid, and each strategy's figures
over the same snapshots without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.backtest.chain_run import COMPONENTS, ChainBacktest, ChainStrategyResult
from bot.domain.timeunits import iso_utc


def strategy_summary(result: ChainStrategyResult) -> dict[str, Any]:
    """One strategy's figures, USD and coin, as JSON-ready values."""
    final = result.components_usd[-1]
    return {
        "strategy": result.spec.display,
        "pnl_usd": float(result.pnl_usd[-1]),
        "attribution_usd": {name: float(v) for name, v in zip(COMPONENTS, final, strict=True)},
        "hedge_trades": result.trades,
        "turnover_coin": result.turnover_coin,
        "turnover_usd": result.turnover_usd,
        "max_excursion_outside_band_coin": _or_none(result.max_excursion_coin),
        "max_abs_total_delta_coin": result.max_abs_delta_coin,
        "max_drawdown_usd": result.max_drawdown_usd,
    }


def to_json_dict(run: ChainBacktest) -> dict[str, Any]:
    """The whole run as JSON-ready values."""
    market = run.market
    calls = () if run.option_hedge is None else run.option_hedge.columns
    extra = {} if run.option_hedge is None else {"option_hedge": _hedge_dict(run)}
    return {
        "from": iso_utc(int(market.time_ms[0])),
        "to": iso_utc(int(market.time_ms[-1])),
        "snapshots": int(market.time_ms.size),
        "mark": run.mark,
        "fee_frac": run.costs.fee_frac,
        "slippage_frac": run.costs.slippage_frac,
        "legs": [
            {
                "leg": leg.label,
                "expiry": iso_utc(leg.expiry_ms),
                "size_coin": leg.size_coin,
                "settled_at": source or None,
                "option_hedge": j in calls,
            }
            for j, (leg, source) in enumerate(zip(run.legs, market.settled_from, strict=True))
        ],
        "strategies": [strategy_summary(r) for r in run.results],
        **extra,
    }


def _hedge_dict(run: ChainBacktest) -> dict[str, Any]:
    """The option-hedge loop: its limits, the calls, its trades and costs, and the run
    without it."""
    oh = run.option_hedge
    assert oh is not None
    return {
        "limits": [
            {
                "underlying": lim.underlying,
                "hard_vega_usd_per_volpt": lim.hard_vega_usd_per_volpt,
                "soft_vega_usd_per_volpt": lim.soft_vega_usd_per_volpt,
            }
            for lim in oh.settings.limits
        ],
        "lot_coin": oh.settings.lot_coin,
        "fee_frac": oh.settings.fee_frac,
        "calls": [
            {
                "leg": run.legs[j].label,
                "expiry": iso_utc(run.legs[j].expiry_ms),
                "final_size_coin": float(oh.size_coin[-1, i]),
            }
            for i, j in enumerate(oh.columns)
        ],
        "trades": oh.trades,
        "slippage_usd": oh.slippage_usd,
        "fees_usd": oh.fees_usd,
        "without": {"strategies": [strategy_summary(r) for r in oh.without]},
    }


def format_report(run: ChainBacktest) -> str:
    """The run as text: a header, then one block per strategy."""
    data = to_json_dict(run)
    lines = [
        f"recorded backtest: {data['from']} .. {data['to']}, {data['snapshots']} snapshots, "
        f"options marked at the {run.mark}, hedges filled at the recorded bid/ask, "
        f"fee {run.costs.fee_frac:.4%}, slippage {run.costs.slippage_frac:.4%}",
        "book:",
    ]
    for leg in data["legs"]:
        settled = f", settled at the {leg['settled_at']}" if leg["settled_at"] else ""
        role = " (option hedge)" if leg["option_hedge"] else ""
        lines.append(
            f"  {leg['leg']} exp {leg['expiry']} size {leg['size_coin']:+g}{settled}{role}"
        )
    hedge: dict[str, Any] | None = data.get("option_hedge")
    if hedge is not None:
        limits = ", ".join(
            f"{lim['underlying']} past {lim['hard_vega_usd_per_volpt']:,.0f} back to "
            f"{lim['soft_vega_usd_per_volpt']:,.0f}"
            for lim in hedge["limits"]
        )
        lines.append(
            f"option hedge: |standardised vega| USD/volpt {limits}; option trades "
            f"{hedge['trades']} at the recorded bid/ask, slippage "
            f"{hedge['slippage_usd']:,.2f} USD, fees {hedge['fees_usd']:,.2f} USD "
            "(inside each strategy's); final "
            + ", ".join(f"{c['leg']} {c['final_size_coin']:+g}" for c in hedge["calls"])
        )
    others: list[Any] = (
        [None] * len(data["strategies"]) if hedge is None else hedge["without"]["strategies"]
    )
    for summary, other in zip(data["strategies"], others, strict=True):
        lines += _strategy_lines(summary)
        if other is not None:
            lines.append("  without option hedge (same snapshots):")
            lines += ["  " + line for line in _strategy_lines(other)[1:]]
    return "\n".join(lines)


def _strategy_lines(summary: dict[str, Any]) -> list[str]:
    """One strategy's block: a blank line, its P&L, attribution and trading."""
    lines = ["", f"{summary['strategy']}: P&L {summary['pnl_usd']:+,.2f} USD"]
    for name, value in summary["attribution_usd"].items():
        sign = -1.0 if name in ("slippage_usd", "fees_usd") else 1.0
        lines.append(f"  {name.removesuffix('_usd'):<10} {sign * value:+14,.2f} USD")
    excursion = summary["max_excursion_outside_band_coin"]
    band = "no band" if excursion is None else f"{excursion:,.4f} coin outside the band"
    lines.append(
        f"  hedge trades {summary['hedge_trades']}, turnover {summary['turnover_coin']:,.4f}"
        f" coin ({summary['turnover_usd']:,.0f} USD); max delta excursion {band}, "
        f"max |delta| {summary['max_abs_total_delta_coin']:,.4f} coin; "
        f"max drawdown {summary['max_drawdown_usd']:,.2f} USD"
    )
    return lines


def _or_none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
