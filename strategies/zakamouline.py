"""Zakamouline band: a fitted approximation of the utility-optimal hedge with costs.

Zakamouline, V. I. (2006), "Efficient analytic approximation of the optimal
hedging strategy for a European call option with transaction costs",
Quantitative Finance 6(5), SSRN 889563 (also "Optimal Hedging of Options
with Transaction Costs", EFMA 2005). Fitting the exact Hodges-Neuberger /
Davis-Panas-Zariphopoulou solution, it improves on Whalley-Wilmott (which is
only right as costs go to 0) in two ways:

- the band is centred on a delta computed with a modified volatility
  σ_m² = σ²·(1 + K·sign(Γ)), K ≤ 0: the paper states σ²(1 − K) for an option
  writer and σ²(1 + K) for a holder; here Γ is the book's gamma, negative for
  a writer, so a short-gamma book hedges with a higher vol and a long-gamma
  book with a lower one (σ_m² floored at 0);
- the half-width is H0 + H1: H0 does not depend on the options (it remains
  when Γ = 0) and H1 grows with |Γ|:

      H0 = λ / (γ·S·σ²·τ)
      H1 = 1.12 · λ^0.31 · τ^0.05 · (e^(−rτ)/σ)^0.25 · (|Γ|/γ)^0.5
      K  = −4.76 · λ^0.78 / τ^0.02 · (e^(−rτ)/σ)^0.25 · (γ·S²·|Γ|)^0.15

λ is the proportional cost, γ the absolute risk aversion (per USD), τ in years,
σ and r per year. The constants are the paper's regression fit, as also
implemented (with the same writer/holder signs) in github.com/liamfayle/zakamouline,
after Sinclair, "Volatility Trading", 2nd ed.

The book's delta is not recomputed at σ_m (the kernel has no positions); it is
moved to first order through vanna: δ_m ≈ δ + vanna·(σ_m − σ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, Field

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
    "vanna_coin_per_vol",
    "hedge_coin",
    "target_delta_coin",
    "gamma_coin_per_usd",
    "spot_usd",
    "sigma",
    "tau_years",
    "rate",
    "cost_frac",
)


class ZakamoulineTerms(NamedTuple):
    """The fitted quantities of the band: H0 and H1 in coin of delta, K dimensionless."""

    h0_coin: FloatArray
    h1_coin: FloatArray
    k: FloatArray


def zakamouline_terms(
    *,
    gamma_coin_per_usd: ArrayLike,
    spot_usd: ArrayLike,
    sigma: ArrayLike,
    tau_years: ArrayLike,
    rate: ArrayLike,
    cost_frac: ArrayLike,
    risk_aversion_per_usd: float,
) -> ZakamoulineTerms:
    """H0, H1 and K of Zakamouline (2006); ``tau_years`` must be > 0.

    Units: with Γ in coin per USD of spot (coin²/USD), S in USD per coin and γ
    per USD, λ/(γ·S) and (|Γ|/γ)^0.5 are coin and γ·S²·|Γ| is dimensionless.
    Γ = 0 gives H1 = K = 0; λ = 0 gives H0 = H1 = K = 0.

    Worked example (the setting of Sinclair's illustration, "Volatility Trading"
    p. 105: a one-year option, σ = 0.3, λ = 2%, γ = 1, r = 0; here at the money
    with S = K = 100, so d1 = 0.15 and Γ = φ(0.15)/(S·σ·√τ) = 0.39448/30
    = 0.013149 per option, written short):
    H0 = 0.02 / (1 × 100 × 0.09 × 1) = 0.002222;
    H1 = 1.12 × 0.02^0.31 × 1 × (1/0.3)^0.25 × 0.013149^0.5
       = 1.12 × 0.29739 × 1.35120 × 0.11467 = 0.05161;
    K = −4.76 × 0.02^0.78 × (1/0.3)^0.25 × (1 × 100² × 0.013149)^0.15
      = −4.76 × 0.047294 × 1.35120 × 2.07891 = −0.6324.
    """
    g, s, v, t, r, c = (
        np.asarray(a, dtype=np.float64)
        for a in (gamma_coin_per_usd, spot_usd, sigma, tau_years, rate, cost_frac)
    )
    abs_gamma = np.abs(g)
    disc_over_vol = np.sqrt(np.sqrt(np.exp(-r * t) / v))  # (e^(−rτ)/σ)^0.25
    h0 = c / (risk_aversion_per_usd * s * v * v * t)
    h1 = 1.12 * c**0.31 * t**0.05 * disc_over_vol * np.sqrt(abs_gamma / risk_aversion_per_usd)
    scaled_gamma = risk_aversion_per_usd * s * s * abs_gamma  # γ·S²·|Γ|, dimensionless
    k = -4.76 * c**0.78 / t**0.02 * disc_over_vol * scaled_gamma**0.15
    return ZakamoulineTerms(h0, h1, k)


def modified_sigma(sigma: ArrayLike, k: ArrayLike, gamma_coin_per_usd: ArrayLike) -> FloatArray:
    """σ_m = σ·√max(0, 1 + K·sign(Γ)): raised for short-gamma books, lowered for long ones.

    Example: σ = 0.3, K = −0.6324 and a short book (Γ < 0):
    σ_m = 0.3 × √1.6324 = 0.3833.
    """
    v = np.asarray(sigma, dtype=np.float64)
    return v * np.sqrt(np.maximum(0.0, 1.0 + np.asarray(k) * np.sign(gamma_coin_per_usd)))


class ZakamoulineParams(StrategyParams):
    risk_aversion: RiskAversion
    min_tau_years: float = Field(
        1.0 / 365.0,
        gt=0.0,
        description=(
            "Floor on tau_years in every term, years, > 0: H0 grows as 1/τ and the fit was "
            "made for τ well away from 0, so an expiring or expired book uses this τ instead "
            "of dividing by 0. Default 1/365 (one day)."
        ),
    )


@dataclass(frozen=True, slots=True)
class Zakamouline:
    """Hedge to the edge of a band of half-width H0 + H1 around the vol-adjusted target.

    The deviation is δ_m + hedge − target with δ_m ≈ net delta + vanna·(σ_m − σ),
    using τ = max(tau_years, min_tau_years). Reads ``net_delta_coin``,
    ``vanna_coin_per_vol``, ``hedge_coin``, ``target_delta_coin``,
    ``gamma_coin_per_usd``, ``spot_usd``, ``sigma``, ``tau_years``, ``rate`` and
    ``cost_frac``; an element where any is NaN, inf or outside its domain
    (spot or σ <= 0, τ or cost < 0) keeps its hedge.

    Example (the book of :func:`zakamouline_terms`, short one call: δ = −0.55962,
    vanna = −0.19724 per 1.00 vol): σ_m = 0.38329, so
    δ_m = −0.55962 − 0.19724 × 0.08329 = −0.57605 and H0 + H1 = 0.05383. With a
    hedge of 0.5 the deviation −0.07605 is below the band: the hedge becomes
    0.5 + (0.07605 − 0.05383) = 0.52222. A hedge of 0.55 is inside and kept.
    """

    name: ClassVar[str] = "zakamouline"
    Params: ClassVar[type[BaseModel]] = ZakamoulineParams

    params: ZakamoulineParams

    @property
    def reads(self) -> tuple[StateField, ...]:
        """The state fields this kernel looks at."""
        return _READS

    def _measured(self, state: HedgeState) -> tuple[FloatArray, FloatArray]:
        """δ_m, the delta at the modified vol, and the half-width H0 + H1, coin."""
        terms = zakamouline_terms(
            gamma_coin_per_usd=state.gamma_coin_per_usd,
            spot_usd=state.spot_usd,
            sigma=state.sigma,
            tau_years=np.maximum(state.tau_years, self.params.min_tau_years),
            rate=state.rate,
            cost_frac=state.cost_frac,
            risk_aversion_per_usd=self.params.risk_aversion,
        )
        sigma_m = modified_sigma(state.sigma, terms.k, state.gamma_coin_per_usd)
        delta_m = state.net_delta_coin + state.vanna_coin_per_vol * (sigma_m - state.sigma)
        return delta_m, terms.h0_coin + terms.h1_coin

    def band(self, state: HedgeState) -> BandEdges:
        """±(H0 + H1) around the target, moved by the vol adjustment of the delta."""
        with np.errstate(all="ignore"):
            delta_m, half_width = self._measured(state)
            return band_edges(state, delta_m, half_width, half_width)

    def target_hedge(self, state: HedgeState) -> FloatArray:
        with np.errstate(all="ignore"):  # unusable elements are masked by guarded_hedge
            delta_m, half_width = self._measured(state)
            new = band_hedge(
                state.hedge_coin,
                deviation_coin(delta_m, state),
                half_width,
                half_width,
                to_edge=True,
                hedge_ratio=1.0,
            )
        return guarded_hedge(state, _READS, new)
