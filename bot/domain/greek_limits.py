"""Vega and gamma per expiry bucket, and the desk's soft and hard limits on them (issue 16).

Buckets. Expiries are grouped by days to expiry at the valuation time into
buckets bounded by ``edges_days`` (ascending): with edges (7, 30, 90) the
buckets are ``0-7d``, ``7-30d``, ``30-90d`` and ``90d+`` (an expiry exactly on
an edge falls in the shorter bucket). Perpetuals, futures' and spot's gamma
(the coin numeraire's inverse convexity) sit in ``undated``; ``all`` is the
underlying's whole book.

Standardised vega. Short-dated implied vols move more than long-dated ones,
roughly as 1/sqrt(days), so a vol point of a 7-day option is not a vol point
of a 90-day one. Desks weight vega by sqrt(30 / days to expiry) to a 30-day
reference tenor ("time-weighted" or "normalised" vega: Sinclair, *Volatility
Trading*, 2nd ed., ch. 10; the 30-day tenor is Greeks.live's). This is the
convention used here: each expiry's vega × sqrt(30 / max(days, 1)), summed in
its bucket. The floor of one day keeps an option about to expire from
dominating a bucket that its own gamma already flags.

Worked example (Black-76, F = K = 60,000 USD, σ = 60 %, r = 0, one BTC call):
at 7 days the vega is 33.12 USD per vol point and the standardised vega
33.12 × sqrt(30/7) = 68.56; at 90 days 117.55 and 117.55 × sqrt(30/90) =
67.87. Raw, the 90-day call has 3.5 times the vega; standardised they carry
about the same risk. The 7-day call's gamma is 0.04797 BTC per 1 % move, or
0.04797 × 60,000 = 2,878 USD of delta per 1 % move (``gamma_usd_per_pct``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import numpy as np

from bot.domain.exposure import ExpiryBuckets
from bot.domain.ids import Currency
from bot.domain.position_table import NO_EXPIRY_MS
from bot.domain.timeunits import MS_PER_DAY
from bot.pricing.arrays import FloatArray

STANDARD_DAYS: Final = 30.0
"""The reference tenor of standardised vega, days."""
MIN_DAYS: Final = 1.0
"""Days to expiry are floored here before the sqrt(30 / days) weight."""
ALL: Final = "all"
UNDATED: Final = "undated"


def bucket_labels(edges_days: Sequence[float]) -> tuple[str, ...]:
    """The bucket names of ``edges_days`` (ascending), shortest first, then ``undated``."""
    bounds = [0.0, *edges_days]
    labels = [f"{_days(lo)}-{_days(hi)}d" for lo, hi in itertools.pairwise(bounds)]
    return (*labels, f"{_days(bounds[-1])}d+", UNDATED)


def _days(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True, slots=True)
class BucketView:
    """One underlying's vega and gamma in one bucket (or ``all``).

    ``vega_usd_per_volpt`` is raw, ``vega_std_usd_per_volpt`` standardised to 30 days
    (module docstring); ``gamma_coin_per_pct`` is the change of delta for a +1 % move
    and ``gamma_usd_per_pct`` the same in USD at the index.
    """

    underlying: Currency
    bucket: str
    vega_usd_per_volpt: float
    vega_std_usd_per_volpt: float
    gamma_coin_per_pct: float
    gamma_usd_per_pct: float


def bucket_views(
    buckets: ExpiryBuckets,
    underlyings: Sequence[Currency],
    index_usd: Sequence[float],
    *,
    valuation_ts_ms: int,
    edges_days: Sequence[float],
) -> tuple[BucketView, ...]:
    """Every underlying's views per bucket present in the book, then its ``all`` view.

    ``buckets`` come from :func:`~bot.domain.exposure.value_book` (one row per
    underlying and expiry); ``index_usd`` is aligned with ``underlyings``.
    """
    undated = buckets.expiry_ms == NO_EXPIRY_MS
    days = (buckets.expiry_ms - valuation_ts_ms) / MS_PER_DAY
    weight = np.where(undated, 0.0, np.sqrt(STANDARD_DAYS / np.maximum(days, MIN_DAYS)))
    labels = bucket_labels(edges_days)
    slot = np.where(undated, len(labels) - 1, np.searchsorted(np.asarray(edges_days), days))
    vega_std = buckets.vega_usd_per_volpt * weight
    views: list[BucketView] = []
    for u, name in enumerate(underlyings):
        mine = buckets.underlying_idx == u
        index = float(index_usd[u])
        for b in np.unique(slot[mine]).tolist():
            rows = mine & (slot == b)
            views.append(
                _view(
                    name,
                    labels[b],
                    (buckets.vega_usd_per_volpt[rows], buckets.gamma_coin_per_pct[rows]),
                    vega_std[rows],
                    index,
                )
            )
        views.append(
            _view(
                name,
                ALL,
                (buckets.vega_usd_per_volpt[mine], buckets.gamma_coin_per_pct[mine]),
                vega_std[mine],
                index,
            )
        )
    return tuple(views)


def _view(
    underlying: Currency,
    bucket: str,
    rows: tuple[FloatArray, FloatArray],
    vega_std: FloatArray,
    index_usd: float,
) -> BucketView:
    """Sum the rows' (vega, gamma) pair and their standardised vega into one view."""
    vega, gamma_coin = rows
    gamma = math.fsum(gamma_coin.tolist())
    return BucketView(
        underlying=underlying,
        bucket=bucket,
        vega_usd_per_volpt=math.fsum(vega.tolist()),
        vega_std_usd_per_volpt=math.fsum(vega_std.tolist()),
        gamma_coin_per_pct=gamma,
        gamma_usd_per_pct=gamma * index_usd,
    )


