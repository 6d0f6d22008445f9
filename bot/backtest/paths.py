"""Price models for the backtester, each simulated one chunk of paths at a time.

A model fills a :class:`PathChunk`: spot on the rebalancing grid
``t_k = k·dt`` (k = 0..steps) for ``n_paths`` paths, drawn from the
``np.random.Generator`` it is given, so a chunk is a function of its seed.
Memory is chunk × (steps + 1) floats; the engine never holds more.

- :class:`GBM`: exact log-normal steps, d ln S = (μ − ½σ²)dt + σ dW.
- :class:`Merton`: GBM plus compound-Poisson log-normal jumps (Merton 1976),
  compensated so that E[S_t] = S_0·e^(μt).
- :class:`Heston`: stochastic variance (Heston 1993), full-truncation Euler
  (Lord, Koekkoek & van Dijk 2010): v⁺ = max(v, 0) in drift and diffusion.
- :class:`bot.backtest.history.Historical`: windows of a recorded price series.

Each model says how many such arrays a chunk holds at its peak
(``path_arrays``), so a run's memory can be known before it starts
(:func:`bot.backtest.engine.chunk_memory_bytes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.pricing.arrays import FloatArray
from bot.pricing.compiled import compiled


@dataclass(frozen=True, slots=True)
class PathChunk:
    """Spot (USD) per path and grid time, shape (paths, steps + 1).

    ``implied_vol`` is the pricing vol per path and time (fraction per year)
    when the model supplies one (a recorded IV column), else None.
    """

    spot_usd: FloatArray
    implied_vol: FloatArray | None = None


class PathModel(Protocol):
    """What the engine needs from a price model."""

    @property
    def spot0_usd(self) -> float:
        """Spot at t = 0, USD per coin."""
        ...

    @property
    def natural_vol(self) -> float | None:
        """The vol to price with when none is given (None: the model has none)."""
        ...

    @property
    def path_arrays(self) -> int:
        """How many (paths × (steps + 1)) float arrays a chunk holds at its peak: the most
        :meth:`simulate` holds at once, or the engine's two of each array it returns."""
        ...

    def available_paths(self, steps: int, dt_years: float) -> int | None:
        """The most paths this model can produce (None: unbounded)."""
        ...

    def simulate(
        self, rng: np.random.Generator, first_path: int, n_paths: int, steps: int, dt_years: float
    ) -> PathChunk:
        """Paths ``first_path`` .. ``first_path + n_paths − 1`` of the run."""
        ...


def _check(name: str, value: float, *, positive: bool = False, non_negative: bool = False) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if non_negative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def _from_log_increments(spot0_usd: float, log_increments: FloatArray) -> PathChunk:
    """Spot paths from log increments (paths x steps), laid out time-major in memory.

    The engine walks the grid one time at a time, so each time's spots are stored
    contiguously (the (paths, steps + 1) array is a transposed view): the engine's
    row-major copy of the whole path matrix is gone, with the same numbers (issue 18).
    """
    log_path = np.empty((log_increments.shape[1] + 1, log_increments.shape[0]))
    _cumulative_sums(np.ascontiguousarray(log_increments), log_path)
    np.exp(log_path, out=log_path)
    log_path *= spot0_usd
    return PathChunk(log_path.T)


_PATH_BLOCK = 64
"""Paths summed together by :func:`_cumulative_sums`: their increments (64 × steps floats)
stay in the cache while their sums are written time by time."""


@compiled("void(float64[:, ::1], float64[:, ::1])")
def _cumulative_sums(increments: FloatArray, out: FloatArray) -> None:
    """``out[k, i]`` = Σ_{j<k} ``increments[i, j]`` (out[0] = 0): numpy's cumsum of the
    transposed increments, adding in the same order, in blocks of paths so each
    increment is read from the cache (numpy's strided pass took ~2x as long).

    Example: increments [[1, 2], [3, 4]] give out [[0, 0], [1, 3], [3, 7]].
    """
    n_paths, steps = increments.shape
    for first in range(0, n_paths, _PATH_BLOCK):
        last = min(first + _PATH_BLOCK, n_paths)
        for i in range(first, last):
            out[0, i] = 0.0
        for k in range(steps):
            for i in range(first, last):
                out[k + 1, i] = out[k, i] + increments[i, k]


@dataclass(frozen=True, slots=True)
class GBM:
    """Geometric Brownian motion: drift and vol as fractions per year.

    Example: S_0 = 100, μ = 5 %, σ = 20 %: E[S_1] = 100·e^0.05 = 105.13 and
    std(ln S_1) = 0.2.
    """

    spot0_usd: float
    vol: float
    drift: float = 0.0

    def __post_init__(self) -> None:
        _check("spot", self.spot0_usd, positive=True)
        _check("vol", self.vol, positive=True)
        _check("drift", self.drift)

    @property
    def natural_vol(self) -> float:
        return self.vol

    @property
    def path_arrays(self) -> int:
        return 2  # the increments and the path; then the path and the engine's copy

    def available_paths(self, steps: int, dt_years: float) -> None:
        return None

    def simulate(
        self, rng: np.random.Generator, first_path: int, n_paths: int, steps: int, dt_years: float
    ) -> PathChunk:
        z = rng.standard_normal((n_paths, steps))
        z *= self.vol * math.sqrt(dt_years)
        z += (self.drift - 0.5 * self.vol**2) * dt_years
        return _from_log_increments(self.spot0_usd, z)


