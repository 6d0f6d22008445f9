"""Seeded market model: index paths, forwards, perp marks, funding and SVI smiles.

The simulated exchange reads every price from here, so a seed plus the
sequence of times it is advanced to fixes the whole simulated market. Index
paths follow :mod:`bot.sim.paths`; forwards carry F = S·e^{(r + basis)τ}; the
perpetual trades at a premium over the index (plus each venue's own basis, so two
venues' perpetuals mark and fund apart around one index) and pays its venue's funding; the
implied vol of each expiry is an SSVI slice whose ATM level follows the vol
regime (:mod:`bot.sim.smile`). For replays an underlying may instead follow a
:class:`bot.sim.paths.ScriptedPath` and quote one flat vol
(:meth:`UnderlyingSpec.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.timeunits import MS_PER_YEAR
from bot.sim.paths import IndexPath, PathSpec, ScriptedPath
from bot.sim.smile import smile_vols

# Deribit perpetual: Funding Rate = max(0.05%, Premium Rate) + min(-0.05%, Premium Rate),
# paid per 8 hours (deribit.com/pages/docs/perpetual, "Funding rate").
FUNDING_DAMPER = 0.0005
# Binance USDⓈ-M: Funding Rate = Premium Index + clamp(Interest Rate − Premium Index, −0.05%,
# +0.05%), Interest Rate 0.01% per 8 hours (binance.com "Introduction to Binance Futures
# Funding Rates").
BINANCE_INTEREST_8H = 0.0001
BINANCE_CLAMP = 0.0005
MIN_TAU_YEARS = 60_000 / MS_PER_YEAR  # a minute: keeps expiring smiles finite


@dataclass(frozen=True, slots=True)
class UnderlyingSpec:
    """Everything the market needs about one underlying (rates per year, as fractions)."""

    path: PathSpec
    rate: float = 0.0
    basis: float = 0.0
    perp_premium: float = 0.0008
    smile_rho: float = -0.15
    smile_eta: float = 0.8
    scripted: ScriptedPath | None = None
    """If set, the index follows these points exactly and ``path`` draws nothing."""
    flat_vol: float | None = None
    """If set, every strike and expiry is quoted at this implied vol (fraction per
    year), whatever the path's own vol: a flat surface, for replays whose pricing
    vol is given. None (default): SSVI smiles around the regime's ATM vol."""

    def __post_init__(self) -> None:
        for name in ("rate", "basis", "perp_premium", "smile_eta"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"UnderlyingSpec.{name} must be finite")
        if self.flat_vol is not None and not (math.isfinite(self.flat_vol) and self.flat_vol > 0):
            raise ValueError(f"UnderlyingSpec.flat_vol must be positive, got {self.flat_vol!r}")
        if not -1 < self.smile_rho < 1:
            raise ValueError(f"UnderlyingSpec.smile_rho must lie in (-1, 1), got {self.smile_rho}")
        if not self.smile_eta > 0:
            raise ValueError(f"UnderlyingSpec.smile_eta must be positive, got {self.smile_eta}")

    @classmethod
    def simple(cls, spot_usd: float, vol: float, rate: float = 0.0) -> UnderlyingSpec:
        """Plain GBM at ``vol`` with no jumps or random spikes."""
        return cls(path=PathSpec(spot_usd=spot_usd, vol=vol), rate=rate)

    @classmethod
    def replay(cls, path: ScriptedPath, vol: float) -> UnderlyingSpec:
        """The index on ``path``, a flat ``vol`` surface, no rate, basis or perp premium.

        With rate and basis 0 every forward equals the index, and with no premium
        the perpetual marks at the index and pays no funding: the world of a
        backtest that prices at spot with one vol.
        """
        return cls(
            path=PathSpec(spot_usd=path.price_usd[0], vol=vol),
            perp_premium=0.0,
            scripted=path,
            flat_vol=vol,
        )


@dataclass(frozen=True, slots=True)
class JumpEvent:
    """Scripted index jump of ``jump_pct`` (−0.10 = −10%) at ``ts_ms``."""

    ts_ms: int
    underlying: str
    jump_pct: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.jump_pct) and self.jump_pct > -1):
            raise ValueError(f"JumpEvent.jump_pct must be finite and > -1, got {self.jump_pct}")


@dataclass(frozen=True, slots=True)
class VolSpikeEvent:
    """Scripted vol spike: the regime multiplier rises by ×``multiplier`` at ``ts_ms``."""

    ts_ms: int
    underlying: str
    multiplier: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1):
            raise ValueError(f"VolSpikeEvent.multiplier must be >= 1, got {self.multiplier}")


