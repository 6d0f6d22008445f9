"""Implied-vol surfaces fitted to a venue's option chain: one raw-SVI smile per expiry.

The daemon values each held option at the venue's own mark IV. A surface
gives it two things the marks alone do not: a vol for a held option whose
mark IV is missing (an illiquid strike, a venue hiccup), so one bad mark does
not stop the hedge of a whole book; and a check of the venue's smile itself
(fit error in vol points, Gatheral-Jacquier butterfly arbitrage), since a
smile that admits arbitrage is a smile whose marks should not be trusted.

Worked example: marks of 0.60 at every strike of one expiry fit a flat smile,
so a strike between them gets 0.60 too (the tests check it to 1e-6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import numpy as np

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import Instrument
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.snapshot import Mark
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing import SviFit, fit_svi
from bot.pricing.arrays import FloatArray

MIN_POINTS: Final = 5
"""Fewest quoted strikes a smile is fitted from (raw SVI has five parameters)."""


@dataclass(frozen=True, slots=True)
class SmileFit:
    """One expiry's fit, or why there is none (``fit`` None and ``problem`` set)."""

    expiry_ms: int
    points: int
    fit: SviFit | None
    problem: str | None = None
    arbitrage_free: bool = True

    @property
    def rms_volpt(self) -> float:
        return math.nan if self.fit is None else self.fit.rms_volpt


@dataclass(frozen=True, slots=True)
class Surface:
    """The smiles of one underlying on one venue at ``ts_ms``."""

    underlying: Currency
    ts_ms: int
    smiles: Mapping[int, SmileFit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "smiles", MappingProxyType(dict(self.smiles)))

    def vol(self, expiry_ms: int, strike_usd: float, forward_usd: float) -> float:
        """Fitted implied vol (fraction) at a strike of a fitted expiry; NaN otherwise."""
        smile = self.smiles.get(expiry_ms)
        if smile is None or smile.fit is None or not (strike_usd > 0 and forward_usd > 0):
            return math.nan
        return float(smile.fit.implied_vol(math.log(strike_usd / forward_usd)))


def fit_surface(
    instruments: Mapping[Symbol, Instrument],
    marks: Mapping[Symbol, Mark],
    underlying: str,
    now_ms: int,
) -> Surface:
    """Fit a smile to every expiry of ``underlying`` with enough quoted mark IVs.

    Points are (k = ln(K/F), w = IV²·τ) with F the mark's forward; expired
    expiries and marks without a positive finite IV or forward are left out.
    """
    by_expiry: dict[int, list[tuple[float, float]]] = {}
    for symbol, mark in marks.items():
        ins = instruments.get(symbol)
        if ins is None or not ins.is_option or ins.underlying != underlying:
            continue
        assert ins.expiry_ms is not None and ins.strike_usd is not None  # options have both
        iv, forward = mark.mark_iv, mark.underlying_usd
        if ins.expiry_ms <= now_ms or iv is None or not (iv > 0 and forward > 0):
            continue
        if math.isfinite(iv) and math.isfinite(forward):
            by_expiry.setdefault(ins.expiry_ms, []).append((math.log(ins.strike_usd / forward), iv))
    smiles = {e: _fit_one(e, points, now_ms) for e, points in sorted(by_expiry.items())}
    return Surface(Currency(underlying), now_ms, smiles)


def _fit_one(expiry_ms: int, points: list[tuple[float, float]], now_ms: int) -> SmileFit:
    if len(points) < MIN_POINTS:
        return SmileFit(expiry_ms, len(points), None, f"{len(points)} quotes (< {MIN_POINTS})")
    tau_years = (expiry_ms - now_ms) / MS_PER_YEAR
    k = np.array([p[0] for p in points])
    iv = np.array([p[1] for p in points])
    try:
        fit = fit_svi(k, iv * iv * tau_years, tau_years=tau_years)
    except ValueError as exc:
        return SmileFit(expiry_ms, len(points), None, str(exc))
    return SmileFit(expiry_ms, len(points), fit, None, fit.butterfly().arbitrage_free)


def vols_with_surfaces(
    table: PositionTable, surfaces: Mapping[VenueId, Mapping[Currency, Surface]]
) -> FloatArray:
    """The table's mark IVs, with each venue's fitted surface standing in for a held option
    whose mark has no usable IV (where no surface can either, it stays NaN)."""
    vols = table.mark_iv
    missing = np.flatnonzero((table.kind == KindCode.OPTION) & ~(vols > 0))
    if missing.size == 0 or not surfaces:
        return vols
    out = vols.copy()
    for i in missing.tolist():
        venue = table.venues[int(table.venue_idx[i])]
        surface = surfaces.get(venue, {}).get(table.underlyings[int(table.underlying_idx[i])])
        if surface is not None:
            fitted = surface.vol(
                int(table.expiry_ms[i]), float(table.strike_usd[i]), float(table.underlying_usd[i])
            )
            out[i] = fitted if fitted > 0 else math.nan
    return out