class LimitLevel(StrEnum):
    """Where a view stands against its limit: inside, past soft (alert) or past hard (propose)."""

    INSIDE = "inside"
    SOFT = "soft"
    HARD = "hard"


LEVEL_CODES: Final = MappingProxyType(
    {LimitLevel.INSIDE: 0, LimitLevel.SOFT: 1, LimitLevel.HARD: 2}
)
"""A level as a number (the metrics' gauge)."""


@dataclass(frozen=True, slots=True)
class GreekLimit:
    """Limits on |standardised vega| and |USD gamma| of one underlying's bucket (None: none).

    Both sides are symmetric: a long and a short vega of the same size are the same risk
    for the limit; the proposal optimizer brings the figure back towards zero.
    """

    underlying: Currency
    bucket: str
    soft_vega_usd_per_volpt: float | None = None
    hard_vega_usd_per_volpt: float | None = None
    soft_gamma_usd_per_pct: float | None = None
    hard_gamma_usd_per_pct: float | None = None


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One limit judged against its view; ``why`` names each figure past its limit."""

    limit: GreekLimit
    view: BucketView
    level: LimitLevel
    why: str


def check_limits(
    views: Sequence[BucketView], limits: Sequence[GreekLimit]
) -> tuple[LimitCheck, ...]:
    """Each limit whose underlying and bucket the book has, judged (a bucket the book does
    not hold has nothing in it and is inside every limit)."""
    by_key = {(v.underlying, v.bucket): v for v in views}
    checks = []
    for limit in limits:
        view = by_key.get((limit.underlying, limit.bucket))
        if view is None:
            continue
        vega, gamma = abs(view.vega_std_usd_per_volpt), abs(view.gamma_usd_per_pct)
        hard = [
            *_past("standardised vega", vega, limit.hard_vega_usd_per_volpt, "USD/volpt", "hard"),
            *_past("USD gamma", gamma, limit.hard_gamma_usd_per_pct, "USD/%", "hard"),
        ]
        soft = [
            *_past("standardised vega", vega, limit.soft_vega_usd_per_volpt, "USD/volpt", "soft"),
            *_past("USD gamma", gamma, limit.soft_gamma_usd_per_pct, "USD/%", "soft"),
        ]
        level = LimitLevel.HARD if hard else LimitLevel.SOFT if soft else LimitLevel.INSIDE
        checks.append(LimitCheck(limit, view, level, "; ".join(hard or soft)))
    return tuple(checks)


def _past(what: str, value: float, limit: float | None, unit: str, kind: str) -> list[str]:
    if limit is None or value <= limit:
        return []
    return [f"{what} {value:,.0f} {unit} past its {kind} limit {limit:,.0f}"]
