"""Raw SVI smile of one expiry: fit, evaluation and the butterfly-arbitrage check.

Raw SVI (Gatheral 2004) writes total implied variance w = σ_imp²·τ against
log-moneyness k = ln(K/F) as

    w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)),

with b >= 0, |ρ| < 1, σ > 0 and a + b·σ·√(1 − ρ²) >= 0 (the smallest w is not
negative). The fit seeds (m, σ) from a grid on which the other three
parameters solve a linear least-squares problem (the quasi-explicit idea of
Zeliade Systems, 2009), then polishes all five with
``scipy.optimize.least_squares`` under box bounds. Parametrising by the
minimum variance v = a + b·σ·√(1 − ρ²) instead of a turns every constraint
into a bound.

No butterfly arbitrage means a non-negative risk-neutral density, which for a
smile w(k) is Gatheral & Jacquier's (Quantitative Finance 14(1), 2014, §2.2)

    g(k) = (1 − k·w'/(2w))² − (w'²/4)·(1/w + 1/4) + w''/2 >= 0.

Their Example 3.1 (from Axel Vogt), a = −0.0410, b = 0.1331, ρ = 0.3060,
m = 0.3586, σ = 0.4153 at τ = 1, satisfies every parameter constraint yet has
a negative density: on the default grid g < 0 for k in [0.645, 1.255], worst
−0.0329 at k = 0.88. The check is not implied by the parameter constraints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bot.pricing.arrays import FloatArray

_MIN_POINTS = 5
_RHO_BOUND = 1.0 - 1e-9
_SIGMA_FLOOR = 1e-8
_VOLPT = 100.0
DEFAULT_K_GRID: FloatArray = np.linspace(-4.0, 4.0, 1601)
"""Log-moneyness grid of the butterfly check: strikes from F·e^−4 to F·e^4, step 0.005."""
DEFAULT_K_GRID.setflags(write=False)


@dataclass(frozen=True, slots=True)
class ButterflyCheck:
    """Result of g(k) >= 0 on a grid; ``failing_k`` spans the grid points where g < 0."""

    arbitrage_free: bool
    worst_g: float
    worst_k: float
    failing_k: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class SviParams:
    """Raw SVI parameters of total variance (dimensionless; k = ln(K/F))."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "rho", "m", "sigma"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"SVI {name} must be finite, got {getattr(self, name)!r}")
        if self.b < 0.0:
            raise ValueError(f"SVI b must be >= 0, got {self.b}")
        if not abs(self.rho) < 1.0:
            raise ValueError(f"SVI rho must lie in (-1, 1), got {self.rho}")
        if not self.sigma > 0.0:
            raise ValueError(f"SVI sigma must be > 0, got {self.sigma}")
        floor = self.b * self.sigma * math.sqrt(1.0 - self.rho**2)
        if self.a + floor < -4.0 * math.ulp(abs(self.a) + floor):  # a rounding ulp is fine
            raise ValueError(
                f"SVI minimum variance a + b·sigma·sqrt(1 - rho²) = {self.a + floor:.3g} < 0"
            )

    def total_variance(self, k: ArrayLike) -> FloatArray:
        """w(k), total implied variance (σ_imp²·τ) at log-moneyness k = ln(K/F)."""
        u = np.asarray(k, dtype=np.float64) - self.m
        return self.a + self.b * (self.rho * u + np.sqrt(u * u + self.sigma**2))

    def density_g(self, k: ArrayLike) -> FloatArray:
        """Gatheral-Jacquier g(k): the density is g(k)·φ(d2)/√w, so g >= 0 means no butterfly."""
        kk = np.asarray(k, dtype=np.float64)
        u = kk - self.m
        root = np.sqrt(u * u + self.sigma**2)
        w = self.a + self.b * (self.rho * u + root)
        w1 = self.b * (self.rho + u / root)
        w2 = self.b * self.sigma**2 / root**3
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (1.0 - kk * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
        return np.asarray(g, dtype=np.float64)

    def butterfly(self, k: ArrayLike = DEFAULT_K_GRID) -> ButterflyCheck:
        """Check g(k) >= 0 on the grid ``k`` (log-moneyness); a non-finite g counts as failing."""
        grid = np.asarray(k, dtype=np.float64).reshape(-1)
        if grid.size == 0:
            raise ValueError("butterfly check needs a non-empty k grid")
        g = np.nan_to_num(self.density_g(grid), nan=-np.inf)
        worst = int(np.argmin(g))
        bad = np.flatnonzero(g < 0.0)
        span = (float(grid[bad[0]]), float(grid[bad[-1]])) if bad.size else None
        return ButterflyCheck(bad.size == 0, float(g[worst]), float(grid[worst]), span)


@dataclass(frozen=True, slots=True)
class SviFit:
    """One expiry's fitted smile; residuals are model minus market in vol points (1 = 1 %)."""

    params: SviParams
    tau_years: float
    rms_volpt: float
    max_volpt: float

    def total_variance(self, k: ArrayLike) -> FloatArray:
        """w(k), total implied variance at log-moneyness k = ln(K/F)."""
        return self.params.total_variance(k)

    def implied_vol(self, k: ArrayLike) -> FloatArray:
        """√(w(k)/τ), the implied volatility as a fraction per year."""
        return np.asarray(np.sqrt(self.total_variance(k) / self.tau_years), dtype=np.float64)

    def butterfly(self, k: ArrayLike = DEFAULT_K_GRID) -> ButterflyCheck:
        """Gatheral-Jacquier butterfly check of the fitted smile on the grid ``k``."""
        return self.params.butterfly(k)


def fit_svi(
    log_moneyness: ArrayLike,
    total_variance: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    tau_years: float,
) -> SviFit:
    """Fit raw SVI to one expiry by weighted least squares in total variance.

    ``log_moneyness`` is k = ln(K/F); ``total_variance`` is σ_imp²·τ with τ =
    ``tau_years``; ``weights`` (default 1) multiply the squared residuals, e.g.
    vega or inverse bid-ask width. Raises ValueError naming the problem for
    mismatched lengths, fewer than 5 points, non-finite values, negative
    variance or weights, or ``tau_years`` <= 0.
    """
    # ~0.3 s of import (the LP solvers and shgo come with it), paid by the fit, not by
    # every process that prices: the backtest's workers and every command import pricing.
    from scipy.optimize import least_squares  # noqa: PLC0415

    k, w, wt = _validated(log_moneyness, total_variance, weights, tau_years)
    root_wt = np.sqrt(wt)
    span = float(k.max() - k.min())
    scale = max(span, 0.1)
    lower = np.array([0.0, 0.0, -_RHO_BOUND, k.min() - 2.0 * scale, _SIGMA_FLOOR])
    upper = np.array([np.inf, np.inf, _RHO_BOUND, k.max() + 2.0 * scale, 10.0 * scale])

    def residual(theta: FloatArray) -> FloatArray:
        return root_wt * (_variance(theta, k) - w)

    def jacobian(theta: FloatArray) -> FloatArray:
        return root_wt[:, None] * _variance_gradient(theta, k)

    best = None
    for seed in _seeds(k, w, wt, scale):
        start = np.clip(seed, lower, upper)
        run = least_squares(
            residual, start, jac=jacobian, bounds=(lower, upper), x_scale="jac",
            ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=2000,
        )  # fmt: skip
        if best is None or run.cost < best.cost:
            best = run
    assert best is not None  # _seeds always yields
    v, b, rho, m, sigma = (float(p) for p in best.x)
    params = SviParams(v - b * sigma * math.sqrt(1.0 - rho * rho), b, rho, m, sigma)
    fitted = np.sqrt(np.maximum(params.total_variance(k), 0.0) / tau_years)
    resid = _VOLPT * (fitted - np.sqrt(w / tau_years))
    return SviFit(
        params, tau_years, float(np.sqrt(np.mean(resid * resid))), float(np.abs(resid).max())
    )


def _validated(
    log_moneyness: ArrayLike, total_variance: ArrayLike, weights: ArrayLike | None, tau: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    k = np.asarray(log_moneyness, dtype=np.float64).reshape(-1)
    w = np.asarray(total_variance, dtype=np.float64).reshape(-1)
    wt = np.ones_like(k) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if not (math.isfinite(tau) and tau > 0.0):
        raise ValueError(f"tau_years must be a positive number, got {tau!r}")
    if not k.size == w.size == wt.size:
        raise ValueError(
            f"length mismatch: {k.size} log_moneyness, {w.size} total_variance, {wt.size} weights"
        )
    if k.size < _MIN_POINTS:
        raise ValueError(f"SVI needs at least {_MIN_POINTS} points, got {k.size}")
    for name, arr in (("log_moneyness", k), ("total_variance", w), ("weights", wt)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} has non-finite values")
    if (w < 0.0).any():
        raise ValueError("total_variance has negative values")
    if (wt < 0.0).any() or not (wt > 0.0).any():
        raise ValueError("weights must be >= 0 with at least one > 0")
    return k, w, wt


def _variance(theta: FloatArray, k: FloatArray) -> FloatArray:
    """w(k) for θ = (v, b, ρ, m, σ), v the minimum variance a + bσ√(1−ρ²)."""
    v, b, rho, m, sigma = theta
    u = k - m
    return np.asarray(
        v + b * (rho * u + np.sqrt(u * u + sigma * sigma) - sigma * math.sqrt(1.0 - rho * rho)),
        dtype=np.float64,
    )


def _variance_gradient(theta: FloatArray, k: FloatArray) -> FloatArray:
    """∂w/∂θ, one row per k."""
    _, b, rho, m, sigma = theta
    u = k - m
    root = np.sqrt(u * u + sigma * sigma)
    q = math.sqrt(1.0 - rho * rho)
    return np.column_stack(
        (
            np.ones_like(k),
            rho * u + root - sigma * q,
            b * (u + sigma * rho / q),
            -b * (rho + u / root),
            b * (sigma / root - q),
        )
    )


def _seeds(k: FloatArray, w: FloatArray, wt: FloatArray, scale: float) -> list[FloatArray]:
    """Best three starting points θ from a grid over (m, σ), each solved linearly.

    For fixed (m, σ), w = a + d·y + c·√(y² + 1) with y = (k − m)/σ is linear in
    (a, d, c) = (a, bσρ, bσ): one weighted least-squares solve per grid point.
    """
    ms = np.quantile(k, np.linspace(0.0, 1.0, 9))
    sigmas = scale * np.geomspace(0.02, 2.0, 9)
    mm, ss = (g.reshape(-1) for g in np.meshgrid(ms, sigmas))
    y = (k[None, :] - mm[:, None]) / ss[:, None]
    design = np.stack((np.ones_like(y), y, np.sqrt(y * y + 1.0)), axis=-1)  # (G, n, 3)
    weighted = design * wt[None, :, None]
    normal = np.einsum("gni,gnj->gij", weighted, design)
    coef = np.einsum("gij,gj->gi", np.linalg.pinv(normal), np.einsum("gni,n->gi", weighted, w))
    err = np.einsum("gn,n->g", (np.einsum("gni,gi->gn", design, coef) - w) ** 2, wt)
    seeds = []
    for g in np.argsort(err)[:3]:
        a, d, c = coef[g]
        b = max(c, 1e-8) / ss[g]
        rho = float(np.clip(d / max(c, 1e-300), -0.99, 0.99))
        v = a + b * ss[g] * math.sqrt(1.0 - rho * rho)
        seeds.append(np.array([max(v, 0.0), b, rho, mm[g], ss[g]]))
    return seeds