@dataclass(frozen=True, slots=True)
class Merton:
    """Merton (1976) jump-diffusion: GBM plus Poisson jumps with normal log sizes.

    With intensity λ per year and log jump ~ N(m, s²), κ = e^(m + s²/2) − 1 and
    d ln S = (μ − λκ − ½σ²)dt + σ dW + J dN. The natural (pricing) vol is the
    total annual log vol √(σ² + λ(m² + s²)). Example: σ = 0.2, λ = 1,
    m = −0.1, s = 0.1: κ = e^(−0.095) − 1 = −0.0906 and total vol 0.2449.
    """

    spot0_usd: float
    vol: float
    jump_intensity_per_year: float
    jump_mean_log: float
    jump_std_log: float
    drift: float = 0.0

    def __post_init__(self) -> None:
        _check("spot", self.spot0_usd, positive=True)
        _check("vol", self.vol, positive=True)
        _check("jump intensity", self.jump_intensity_per_year, non_negative=True)
        _check("jump mean", self.jump_mean_log)
        _check("jump std", self.jump_std_log, non_negative=True)
        _check("drift", self.drift)

    @property
    def natural_vol(self) -> float:
        jump_var = self.jump_intensity_per_year * (self.jump_mean_log**2 + self.jump_std_log**2)
        return math.sqrt(self.vol**2 + jump_var)

    @property
    def path_arrays(self) -> int:
        return 5  # increments, jump counts and three temporaries of the jump term

    def available_paths(self, steps: int, dt_years: float) -> None:
        return None

    def simulate(
        self, rng: np.random.Generator, first_path: int, n_paths: int, steps: int, dt_years: float
    ) -> PathChunk:
        lam, m, s = self.jump_intensity_per_year, self.jump_mean_log, self.jump_std_log
        kappa = math.expm1(m + 0.5 * s * s)
        z = rng.standard_normal((n_paths, steps))
        z *= self.vol * math.sqrt(dt_years)
        z += (self.drift - lam * kappa - 0.5 * self.vol**2) * dt_years
        # A sum of n normal log-jumps is N(n·m, n·s²): one normal draw per step.
        n_jumps = rng.poisson(lam * dt_years, (n_paths, steps)).astype(np.float64)
        z += n_jumps * m + np.sqrt(n_jumps) * s * rng.standard_normal((n_paths, steps))
        return _from_log_increments(self.spot0_usd, z)


@dataclass(frozen=True, slots=True)
class Heston:
    """Heston (1993) stochastic variance, full-truncation Euler.

    dS/S = μ dt + √v dW₁, dv = κ(θ − v)dt + ξ√v dW₂, corr(dW₁, dW₂) = ρ.
    E[v_t] = θ + (v_0 − θ)e^(−κt), which the scheme reproduces to O(dt).
    Example: v_0 = 0.04, θ = 0.09, κ = 2, t = 1: E[v_1] = 0.09 − 0.05·e^(−2) = 0.0832.
    """

    spot0_usd: float
    v0: float
    kappa: float
    theta: float
    xi: float
    rho: float
    drift: float = 0.0

    def __post_init__(self) -> None:
        _check("spot", self.spot0_usd, positive=True)
        for name in ("v0", "kappa", "theta", "xi"):
            _check(name, getattr(self, name), non_negative=True)
        _check("drift", self.drift)
        if not -1.0 <= self.rho <= 1.0:
            raise ValueError(f"rho must be in [-1, 1], got {self.rho}")

    @property
    def natural_vol(self) -> float:
        return math.sqrt(self.v0)

    @property
    def path_arrays(self) -> int:
        return 2  # the increments and the path; then the path and the engine's copy

    def available_paths(self, steps: int, dt_years: float) -> None:
        return None

    def simulate(
        self, rng: np.random.Generator, first_path: int, n_paths: int, steps: int, dt_years: float
    ) -> PathChunk:
        sqrt_dt = math.sqrt(dt_years)
        rho_bar = math.sqrt(1.0 - self.rho**2)
        v = np.full(n_paths, self.v0)
        log_inc = np.empty((n_paths, steps))
        for k in range(steps):
            z1 = rng.standard_normal(n_paths)
            z2 = self.rho * z1 + rho_bar * rng.standard_normal(n_paths)
            v_pos = np.maximum(v, 0.0)
            sd = np.sqrt(v_pos) * sqrt_dt
            log_inc[:, k] = (self.drift - 0.5 * v_pos) * dt_years + sd * z1
            v += self.kappa * (self.theta - v_pos) * dt_years + self.xi * sd * z2
        return _from_log_increments(self.spot0_usd, log_inc)