MarketEvent = JumpEvent | VolSpikeEvent

DEFAULT_SPOT_USD: Mapping[str, float] = {"BTC": 60_000.0, "ETH": 3_000.0}
DEFAULT_SPECS: Mapping[str, UnderlyingSpec] = {
    "BTC": UnderlyingSpec(
        path=PathSpec(
            spot_usd=DEFAULT_SPOT_USD["BTC"],
            vol=0.50,
            jump_intensity_per_year=4.0,
            jump_mean_log=-0.02,
            jump_std_log=0.04,
            spike_intensity_per_year=3.0,
        ),
        rate=0.05,
    ),
    "ETH": UnderlyingSpec(
        path=PathSpec(
            spot_usd=DEFAULT_SPOT_USD["ETH"],
            vol=0.65,
            jump_intensity_per_year=5.0,
            jump_mean_log=-0.025,
            jump_std_log=0.05,
            spike_intensity_per_year=3.0,
        ),
        rate=0.05,
    ),
}


@dataclass(slots=True)
class _Now:
    index_usd: float
    excess: float


@dataclass(slots=True)
class _Underlying:
    spec: UnderlyingSpec
    path: IndexPath
    now: _Now = field(default_factory=lambda: _Now(math.nan, 0.0))


class MarketModel:
    """The simulated market, moved forward only by :meth:`advance_to`."""

    def __init__(
        self,
        specs: Mapping[str, UnderlyingSpec],
        *,
        seed: int,
        start_ms: int,
        step_ms: int = 1000,
        events: Iterable[MarketEvent] = (),
    ) -> None:
        if not specs:
            raise ValueError("MarketModel needs at least one underlying spec")
        if step_ms <= 0:
            raise ValueError(f"MarketModel: step_ms must be positive, got {step_ms}")
        self._start_ms = start_ms
        self._step_ms = step_ms
        self._now_ms = start_ms
        jumps: dict[str, dict[int, float]] = {u: {} for u in specs}
        spikes: dict[str, dict[int, float]] = {u: {} for u in specs}
        for ev in events:
            if ev.underlying not in specs:
                raise ValueError(f"event {ev!r}: unknown underlying {ev.underlying!r}")
            if ev.ts_ms < start_ms:
                raise ValueError(f"event {ev!r}: ts_ms is before start_ms {start_ms}")
            if specs[ev.underlying].scripted is not None:
                raise ValueError(f"event {ev!r}: {ev.underlying} is scripted; script the move")
            step = max(1, -(-(ev.ts_ms - start_ms) // step_ms))  # first grid point at/after ts
            if isinstance(ev, JumpEvent):
                jumps[ev.underlying][step] = jumps[ev.underlying].get(step, 0.0) + math.log1p(
                    ev.jump_pct
                )
            else:
                spikes[ev.underlying][step] = spikes[ev.underlying].get(step, 0.0) + (
                    ev.multiplier - 1.0
                )
        self._u: dict[str, _Underlying] = {}
        for stream, (name, spec) in enumerate(sorted(specs.items())):
            path = IndexPath(
                spec.path,
                seed=seed,
                stream=stream,
                step_ms=step_ms,
                jumps=jumps[name],
                spikes=spikes[name],
            )
            self._u[name] = _Underlying(spec, path)
        self.underlyings: tuple[str, ...] = tuple(sorted(specs))
        self._refresh()

    @classmethod
    def default(
        cls,
        start_ms: int,
        *,
        seed: int = 1,
        underlyings: Iterable[str] = ("BTC", "ETH"),
        events: Iterable[MarketEvent] = (),
    ) -> MarketModel:
        """BTC/ETH with jumps and random vol spikes, spots as in :data:`DEFAULT_SPOT_USD`."""
        names = tuple(underlyings)
        unknown = [u for u in names if u not in DEFAULT_SPECS]
        if unknown:
            raise ValueError(f"no default spec for {unknown}; have {sorted(DEFAULT_SPECS)}")
        specs = {u: DEFAULT_SPECS[u] for u in names}
        return cls(specs, seed=seed, start_ms=start_ms, events=events)

    @property
    def now_ms(self) -> int:
        return self._now_ms

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def step_ms(self) -> int:
        """Spacing of the price grid: prices change only at multiples of this from start."""
        return self._step_ms

    def advance_to(self, ts_ms: int) -> None:
        """Move the market to ``ts_ms`` (never backwards: ValueError)."""
        if ts_ms < self._now_ms:
            raise ValueError(f"advance_to({ts_ms}) is before the market time {self._now_ms}")
        self._now_ms = ts_ms
        self._refresh()

    def index_usd(self, underlying: str) -> float:
        return self._get(underlying).now.index_usd

    def vol_multiplier(self, underlying: str) -> float:
        """Current regime multiplier of the diffusion vol (1 when calm)."""
        return 1.0 + self._get(underlying).now.excess

    def tau_years(self, expiry_ms: int) -> float:
        """Year fraction from now to ``expiry_ms`` (0 once expired)."""
        return max(0, expiry_ms - self._now_ms) / MS_PER_YEAR

    def forward_usd(self, underlying: str, expiry_ms: int) -> float:
        u = self._get(underlying)
        carry = u.spec.rate + u.spec.basis
        return u.now.index_usd * math.exp(carry * self.tau_years(expiry_ms))

    def perp_premium(self, underlying: str, basis_frac: float = 0.0) -> float:
        """A venue's perpetual premium over the index: the market's plus the venue's own
        ``basis_frac`` (each venue trades its perpetual at its own basis to one index)."""
        return self._get(underlying).spec.perp_premium + basis_frac

    def perp_mark_usd(self, underlying: str, basis_frac: float = 0.0) -> float:
        """A venue's perpetual mark: the index times one plus its premium."""
        return self.index_usd(underlying) * (1.0 + self.perp_premium(underlying, basis_frac))

    def funding_rate_8h(self, underlying: str, basis_frac: float = 0.0) -> float:
        """Deribit's 8h funding: the premium beyond a ±0.05% dead band."""
        p = self.perp_premium(underlying, basis_frac)
        return max(FUNDING_DAMPER, p) + min(-FUNDING_DAMPER, p)

    def binance_funding_rate_8h(self, underlying: str, basis_frac: float = 0.0) -> float:
        """Binance's 8h funding: the premium plus the interest rate, the gap clamped at ±0.05%.

        Example: a 0.08% premium pays 0.08% + max(0.01% − 0.08%, −0.05%) = 0.03%.
        """
        p = self.perp_premium(underlying, basis_frac)
        return p + min(max(BINANCE_INTEREST_8H - p, -BINANCE_CLAMP), BINANCE_CLAMP)

    def atm_vol(self, underlying: str, expiry_ms: int) -> float:
        """ATM implied vol (``flat_vol`` if set): the expected average regime vol plus jumps.

        The excess x decays as e^{−κs}, so the average multiplier over τ is
        1 + x·(1 − e^{−κτ})/(κτ); jumps add λ(m_J² + s_J²) of variance per year.
        """
        u = self._get(underlying)
        if u.spec.flat_vol is not None:
            return u.spec.flat_vol
        tau_ms = max(float(expiry_ms - self._now_ms), MIN_TAU_YEARS * MS_PER_YEAR)
        kt = u.path.decay_per_ms * tau_ms
        avg_mult = 1.0 + u.now.excess * (-math.expm1(-kt) / kt)
        var = (u.spec.path.vol * avg_mult) ** 2 + u.spec.path.jump_variance_per_year
        return math.sqrt(var)

    def implied_vols(
        self, underlying: str, expiry_ms: int, strikes_usd: ArrayLike
    ) -> NDArray[np.float64]:
        """Implied vols (fractions) of one expiry at each strike: its SSVI slice, or flat."""
        u = self._get(underlying)
        strikes = np.asarray(strikes_usd, dtype=np.float64)
        if u.spec.flat_vol is not None:
            return np.full(strikes.shape, u.spec.flat_vol)
        tau = max(self.tau_years(expiry_ms), MIN_TAU_YEARS)
        atm = self.atm_vol(underlying, expiry_ms)
        k = np.log(strikes / self.forward_usd(underlying, expiry_ms))
        return smile_vols(atm * atm * tau, tau, u.spec.smile_rho, u.spec.smile_eta, k)

    def implied_vol(self, underlying: str, expiry_ms: int, strike_usd: float) -> float:
        return float(self.implied_vols(underlying, expiry_ms, [strike_usd])[0])

    def _get(self, underlying: str) -> _Underlying:
        try:
            return self._u[underlying]
        except KeyError:
            raise ValueError(
                f"unknown underlying {underlying!r}; have {', '.join(self.underlyings)}"
            ) from None

    def _refresh(self) -> None:
        step = (self._now_ms - self._start_ms) // self._step_ms
        for u in self._u.values():
            if u.spec.scripted is not None:
                grid_ms = self._start_ms + step * self._step_ms
                u.now = _Now(u.spec.scripted.index_usd(grid_ms), 0.0)
                continue
            index, excess = u.path.at(step)
            u.now = _Now(index, excess)
