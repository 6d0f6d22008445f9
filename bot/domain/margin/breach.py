"""How likely and how soon a liquidation distance is crossed, under Merton jump-diffusion.

The log price follows X_t = μt + σW_t + Σ_{i≤N_t} J_i with N a Poisson process
of rate λ per year and J_i ~ Normal(μ_J, σ_J²) (Merton 1976). The drift makes
the price a martingale, μ = −σ²/2 − λ·(e^(μ_J + σ_J²/2) − 1): no view on
direction. Parameters come from recent returns by a threshold (truncated
variance) estimator: returns beyond ``threshold_sigmas`` diffusive standard
deviations are jumps (Mancini 2009), the rest set σ.

- :func:`breach_probability`: P(the price leaves (1 − down, 1 + up) within the
  horizon), seeded Monte Carlo on a time grid; barriers are shifted inward by
  0.5826·σ·√Δt (Broadie-Glasserman-Kou 1997) so discrete monitoring does not
  miss crossings between steps.
- :func:`expected_breach_time_years`: E[first exit time] of a Brownian motion
  with the model's log drift and total variance σ² + λ(μ_J² + σ_J²), closed
  form (optional stopping on X and on the scale function e^(−2μx/σ²)). Jumps
  overshoot barriers, so this is an approximation for jumpy books.
- :func:`first_passage_down`: the closed-form probability of a diffusion (no
  jumps) ever falling to a barrier within a horizon, the check on the Monte Carlo.

Worked example: σ = 50 %, no jumps, barriers −10 % / +10 %: the log barriers
are −0.10536 and +0.09531, μ = −0.125, the scale function is e^x, so P(up
first) = (1 − 0.9)/(1.1 − 0.9) = 0.5 and E[τ] = (0.5·0.09531 − 0.5·0.10536)/μ
= 0.04020 years (14.7 days); with μ = 0 it would be a·b/σ² = 0.04017 years.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from bot.pricing.arrays import FloatArray, IntArray

BGK_BETA: Final = 0.5826
"""−ζ(1/2)/√(2π): the Broadie-Glasserman-Kou continuity correction."""


@dataclass(frozen=True, slots=True)
class JumpDiffusion:
    """Merton parameters: annual diffusive vol, jumps per year, log-jump mean and std."""

    sigma_frac: float
    jump_rate_per_year: float = 0.0
    jump_mean: float = 0.0
    jump_std: float = 0.0

    @property
    def drift(self) -> float:
        """Log drift per year that makes the price a martingale."""
        kappa = np.expm1(self.jump_mean + 0.5 * self.jump_std**2)
        return float(-0.5 * self.sigma_frac**2 - self.jump_rate_per_year * kappa)

    @property
    def total_vol_frac(self) -> float:
        """Annual vol of log returns including jumps: √(σ² + λ(μ_J² + σ_J²))."""
        jump_var = self.jump_rate_per_year * (self.jump_mean**2 + self.jump_std**2)
        return float(np.sqrt(self.sigma_frac**2 + jump_var))


def calibrate(
    log_returns: ArrayLike, dt_years: float, *, threshold_sigmas: float = 4.0
) -> JumpDiffusion:
    """Threshold estimator: σ from returns within ``threshold_sigmas``·σ̂√dt, the rest jumps.

    Example: 100 daily returns alternating ±1 % plus one of +20 % (dt = 1/365):
    σ = 1 %·√365 = 19.10 %, one jump in 101 days → λ = 3.614 per year,
    μ_J = 0.20, σ_J = 0.
    """
    r = np.asarray(log_returns, dtype=np.float64)
    if r.ndim != 1 or r.size < 2 or not np.isfinite(r).all() or dt_years <= 0:
        raise ValueError("need at least two finite log returns and dt_years > 0")
    keep = np.ones(r.size, dtype=bool)
    for _ in range(50):
        sd = float(np.sqrt(np.mean(r[keep] ** 2)))
        new = np.abs(r) <= threshold_sigmas * sd
        if (new == keep).all():
            break
        keep = new
    jumps = r[~keep]
    return JumpDiffusion(
        sigma_frac=float(sd / np.sqrt(dt_years)),
        jump_rate_per_year=jumps.size / (r.size * dt_years),
        jump_mean=float(jumps.mean()) if jumps.size else 0.0,
        jump_std=float(jumps.std()) if jumps.size > 1 else 0.0,
    )


def breach_probability(
    down_frac: ArrayLike,
    up_frac: ArrayLike,
    model: JumpDiffusion,
    horizon_years: float,
    *,
    n_paths: int = 20_000,
    n_steps: int = 96,
    seed: int = 0,
) -> FloatArray:
    """P(breach within the horizon) per account, from the distances (fractions, >= 0, inf).

    All accounts share one seeded set of paths (common random numbers), so
    their probabilities rank consistently. A distance of 0 gives 1.
    """
    hits = breach_hits(
        down_frac,
        up_frac,
        model,
        horizon_years,
        np.random.default_rng(seed),
        n_paths=n_paths,
        n_steps=n_steps,
    )
    return breach_share(down_frac, up_frac, hits, n_paths)


def breach_hits(
    down_frac: ArrayLike,
    up_frac: ArrayLike,
    model: JumpDiffusion,
    horizon_years: float,
    rng: np.random.Generator,
    *,
    n_paths: int,
    n_steps: int,
) -> IntArray:
    """Per account, how many of ``n_paths`` paths drawn from ``rng`` leave its band.

    The counts of paths drawn in chunks, each from its own stream, add up to a
    run's count whatever the chunks' order (:func:`breach_share` turns it into
    the probability), which is how a long run spreads over workers.
    """
    down = np.asarray(down_frac, dtype=np.float64)
    up = np.asarray(up_frac, dtype=np.float64)
    dt = horizon_years / n_steps
    low_hi = np.empty((n_paths, 2))
    x = np.zeros(n_paths)
    low_hi[:] = 0.0
    diff_sd = model.sigma_frac * np.sqrt(dt)
    for _ in range(n_steps):
        step = model.drift * dt + diff_sd * rng.standard_normal(n_paths)
        if model.jump_rate_per_year > 0:
            k = rng.poisson(model.jump_rate_per_year * dt, n_paths)
            step += k * model.jump_mean + np.sqrt(k) * model.jump_std * rng.standard_normal(n_paths)
        x += step
        np.minimum(low_hi[:, 0], x, out=low_hi[:, 0])
        np.maximum(low_hi[:, 1], x, out=low_hi[:, 1])
    shift = BGK_BETA * diff_sd
    with np.errstate(divide="ignore"):
        lo = np.log1p(-np.minimum(down, 1.0)) + shift
        hi = np.log1p(up) - shift
    hit = (low_hi[:, 0:1] <= lo.reshape(1, -1)) | (low_hi[:, 1:2] >= hi.reshape(1, -1))
    counts: IntArray = hit.sum(axis=0).reshape(down.shape)
    return counts


def breach_share(
    down_frac: ArrayLike, up_frac: ArrayLike, hits: ArrayLike, n_paths: int
) -> FloatArray:
    """``hits`` of ``n_paths`` as a probability per account; 1 for an account in breach now."""
    down = np.asarray(down_frac, dtype=np.float64)
    up = np.asarray(up_frac, dtype=np.float64)
    out: FloatArray = np.where(
        (down == 0) | (up == 0), 1.0, np.asarray(hits, dtype=np.float64) / n_paths
    )
    return out


def expected_breach_time_years(
    down_frac: ArrayLike, up_frac: ArrayLike, model: JumpDiffusion
) -> FloatArray:
    """E[time to breach] in years per account (module docstring); inf if it may never come."""
    mu, var = model.drift, model.total_vol_frac**2
    with np.errstate(all="ignore"):
        a = -np.log1p(-np.minimum(np.asarray(down_frac, dtype=np.float64), 1.0))
        b = np.log1p(np.asarray(up_frac, dtype=np.float64))
        if abs(mu) < 1e-12 * var:
            out = a * b / var
        else:
            c = -2.0 * mu / var

            def scale(z: FloatArray) -> FloatArray:
                """Scale function s(z) = exp(c·z) with s(z) − s(0) computed stably."""
                return np.expm1(c * z)

            p_up = -scale(-a) / (scale(b) - scale(-a))
            both = (p_up * b - (1.0 - p_up) * a) / mu
            only_down = np.where(mu < 0, a / -mu, np.inf)
            only_up = np.where(mu > 0, b / mu, np.inf)
            out = np.where(np.isinf(b), only_down, np.where(np.isinf(a), only_up, both))
        out = np.where(np.isinf(a) & np.isinf(b), np.inf, out)
    result: FloatArray = np.where((a == 0) | (b == 0), 0.0, out)
    return result


def first_passage_down(
    down_frac: float, sigma_frac: float, drift: float, horizon_years: float
) -> float:
    """P(min of X over [0, T] <= ln(1 − down)) for X = drift·t + σW (reflection principle).

    P = N((β − μT)/(σ√T)) + e^(2μβ/σ²)·N((β + μT)/(σ√T)), β = ln(1 − down) < 0.
    Example: down 10 %, σ = 80 %, μ = −0.32, T = 1 day: 1.250 %.
    """
    beta = float(np.log1p(-down_frac))
    sd = sigma_frac * np.sqrt(horizon_years)
    mt = drift * horizon_years
    first = ndtr((beta - mt) / sd)
    second = np.exp(2.0 * drift * beta / sigma_frac**2) * ndtr((beta + mt) / sd)
    return float(first + second)
