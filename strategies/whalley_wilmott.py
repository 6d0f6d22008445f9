"""Whalley-Wilmott band: the asymptotically optimal no-trade band under proportional costs.

Whalley, A. E. and Wilmott, P. (1997), "An asymptotic analysis of an optimal
hedging model for option pricing with transaction costs", Mathematical Finance
7(3), 307-324. For small costs the utility-optimal hedge (exponential utility,
Hodges & Neuberger 1989; Davis, Panas & Zariphopoulou 1993) keeps the delta
inside a band around the Black-Scholes delta of half-width

    H = ( (3/2) · e^(−r·τ) · λ · S · Γ² / γ )^(1/3)

and trades only to the band's edge. The band widens with cost and with gamma
(the delta moves faster, so each trade buys less time) and narrows with risk
aversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel

from bot.pricing.arrays import FloatArray
from strategies.base import (
    BandEdges,
    HedgeState,
    RiskAversion,
    StateField,
    StrategyParams,
    band_edges,
    band_hedge,
    deviation_coin,
    guarded_hedge,
)

_READS: Final[tuple[StateField, ...]] = (
    "net_delta_coin",
    "hedge_coin",
    "target_delta_coin",
    "gamma_coin_per_usd",
    "spot_usd",
    "cost_frac",
    "rate",
    "tau_years",
)


def whalley_wilmott_half_width_coin(
    *,
    gamma_coin_per_usd: ArrayLike,
    spot_usd: ArrayLike,
    cost_frac: ArrayLike,
    rate: ArrayLike,
    tau_years: ArrayLike,
    risk_aversion_per_usd: float,
) -> FloatArray:
    """Half-width H of the Whalley-Wilmott band, in coin of delta.

    Units: Γ is coin of delta per USD of spot move (strictly coin²/USD, since
    spot is USD per coin), S is USD per coin and γ is per USD, so
    λ·S·Γ²/γ is coin³ and H is coin. Γ = 0 gives H = 0 (hedge every deviation).

    Worked example (a BTC book short about ten at-the-money 30-day options at
    60% vol, each with Γ ≈ 3.9e-5 coin per USD): Γ = −0.0004, S = 60,000 USD,
    λ = 0.0005 (5 bp), γ = 1e-4 per USD, r = 0:
    H³ = 1.5 × 0.0005 × 60,000 × 1.6e-7 / 1e-4 = 0.072 coin³, H ≈ 0.4160 coin.
    With r = 5% and τ = 1 year, H = 0.4160 × e^(−0.05/3) ≈ 0.4091 coin.
    """
    g, s, c, r, t = (
        np.asarray(a, dtype=np.float64)
        for a in (gamma_coin_per_usd, spot_usd, cost_frac, rate, tau_years)
    )
    return np.cbrt(1.5 * np.exp(-r * t) * c * s * (g * g) / risk_aversion_per_usd)


class WhalleyWilmottParams(StrategyParams):
    risk_aversion: RiskAversion


@dataclass(frozen=True, slots=True)
class WhalleyWilmott:
    """Hedge to the edge of a symmetric band of half-width H around the target.

    The deviation is net delta + hedge - target; H is
    :func:`whalley_wilmott_half_width_coin` of the book's gamma. Reads
    ``net_delta_coin``, ``hedge_coin``, ``target_delta_coin``,
    ``gamma_coin_per_usd``, ``spot_usd``, ``cost_frac``, ``rate`` and
    ``tau_years``; an element where any is NaN, inf or outside its domain
    (spot <= 0, cost < 0, tau < 0) keeps its hedge.

    Example: with the numbers of :func:`whalley_wilmott_half_width_coin`
    (H ≈ 0.4160 coin), net delta −1 coin, no hedge and target 0, the deviation
    −1 is below the band and the hedge becomes 1 − 0.4160 = 0.5840 coin.
    """

    name: ClassVar[str] = "whalley_wilmott"
    Params: ClassVar[type[BaseModel]] = WhalleyWilmottParams

    params: WhalleyWilmottParams

    @property
    def reads(self) -> tuple[StateField, ...]:
        """The state fields this kernel looks at."""
        return _READS

    def _half_width(self, state: HedgeState) -> FloatArray:
        return whalley_wilmott_half_width_coin(
            gamma_coin_per_usd=state.gamma_coin_per_usd,
            spot_usd=state.spot_usd,
            cost_frac=state.cost_frac,
            rate=state.rate,
            tau_years=state.tau_years,
            risk_aversion_per_usd=self.params.risk_aversion,
        )

    def band(self, state: HedgeState) -> BandEdges:
        """Target ± H on the total delta."""
        with np.errstate(all="ignore"):
            half_width = self._half_width(state)
            return band_edges(state, state.net_delta_coin, half_width, half_width)

    def target_hedge(self, state: HedgeState) -> FloatArray:
        with np.errstate(all="ignore"):  # unusable elements are masked by guarded_hedge
            half_width = self._half_width(state)
            new = band_hedge(
                state.hedge_coin,
                deviation_coin(state.net_delta_coin, state),
                half_width,
                half_width,
                to_edge=True,
                hedge_ratio=1.0,
            )
        return guarded_hedge(state, _READS, new)
