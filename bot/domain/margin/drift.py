"""Cross-check of our margin model against the venue's reported IM and MM.

The venue's figures are the truth for the present; our model answers
what-if questions (liquidation distance, transfers) only as well as it
reproduces them now. A relative difference beyond the tolerance is an alert:
the model is mis-parameterised (a venue changed its rates) or the book we
priced is not the book the venue holds.

The difference is measured relative to max(|venue|, floor_usd), so a venue
reporting a tiny requirement does not raise alerts over a few dollars.

Worked example: venue MM 10,000 USD, model 10,600 USD, tolerance 5 %,
floor 100 USD: |10,600 − 10,000| / 10,000 = 6 % > 5 %, one alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.margin.standard import AccountMargin


class MarginField(StrEnum):
    INITIAL = "initial"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class MarginFigures:
    """One account's initial and maintenance requirement, in USD."""

    initial_usd: float
    maintenance_usd: float


@dataclass(frozen=True, slots=True)
class DriftAlert:
    """Our model and the venue disagree on one figure of one venue (or one side is missing)."""

    venue: str
    field: MarginField
    model_usd: float | None
    venue_usd: float | None
    diff_frac: float

    def message(self) -> str:
        if self.model_usd is None or self.venue_usd is None:
            side = "model" if self.model_usd is None else "venue"
            return f"{self.venue}: {self.field} margin has no {side} figure"
        return (
            f"{self.venue}: {self.field} margin model {self.model_usd:,.2f} USD vs venue "
            f"{self.venue_usd:,.2f} USD ({self.diff_frac:+.1%})"
        )


def margin_drift(
    model: Mapping[str, MarginFigures],
    venue: Mapping[str, MarginFigures],
    *,
    tolerance_frac: float,
    floor_usd: float,
) -> list[DriftAlert]:
    """Alerts where |model − venue| / max(|venue|, floor_usd) > tolerance, sorted by venue.

    A venue present on one side only is an alert too (diff_frac inf): a
    figure we cannot cross-check is not a figure we can trust.
    """
    if tolerance_frac <= 0 or floor_usd <= 0:
        raise ValueError("tolerance_frac and floor_usd must be > 0")
    alerts: list[DriftAlert] = []
    for name in sorted(set(model) | set(venue)):
        ours, theirs = model.get(name), venue.get(name)
        for fld in MarginField:
            if ours is None or theirs is None:
                got = None if ours is None else _pick(ours, fld)
                ref = None if theirs is None else _pick(theirs, fld)
                alerts.append(DriftAlert(name, fld, got, ref, float("inf")))
                continue
            got, ref = _pick(ours, fld), _pick(theirs, fld)
            diff = (got - ref) / max(abs(ref), floor_usd)
            if abs(diff) > tolerance_frac:
                alerts.append(DriftAlert(name, fld, got, ref, diff))
    return alerts


def model_figures(margin: AccountMargin) -> dict[str, MarginFigures]:
    """Per-venue USD figures of a model result, ready for :func:`margin_drift`."""
    im, mm = margin.initial_total_usd, margin.maintenance_total_usd
    return {v: MarginFigures(float(im[i]), float(mm[i])) for i, v in enumerate(margin.venues)}


def _pick(fig: MarginFigures, fld: MarginField) -> float:
    return fig.initial_usd if fld is MarginField.INITIAL else fig.maintenance_usd
