"""The text and JSON forms of :class:`~bot.app.stress_run.StressReport` (the chart is
:mod:`bot.app.stress_chart`).

Text: the grid summary, P&L at ±10/20/50 % with vol unchanged, the first venue
to liquidate per price move, each named scenario. JSON: the same with
unit-carrying keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.app.stress_run import SUMMARY_MOVES, StressReport
from bot.domain.stress import ScenarioResult, StressGrid


def report_json(report: StressReport) -> dict[str, Any]:
    """The report with unit-carrying keys; grid arrays are [price move][vol shift]."""
    g, book = report.grid, report.book
    i, j = g.worst_cell

    def venue_rows(x: np.ndarray) -> dict[str, Any]:
        return {name: x[:, :, k].tolist() for k, name in enumerate(g.venues)}

    return {
        "valuation": report.start,
        "venues": {
            name: {
                "equity_usd": float(book.equity0_usd[k]),
                "margin_model": book.margin.model_for(name).value,
            }
            for k, name in enumerate(book.venues)
        },
        "grid": {
            "price_moves_frac": g.price_moves_frac.tolist(),
            "vol_shifts": g.vol_shifts.tolist(),
            "vol_shift_mode": "relative" if g.vol_relative else "absolute",
            "pnl_usd": g.pnl_usd.tolist(),
            "venue_pnl_usd": venue_rows(g.venue_pnl_usd),
            "equity_usd": venue_rows(g.equity_usd),
            "maintenance_usd": venue_rows(g.maintenance_usd),
            "first_liquidated": [
                [g.first_venue(a, b) for b in range(g.vol_shifts.size)]
                for a in range(g.price_moves_frac.size)
            ],
            "worst_loss_usd": g.worst_loss_usd,
            "worst_cell": {
                "price_move_frac": float(g.price_moves_frac[i]),
                "vol_shift": float(g.vol_shifts[j]),
                "pnl_usd": float(g.pnl_usd[i, j]),
                "first_liquidated": g.first_venue(i, j),
            },
        },
        "vol_unchanged": [
            {
                "price_move_frac": float(report.sweep.price_moves_frac[a]),
                "pnl_usd": float(report.sweep.pnl_usd[a, 0]),
                "venue_pnl_usd": dict(
                    zip(g.venues, map(float, report.sweep.venue_pnl_usd[a, 0]), strict=True)
                ),
                "first_liquidated": report.sweep.first_venue(a, 0),
            }
            for a in range(report.sweep.price_moves_frac.size)
        ],
        "scenarios": [_scenario_json(s) for s in report.scenarios],
        "breach": {
            "horizon_s": report.breach.horizon_s,
            "paths": report.breach.n_paths,
            "sigma_frac": report.breach.sigma_frac,
            "venues": {
                name: {
                    "liquidation_down_frac": _finite_or_none(report.breach.down_frac[k]),
                    "liquidation_up_frac": _finite_or_none(report.breach.up_frac[k]),
                    "probability": float(report.breach.probability[k]),
                }
                for k, name in enumerate(report.breach.venues)
            },
        },
    }


def _finite_or_none(x: float) -> float | None:
    """A distance for JSON: None for no liquidation in the searched range (inf)."""
    return float(x) if np.isfinite(x) else None


def render_text(report: StressReport) -> str:
    """The human report: grid summary, vol-unchanged P&L, first to liquidate, scenarios,
    breach probabilities."""
    g, book, sweep = report.grid, report.book, report.sweep
    mode = "relative" if g.vol_relative else "absolute"
    lines = [
        f"deltabot stress: [sim] book at {report.start}",
        "venues: "
        + ", ".join(
            f"{v} equity {book.equity0_usd[k]:,.0f} USD ({book.margin.model_for(v)} margin)"
            for k, v in enumerate(book.venues)
        ),
        "",
        f"grid: {g.price_moves_frac.size} price moves {_pct(g.price_moves_frac[0])}.."
        f"{_pct(g.price_moves_frac[-1])} x {g.vol_shifts.size} vol shifts "
        f"{_pct(g.vol_shifts[0])}..{_pct(g.vol_shifts[-1])} ({mode})",
    ]
    i, j = g.worst_cell
    lines.append(
        f"worst cell: price {_pct(g.price_moves_frac[i])}, vol {_pct(g.vol_shifts[j])}: "
        f"P&L {g.pnl_usd[i, j]:,.0f} USD (first to liquidate: {g.first_venue(i, j) or 'none'})"
    )
    lines += ["", "P&L at vol unchanged (USD):"]
    lines.append(f"{'move':>7}{'total':>14}" + "".join(f"{v:>14}" for v in g.venues) + "  first")
    for move in SUMMARY_MOVES:
        a = int(np.argmin(np.abs(sweep.price_moves_frac - move)))
        lines.append(
            f"{_pct(move):>7}{sweep.pnl_usd[a, 0]:>14,.0f}"
            + "".join(f"{x:>14,.0f}" for x in sweep.venue_pnl_usd[a, 0])
            + f"  {sweep.first_venue(a, 0) or '-'}"
        )
    lines += ["", "first venue to liquidate per price move (vol unchanged):"]
    lines += [f"  {text}" for text in _first_runs(sweep)]
    lines += ["", "scenarios:"]
    for s in report.scenarios:
        lines += _scenario_text(s)
    b = report.breach
    lines += [
        "",
        f"breach probability within {b.horizon_s / 3600:g} h ({b.n_paths:,} paths, "
        f"diffusion at {b.sigma_frac:.0%} vol):",
    ]
    lines += [
        f"  {v}: {b.probability[k]:.2%} (liquidation at {_distance(-b.down_frac[k])} / "
        f"{_distance(b.up_frac[k])})"
        for k, v in enumerate(b.venues)
    ]
    return "\n".join(lines)


def _distance(move: float) -> str:
    return _pct(move) if np.isfinite(move) else "none"


def _first_runs(sweep: StressGrid) -> list[str]:
    """'none' / venue per price move, runs of equal answers merged: '-50%..-30%: deribit-a'."""
    runs: list[tuple[float, float, str]] = []
    for a, move in enumerate(sweep.price_moves_frac):
        who = sweep.first_venue(a, 0) or "none"
        if runs and runs[-1][2] == who:
            runs[-1] = (runs[-1][0], float(move), who)
        else:
            runs.append((float(move), float(move), who))
    return [
        f"{_pct(lo)}..{_pct(hi)}: {who}" if lo != hi else f"{_pct(lo)}: {who}"
        for lo, hi, who in runs
    ]


def _scenario_text(s: ScenarioResult) -> list[str]:
    venues = ", ".join(f"{v} {x:,.0f}" for v, x in s.venue_pnl_usd.items())
    delta = ", ".join(f"{u} {x:+.4f}" for u, x in s.delta_coin.items())
    out = [
        f"  {s.name}: P&L {s.pnl_usd:,.0f} USD ({venues})",
        f"    {s.description}",
        f"    lost: {', '.join(s.lost) or 'none'}; "
        f"liquidated: {', '.join(s.liquidated) or 'none'}; remaining delta (coin): {delta}",
    ]
    out += [
        f"    step {st.label}: P&L {st.pnl_usd:,.0f} USD; delta (coin) "
        + ", ".join(f"{u} {x:+.4f}" for u, x in st.delta_coin.items())
        for st in s.steps
        if len(s.steps) > 1
    ]
    out += [f"    note: {n}" for n in s.notes]
    return out


def _scenario_json(s: ScenarioResult) -> dict[str, Any]:
    return {
        "name": s.name,
        "description": s.description,
        "pnl_usd": s.pnl_usd,
        "venue_pnl_usd": dict(s.venue_pnl_usd),
        "liquidated": list(s.liquidated),
        "lost": list(s.lost),
        "delta_coin": dict(s.delta_coin),
        "notes": list(s.notes),
        "steps": [
            {
                "label": st.label,
                "price_move_frac": dict(st.price_move_frac),
                "pnl_usd": st.pnl_usd,
                "venue_pnl_usd": dict(st.venue_pnl_usd),
                "lost": list(st.lost),
                "delta_coin": dict(st.delta_coin),
            }
            for st in s.steps
        ],
    }


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%".replace(".0%", "%")
