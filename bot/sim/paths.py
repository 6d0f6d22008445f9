"""One underlying's index path on a fixed sim-time grid, generated lazily in blocks.

Each block of ``BLOCK_STEPS`` grid steps draws its random numbers from its own
seed ``(seed, underlying number, block number)``, so the path is a function of
the seed alone: polling every second or once a day reads the same prices.

Dynamics per step of ``dt`` years (Merton 1976 jump-diffusion with a regime):
    d ln S = (μ − λκ − ½σ_t²)dt + σ_t √dt Z + Σ jumps,  κ = e^{m_J + s_J²/2} − 1
with σ_t = σ·(1 + x_t) and x_t an excess that jumps up at vol spikes and
decays with a half-life. The −λκ compensator keeps E[S_t] = S_0 e^{μt}.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

from bot.domain.timeunits import MS_PER_YEAR

BLOCK_STEPS = 3600


@dataclass(frozen=True, slots=True)
class PathSpec:
    """Index dynamics of one underlying; rates per year, jumps in log terms."""

    spot_usd: float
    vol: float
    drift: float = 0.0
    jump_intensity_per_year: float = 0.0
    jump_mean_log: float = 0.0
    jump_std_log: float = 0.0
    spike_intensity_per_year: float = 0.0
    spike_multiplier: float = 2.0
    spike_half_life_ms: int = 24 * 3600 * 1000

    def __post_init__(self) -> None:
        positive = ("spot_usd", "vol", "spike_multiplier", "spike_half_life_ms")
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"PathSpec.{name} must be a positive number, got {value!r}")
        for name in ("jump_intensity_per_year", "jump_std_log", "spike_intensity_per_year"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"PathSpec.{name} must be a non-negative number, got {value!r}")
        for name in ("drift", "jump_mean_log"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"PathSpec.{name} must be finite")

    @property
    def jump_variance_per_year(self) -> float:
        """Annual variance the jumps add: λ·(m_J² + s_J²)."""
        return self.jump_intensity_per_year * (self.jump_mean_log**2 + self.jump_std_log**2)


@dataclass(frozen=True, slots=True)
class ScriptedPath:
    """An index that follows given points exactly: ``price_usd[i]`` from ``ts_ms[i]`` on.

    Replaying one recorded or backtested path through the emulator needs the
    market to show those prices and nothing else, so there is no noise, jump or
    regime here; the index is constant between points and undefined before the
    first one. Example: points (0, 100.0), (1000, 101.0) read 100.0 at 999 ms
    and 101.0 from 1000 ms on.
    """

    ts_ms: tuple[int, ...]
    price_usd: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.ts_ms or len(self.ts_ms) != len(self.price_usd):
            raise ValueError(
                f"ScriptedPath needs as many times as prices, at least one "
                f"(got {len(self.ts_ms)} times, {len(self.price_usd)} prices)"
            )
        if any(b <= a for a, b in zip(self.ts_ms, self.ts_ms[1:], strict=False)):
            raise ValueError("ScriptedPath.ts_ms must be strictly increasing")
        for price in self.price_usd:
            if not (math.isfinite(price) and price > 0):
                raise ValueError(f"ScriptedPath prices must be positive numbers, got {price!r}")

    @classmethod
    def from_points(cls, points: Iterable[tuple[int, float]]) -> ScriptedPath:
        """From (ts_ms, price USD) pairs in time order."""
        pairs = [(int(ts), float(price)) for ts, price in points]
        return cls(tuple(ts for ts, _ in pairs), tuple(price for _, price in pairs))

    def index_usd(self, ts_ms: int) -> float:
        """The price of the last point at or before ``ts_ms`` (ValueError before the first)."""
        i = bisect_right(self.ts_ms, ts_ms) - 1
        if i < 0:
            raise ValueError(f"ScriptedPath has no price before {self.ts_ms[0]} (asked {ts_ms})")
        return self.price_usd[i]


class IndexPath:
    """Lazily generated grid path of ln(index) and the vol-regime excess.

    ``jumps`` and ``spikes`` map a grid step to a scripted log-jump and a scripted
    added excess (a spike ×M adds M − 1).
    """

    def __init__(
        self,
        spec: PathSpec,
        *,
        seed: int,
        stream: int,
        step_ms: int,
        jumps: dict[int, float],
        spikes: dict[int, float],
    ) -> None:
        self.spec = spec
        self._seed = seed
        self._stream = stream
        self._dt = step_ms / MS_PER_YEAR
        self._decay = 0.5 ** (step_ms / spec.spike_half_life_ms)
        self._jumps = jumps
        self._spikes = spikes
        self._block = -1
        self._log_s: NDArray[np.float64] = np.array([math.log(spec.spot_usd)])
        self._excess: NDArray[np.float64] = np.zeros(1)

    @property
    def decay_per_ms(self) -> float:
        """ln 2 / half-life: the regime excess decays as e^{−κ·ms}."""
        return math.log(2.0) / self.spec.spike_half_life_ms

    def at(self, step: int) -> tuple[float, float]:
        """(index USD, regime excess x) at grid ``step``; steps only move forward by blocks."""
        block = max(0, (step - 1) // BLOCK_STEPS)
        if block < self._block:
            raise ValueError(f"grid step {step} is in a block already discarded (block {block})")
        while self._block < block:
            self._generate(self._block + 1)
        j = step - block * BLOCK_STEPS
        return math.exp(float(self._log_s[j])), float(self._excess[j])

    def _generate(self, block: int) -> None:
        spec, n, dt = self.spec, BLOCK_STEPS, self._dt
        rng = np.random.default_rng([self._seed, self._stream, block])
        z = rng.standard_normal(n)
        n_jumps = rng.poisson(spec.jump_intensity_per_year * dt, n)
        z_jump = rng.standard_normal(n)
        n_spikes = rng.poisson(spec.spike_intensity_per_year * dt, n)
        first = block * BLOCK_STEPS + 1
        scripted_jump = _scripted(self._jumps, first, n)
        added = n_spikes * (spec.spike_multiplier - 1.0) + _scripted(self._spikes, first, n)
        x_prev = float(self._excess[-1])
        excess = decayed(added, self._decay, x_prev)
        x_before = np.concatenate(([x_prev], excess[:-1]))
        sigma = spec.vol * (1.0 + x_before)
        kappa = math.expm1(spec.jump_mean_log + 0.5 * spec.jump_std_log**2)
        drift = (spec.drift - spec.jump_intensity_per_year * kappa - 0.5 * sigma * sigma) * dt
        jumps = n_jumps * spec.jump_mean_log + np.sqrt(n_jumps) * spec.jump_std_log * z_jump
        d_log = drift + sigma * math.sqrt(dt) * z + jumps + scripted_jump
        self._log_s = float(self._log_s[-1]) + np.concatenate(([0.0], np.cumsum(d_log)))
        self._excess = np.concatenate(([x_prev], excess))
        self._block = block


def decayed(added: NDArray[np.float64], decay: float, x0: float) -> NDArray[np.float64]:
    """x_i = added_i + decay·x_{i−1} from x_0 = ``x0``, for i = 1..len(added).

    The first-order filter scipy's ``lfilter([1], [1, −decay], added, zi=[decay·x0])``
    computes, with the same two operations per step (the same bits, pinned by a test), in
    a C-level accumulate: importing ``scipy.signal`` took 1.5-1.9 s of the start-up of every
    command that builds the emulator (issue 18). Example: decay 0.5, x0 = 2, added
    (0, 1, 0) gives 1, 1.5, 0.75.
    """
    steps = accumulate(added.tolist(), lambda x, a: a + decay * x, initial=x0)
    out = np.fromiter(steps, np.float64, added.size + 1)
    return out[1:]


def _scripted(events: dict[int, float], first: int, n: int) -> NDArray[np.float64]:
    """Dense per-step array of the scripted values falling in steps [first, first + n)."""
    out = np.zeros(n)
    for step, value in events.items():
        if first <= step < first + n:
            out[step - first] += value
    return out
