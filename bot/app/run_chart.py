"""The PNG of a ``deltabot demo`` run: one column of three panels per underlying.

Top: index price. Middle: book delta, the hedge sign-flipped (a perfect hedge
overlays the book delta), total delta, the target and the no-trade band
(shaded). Bottom: the hedge position as a step plot, with a marker per order
(^ buy, v sell; hollow when nothing filled). Dotted vertical lines mark the
scripted market events whose text starts with a UTC time. The time axis is
simulated hours since ``RunReport.started_ms``.

Matplotlib is imported inside :func:`write_chart` (it costs ~0.5 s) and drawn
on an Agg canvas directly, never through pyplot, so the daemon's process-wide
backend and figure registry are left alone. The file is written to a temporary
name in the same directory and moved into place, so a crash never leaves a
half-written PNG under the requested name.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any

from bot.app.run_report import RunReport, by_underlying, cycle_count
from bot.domain.timeunits import MS_PER_HOUR, iso_utc
from bot.ops.files import save_png_atomically

_EVENT_TIME = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d{1,3})?\s*(?:UTC|Z)?\b"
)


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


def _band(value: float | None) -> float:
    return float("nan") if value is None else value


def _draw_underlying(axes: Any, report: RunReport, underlying: str, *, legend: bool) -> None:
    """Fill one column (price, delta, hedge) for ``underlying``."""
    ax_px, ax_delta, ax_hedge = axes
    samples = by_underlying(report)[underlying]
    t_h = [(s.ts_ms - report.started_ms) / MS_PER_HOUR for s in samples]
    hedge = [s.hedge_coin for s in samples]

    ax_px.plot(t_h, [s.index_usd for s in samples], color="k", lw=1.0)
    ax_px.set(title=underlying, ylabel="index, USD")

    lower = [_band(s.band_lower_coin) for s in samples]
    upper = [_band(s.band_upper_coin) for s in samples]
    ax_delta.fill_between(t_h, lower, upper, step="post", color="C2", alpha=0.2, label="band")
    ax_delta.step(t_h, [s.target_delta_coin for s in samples], "C2--", where="post", lw=0.8)
    ax_delta.plot(t_h, [s.book_delta_coin for s in samples], "C0", lw=1.0, label="book")
    ax_delta.plot(t_h, [-h for h in hedge], "C1", lw=1.0, label="-hedge")
    ax_delta.plot(t_h, [s.total_delta_coin for s in samples], "C3", lw=1.2, label="total")
    ax_delta.axhline(0.0, color="grey", lw=0.5)
    ax_delta.set(ylabel="delta, coin")
    if legend:
        ax_delta.legend(fontsize="x-small", loc="best")

    ax_hedge.step(t_h, hedge, where="post", color="C1", lw=1.0)
    orders = [o for o in report.orders if o.underlying == underlying]
    for o in orders:
        # Mark the order at the hedge the first cycle at or after it reported.
        after = [s.hedge_coin for s in samples if s.ts_ms >= o.ts_ms]
        y = after[0] if after else hedge[-1]
        filled = o.filled_coin != 0.0
        ax_hedge.plot(
            (o.ts_ms - report.started_ms) / MS_PER_HOUR,
            y,
            "^" if o.side.lower() == "buy" else "v",
            color="C1",
            markerfacecolor="C1" if filled else "none",
            markersize=6,
        )
    ax_hedge.set(ylabel="hedge, coin", xlabel="simulated hours since start")

    for event in report.events:
        ts_ms = event_time_ms(event)
        if ts_ms is None or underlying not in _event_columns(event, list(by_underlying(report))):
            continue
        x_h = (ts_ms - report.started_ms) / MS_PER_HOUR
        for ax in axes:
            ax.axvline(x_h, color="grey", ls=":", lw=1)
        label = _EVENT_TIME.sub("", event).strip()
        ax_px.annotate(label, (x_h, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                       textcoords="offset points", fontsize="x-small", color="grey")  # fmt: skip


def write_chart(report: RunReport, path: str | os.PathLike[str]) -> None:
    """Draw the chart of the module docstring into ``path`` (PNG), atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    groups = by_underlying(report)
    columns = max(1, len(groups))
    fig = Figure(figsize=(6.0 * columns, 9.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, columns, sharex="col", squeeze=False, height_ratios=(1, 1.4, 1))
    if not groups:
        for ax in axes[:, 0]:
            ax.set_axis_off()
        axes[1, 0].text(0.5, 0.5, "no cycles ran", ha="center", va="center")
    for j, underlying in enumerate(groups):
        _draw_underlying(axes[:, j], report, underlying, legend=j == 0)
    fig.suptitle(
        f"deltabot run from {iso_utc(report.started_ms)}, {cycle_count(report)} cycles",
        fontsize="medium",
    )

    save_png_atomically(fig, path)
