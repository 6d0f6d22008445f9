"""The PNG of a ``deltabot demo`` run: one column of four panels per underlying.

1. The index price and the book's implied vol (right axis): the market the
   hedger faced, the vol spike included.
2. The total delta (book + hedge) against the no-trade band, at the band's own
   scale: the one thing a trader watches. The band is shaded, samples outside
   it are marked and the time outside is counted in the panel.
3. The levels: the hedge position as a step plot and the book delta
   sign-flipped (a perfect hedge overlays it), with a marker per order
   (▲ buy, ▼ sell; hollow when nothing filled).
4. The cumulative P&L of the accounts in this coin: coin equity at the index,
   minus the first cycle's (the P&L attribution's total, ``docs/architecture.md`` §9).

Every column shares one time axis, simulated hours from ``RunReport.started_ms``
to ``finished_ms``; dotted vertical lines mark the scripted market events inside
the run (events at one instant share one label). One legend under the panels
explains every line and marker; the title names the strategy, its parameters and
cost.

Matplotlib is imported inside :func:`draw_chart` (it costs ~0.5 s) and drawn on
an Agg canvas directly, never through pyplot, so the daemon's process-wide
backend and figure registry are left alone. :func:`write_chart` saves it
atomically (:func:`bot.ops.files.save_png_atomically`).
"""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, datetime
from typing import Any

from bot.app.run_report import (
    OUTSIDE_TOLERANCE_FRAC,
    CycleSample,
    RunReport,
    band_time,
    by_underlying,
    cycle_count,
    outside_band,
)
from bot.domain.timeunits import MS_PER_HOUR, iso_utc
from bot.ops.files import save_png_atomically

_EVENT_TIME = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d{1,3})?\s*(?:UTC|Z)?\b"
)
PANEL_YLABELS = ("index, USD", "total delta, coin", "position, coin", "P&L, USD")
"""The y-label of each panel, top to bottom (tests find the panels by them)."""
_PRICE, _TOTAL, _LEVELS, _PNL = range(4)
_OUTSIDE = "#d62728"
_BAND = "#2ca02c"
_HEDGE = "#ff7f0e"
_BOOK = "#1f77b4"
_VOL = "#9467bd"
_PNL_COLOUR = "#8c564b"


def event_time_ms(event: str) -> int | None:
    """The UTC time an event description starts with, e.g. ``2026-12-01T09:00:00.000Z ...``."""
    m = _EVENT_TIME.match(event)
    if m is None:
        return None
    clock = m.group(2) if m.group(2).count(":") == 2 else m.group(2) + ":00"
    try:
        when = datetime.fromisoformat(f"{m.group(1)}T{clock}").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(when.timestamp() * 1000)


def _event_columns(event: str, underlyings: list[str]) -> list[str]:
    """The underlyings an event names (as a word); an event naming none concerns them all."""
    named = [u for u in underlyings if re.search(rf"\b{re.escape(u)}\b", event)]
    return named or underlyings


def event_labels(report: RunReport, underlying: str) -> dict[int, str]:
    """The events of one column inside the run, one label per instant: the texts without
    their time or the column's name, joined (``vol spike x2.5, jump +5%``)."""
    labels: dict[int, list[str]] = {}
    underlyings = list(by_underlying(report))
    for event in report.events:
        ts_ms = event_time_ms(event)
        if ts_ms is None or not report.started_ms <= ts_ms <= report.finished_ms:
            continue
        if underlying not in _event_columns(event, underlyings):
            continue
        text = re.sub(rf"\b{re.escape(underlying)}\b", "", _EVENT_TIME.sub("", event)).strip()
        labels.setdefault(ts_ms, []).append(" ".join(text.split()))
    return {ts: ", ".join(texts) for ts, texts in sorted(labels.items())}


def _hours(report: RunReport, ts_ms: int) -> float:
    return (ts_ms - report.started_ms) / MS_PER_HOUR


def _edge(value: float | None) -> float:
    return math.nan if value is None else value


