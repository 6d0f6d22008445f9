"""SVI implied-volatility smiles for the simulated market.

The sim quotes each expiry from a raw SVI slice whose parameters come from
the SSVI surface of Gatheral & Jacquier, "Arbitrage-free SVI volatility
surfaces" (Quantitative Finance 14(1), 2014): the ATM total variance θ is an
input (it carries the vol regime), ρ sets the skew and φ the curvature, and
the slice is free of butterfly arbitrage when θφ(1 + |ρ|) ≤ 4 (their Thm 4.2).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from bot.pricing import SviParams
from bot.pricing.arrays import FloatArray


def ssvi_slice(theta: float, rho: float, phi: float) -> SviParams:
    """Raw SVI parameters of the SSVI slice with ATM total variance ``theta``.

    Mapping of Gatheral & Jacquier (2014), Lemma 3.3: a = θ/2·(1 − ρ²), b = θφ/2,
    m = −ρ/φ, σ = √(1 − ρ²)/φ; the slice's ATM total variance is exactly θ.
    The result is evaluated by :class:`bot.pricing.SviParams`.

    Worked example: θ=0.04, ρ=−0.5, φ=5 give a=0.015, b=0.1, m=0.1, σ=0.173205;
    w(0.1) = 0.015 + 0.1·0.173205 = 0.0323205, which equals the SSVI form
    θ/2·(1 + ρφk + √((φk + ρ)² + 1 − ρ²)) at k=0.1.
    """
    if not (math.isfinite(theta) and theta > 0):
        raise ValueError(f"ssvi_slice: theta must be a positive total variance, got {theta!r}")
    if not (math.isfinite(rho) and -1 < rho < 1):
        raise ValueError(f"ssvi_slice: rho must lie in (-1, 1), got {rho!r}")
    if not (math.isfinite(phi) and phi > 0):
        raise ValueError(f"ssvi_slice: phi must be positive, got {phi!r}")
    return SviParams(
        a=0.5 * theta * (1.0 - rho * rho),
        b=0.5 * theta * phi,
        rho=rho,
        m=-rho / phi,
        sigma=math.sqrt(1.0 - rho * rho) / phi,
    )


def smile_vols(
    atm_total_variance: float, tau_years: float, rho: float, eta: float, log_moneyness: ArrayLike
) -> FloatArray:
    """Implied vols (fractions) of one expiry from the SSVI power law φ = η/√θ.

    The curvature φ falls as θ grows, so short expiries smile more, as quoted
    crypto surfaces do; η is capped so the slice stays butterfly-free.
    """
    theta = atm_total_variance
    eta_max = 4.0 / ((1.0 + abs(rho)) * math.sqrt(theta))
    phi = min(eta, eta_max) / math.sqrt(theta)
    w = ssvi_slice(theta, rho, phi).total_variance(log_moneyness)
    return np.sqrt(w / tau_years)
