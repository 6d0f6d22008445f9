"""Recorded prices as a path model: strict CSV parsing and overlapping windows.

The CSV has a header ``timestamp,price`` or ``timestamp,price,iv``. A
timestamp is ISO 8601 (``2024-03-01T08:00:00Z``) or Unix epoch seconds;
timestamps strictly increase. ``price`` is USD per coin (> 0); ``iv`` is the
implied vol as a fraction per year (0.65 = 65 %, > 0). Any other shape is an
error naming the line and column, since a silently skipped row would bend
every statistic downstream.

Path p is the window starting at a recorded row: the price sampled on the
grid ``start + k·dt`` (the last price at or before each grid time), rescaled
so every window starts at ``spot0_usd``: the book's strikes stay meaningful
and the returns are the recorded ones. Windows start at consecutive rows (so
they overlap), among the rows that leave a full horizon after them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from bot.backtest.paths import PathChunk
from bot.domain.timeunits import SECONDS_PER_YEAR
from bot.pricing.arrays import FloatArray


class HistoryError(ValueError):
    """A CSV that cannot be used; the message names the file, line and column."""


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """Recorded prices: epoch seconds, USD per coin, and implied vol (or None)."""

    time_s: FloatArray
    price_usd: FloatArray
    implied_vol: FloatArray | None


def _timestamp(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            raise ValueError("ISO timestamp needs a time zone (e.g. Z)") from None
        return stamp.timestamp()


def read_price_csv(path: Path) -> PriceSeries:  # noqa: C901 - one streaming pass that names the line and column of every bad row
    """Parse ``path`` strictly (see the module docstring); raise :class:`HistoryError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise HistoryError(f"{path}: empty file, expected a header 'timestamp,price[,iv]'")
    header = [h.strip().lower() for h in rows[0]]
    if header not in (["timestamp", "price"], ["timestamp", "price", "iv"]):
        raise HistoryError(f"{path} line 1: header must be 'timestamp,price[,iv]', got {rows[0]}")
    columns: list[list[float]] = [[] for _ in header]
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            raise HistoryError(f"{path} line {line}: empty line")
        if len(row) != len(header):
            raise HistoryError(
                f"{path} line {line}: expected {len(header)} columns, got {len(row)}"
            )
        for name, raw, column in zip(header, row, columns, strict=True):
            try:
                value = _timestamp(raw.strip()) if name == "timestamp" else float(raw)
            except ValueError:
                raise HistoryError(
                    f"{path} line {line}, column {name}: {raw!r} is not a "
                    + ("timestamp" if name == "timestamp" else "number")
                ) from None
            if not math.isfinite(value) or (name != "timestamp" and value <= 0):
                raise HistoryError(f"{path} line {line}, column {name}: {raw!r} must be > 0")
            if name == "timestamp" and column and value <= column[-1]:
                raise HistoryError(
                    f"{path} line {line}, column timestamp: {raw!r} does not increase"
                )
            column.append(value)
    if len(columns[0]) < 2:
        raise HistoryError(f"{path}: needs at least 2 data rows, got {len(columns[0])}")
    arrays = [np.asarray(c, dtype=np.float64) for c in columns]
    return PriceSeries(arrays[0], arrays[1], arrays[2] if len(arrays) == 3 else None)


@dataclass(frozen=True, slots=True)
class Historical:
    """Windows of a recorded series, rescaled to start at ``spot0_usd``.

    Example: rows at 0 s, 3600 s, 7200 s priced 50, 55, 60 with a 1-hour grid,
    one step and S_0 = 100: the windows are [100, 110] and [100, 109.09].
    """

    series: PriceSeries
    spot0_usd: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.spot0_usd) and self.spot0_usd > 0):
            raise HistoryError(f"spot must be > 0, got {self.spot0_usd}")

    @property
    def natural_vol(self) -> None:
        return None

    @property
    def path_arrays(self) -> int:
        """Grid times, their lookup indices and the prices (3); with an IV column the vols
        too, and the engine's copies of both (4)."""
        return 3 if self.series.implied_vol is None else 4

    def _starts(self, steps: int, dt_years: float) -> FloatArray:
        t = self.series.time_s
        fits: FloatArray = t[t + steps * dt_years * SECONDS_PER_YEAR <= t[-1] + 1e-6]
        return fits

    def available_paths(self, steps: int, dt_years: float) -> int:
        return int(self._starts(steps, dt_years).size)

    def simulate(
        self, rng: np.random.Generator, first_path: int, n_paths: int, steps: int, dt_years: float
    ) -> PathChunk:
        """Windows ``first_path`` .. of :meth:`available_paths`; ``rng`` is not used."""
        starts = self._starts(steps, dt_years)
        total = starts.size
        if first_path + n_paths > total or total == 0:
            raise HistoryError(
                f"the CSV has {total} windows of {steps} steps, {first_path + n_paths} asked"
            )
        picked = starts[first_path : first_path + n_paths]
        grid_s = picked[:, None] + np.arange(steps + 1) * dt_years * SECONDS_PER_YEAR
        # 1 µs of slack so a grid time that rounds just below a row still reads that row.
        idx = np.searchsorted(self.series.time_s, grid_s + 1e-6, side="right") - 1
        spot = self.series.price_usd[idx]
        spot *= self.spot0_usd / spot[:, :1]
        iv = None if self.series.implied_vol is None else self.series.implied_vol[idx]
        return PathChunk(spot, iv)