def _draw_price(ax: Any, report: RunReport, samples: list[CycleSample], t_h: list[float]) -> None:
    ax.plot(t_h, [s.index_usd for s in samples], color="k", lw=1.0)
    ax.set_ylabel(PANEL_YLABELS[_PRICE])
    ax.yaxis.set_major_formatter("{x:,.0f}")
    vol = ax.twinx()
    vol_pct = [100.0 * s.sigma for s in samples]
    vol.plot(t_h, vol_pct, color=_VOL, lw=1.0)
    finite = [v for v in vol_pct if math.isfinite(v)]
    if finite:  # at least 10 vol points tall, so noise of a tenth of a point stays flat
        mid, half = (max(finite) + min(finite)) / 2, max(5.0, 0.55 * (max(finite) - min(finite)))
        vol.set_ylim(mid - half, mid + half)
    vol.set_ylabel("implied vol, %", color=_VOL)
    vol.tick_params(axis="y", colors=_VOL)


def _total_limits(samples: list[CycleSample]) -> tuple[float, float]:
    """Y-limits that show the band and every total with some room: the band's scale, not
    the book's (an excursion far outside still shows, it widens the axis)."""
    values = [s.total_delta_coin for s in samples] + [s.target_delta_coin for s in samples]
    values += [_edge(s.band_lower_coin) for s in samples] + [
        _edge(s.band_upper_coin) for s in samples
    ]
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (-1.0, 1.0)
    pad = 0.15 * (hi - lo) or 0.1 * max(abs(lo), 1e-6)
    return lo - pad, hi + pad


def _draw_total(ax: Any, report: RunReport, samples: list[CycleSample], t_h: list[float]) -> None:
    lower = [_edge(s.band_lower_coin) for s in samples]
    upper = [_edge(s.band_upper_coin) for s in samples]
    ax.fill_between(t_h, lower, upper, step="post", color=_BAND, alpha=0.2, lw=0)
    ax.step(t_h, [s.target_delta_coin for s in samples], where="post", color=_BAND, ls="--", lw=0.8)
    ax.plot(t_h, [s.total_delta_coin for s in samples], color="k", lw=1.0, marker=".", ms=3)
    out = [(t, s.total_delta_coin) for t, s in zip(t_h, samples, strict=True) if outside_band(s)]
    if out:
        ax.plot(*zip(*out, strict=True), "o", color=_OUTSIDE, ms=5, zorder=3)
    ax.set_ylim(*_total_limits(samples))
    ax.set_ylabel(PANEL_YLABELS[_TOTAL])
    b = band_time(report)[samples[0].underlying]
    widths = b.half_width_range()
    if widths is None:
        text = "no band: the strategy trades on time"
    else:
        lo, _, hi = widths
        half = f"±{lo:.3g}" if hi - lo < 5e-5 else f"±{lo:.3g}..{hi:.3g}"
        text = (
            f"band {half} coin; outside {b.outside_ms / MS_PER_HOUR:.2f} h of "
            f"{b.span_ms / MS_PER_HOUR:.2f} h ({b.outside_cycles} of {b.cycles} cycles)"
        )
    ax.text(
        0.01,
        0.03,
        text,
        transform=ax.transAxes,
        fontsize="x-small",
        va="bottom",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.8", "alpha": 0.85},
    )


def _draw_levels(ax: Any, report: RunReport, samples: list[CycleSample], t_h: list[float]) -> None:
    hedge = [s.hedge_coin for s in samples]
    ax.plot(t_h, [-s.book_delta_coin for s in samples], color=_BOOK, ls="--", lw=1.0)
    ax.step(t_h, hedge, where="post", color=_HEDGE, lw=1.2)
    for o in (o for o in report.orders if o.underlying == samples[0].underlying):
        # Mark the order at the hedge the first cycle at or after it reported.
        after = [s.hedge_coin for s in samples if s.ts_ms >= o.ts_ms]
        filled = o.filled_coin != 0.0
        ax.plot(
            _hours(report, o.ts_ms),
            after[0] if after else hedge[-1],
            "^" if o.side.lower() == "buy" else "v",
            color=_HEDGE,
            markerfacecolor=_HEDGE if filled else "white",
            markeredgecolor="k",
            markersize=7,
            zorder=3,
        )
    ax.set_ylabel(PANEL_YLABELS[_LEVELS])


def _draw_pnl(ax: Any, samples: list[CycleSample], t_h: list[float]) -> None:
    first = samples[0].equity_usd
    ax.plot(t_h, [s.equity_usd - first for s in samples], color=_PNL_COLOUR, lw=1.0)
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_ylabel(PANEL_YLABELS[_PNL])
    ax.yaxis.set_major_formatter("{x:,.0f}")


def _draw_events(axes: Any, report: RunReport, underlying: str) -> None:
    """A dotted line per event instant on every panel and its label on the price panel,
    stacked downwards when instants are closer than a tenth of the run."""
    span_h = max(_hours(report, report.finished_ms), 1e-9)
    last_x, row = -math.inf, 0
    for ts_ms, label in event_labels(report, underlying).items():
        x_h = _hours(report, ts_ms)
        row = row + 1 if x_h - last_x < 0.1 * span_h else 0
        last_x = x_h
        for ax in axes:
            ax.axvline(x_h, color="grey", ls=":", lw=1)
        right = x_h > 0.6 * span_h
        axes[_PRICE].annotate(
            label,
            (x_h, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3 if right else 3, -4 - 11 * row),
            textcoords="offset points",
            ha="right" if right else "left",
            va="top",
            fontsize="x-small",
            color="0.25",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )


def _legend_handles() -> list[Any]:
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    return [  # five columns filled top to bottom: market, band, levels, orders, P&L
        Line2D([], [], color="k", label="index price (left)"),
        Line2D([], [], color=_VOL, label="book implied vol (right)"),
        Line2D([], [], color="grey", ls=":", label="market event"),
        Line2D([], [], color="k", marker=".", label="total delta = book + hedge"),
        Patch(color=_BAND, alpha=0.2, label="no-trade band"),
        Line2D([], [], color=_BAND, ls="--", label="target"),
        Line2D(
            [],
            [],
            color=_OUTSIDE,
            marker="o",
            ls="",
            label=f"total outside the band (> {OUTSIDE_TOLERANCE_FRAC:.0%})",
        ),
        Line2D([], [], color=_HEDGE, label="hedge position"),
        Line2D([], [], color=_BOOK, ls="--", label="−book delta (a perfect hedge)"),
        Line2D([], [], color=_HEDGE, marker="^", mec="k", ls="", label="buy order (filled)"),
        Line2D([], [], color=_HEDGE, marker="v", mec="k", ls="", label="sell order (filled)"),
        Line2D(
            [],
            [],
            color=_HEDGE,
            marker="^",
            mfc="white",
            mec="k",
            ls="",
            label="order, nothing filled",
        ),
        Line2D([], [], color=_PNL_COLOUR, label="P&L: equity (coin at the index + USDT)"),
    ]


def draw_chart(report: RunReport) -> Any:
    """The figure of the module docstring (a matplotlib ``Figure`` on an Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    groups = by_underlying(report)
    columns = max(1, len(groups))
    fig = Figure(figsize=(6.5 * columns, 12.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(4, columns, sharex=True, squeeze=False, height_ratios=(1, 1.3, 1, 0.8))
    if not groups:
        for ax in axes[:, 0]:
            ax.set_axis_off()
        axes[1, 0].text(0.5, 0.5, "no cycles ran", ha="center", va="center")
    for j, (underlying, samples) in enumerate(groups.items()):
        column = axes[:, j]
        t_h = [_hours(report, s.ts_ms) for s in samples]
        _draw_price(column[_PRICE], report, samples, t_h)
        column[_PRICE].set_title(underlying, fontweight="bold")
        _draw_total(column[_TOTAL], report, samples, t_h)
        _draw_levels(column[_LEVELS], report, samples, t_h)
        _draw_pnl(column[_PNL], samples, t_h)
        _draw_events(column, report, underlying)
        for ax in column:
            ax.grid(True, color="0.92", lw=0.6)
    span_h = _hours(report, report.finished_ms)
    for ax in axes[-1, :]:
        ax.set_xlim(0.0, max(span_h, 1e-3))
        ax.set_xlabel(f"simulated hours since {iso_utc(report.started_ms)}")
    fig.legend(
        handles=_legend_handles(),
        loc="outside lower center",
        ncols=5,
        fontsize="small",
        frameon=False,
    )
    strategy = f"strategy {report.strategy}" if report.strategy else "deltabot demo"
    fig.suptitle(
        f"deltabot demo: {strategy}\n{iso_utc(report.started_ms)} to "
        f"{iso_utc(report.finished_ms)} (simulated), {cycle_count(report)} hedge cycles",
        fontsize="medium",
    )
    return fig


def write_chart(report: RunReport, path: str | os.PathLike[str]) -> None:
    """Draw :func:`draw_chart` into ``path`` (PNG), atomically and readable by all."""
    save_png_atomically(draw_chart(report), path)
