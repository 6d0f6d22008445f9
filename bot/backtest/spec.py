"""What a backtest takes (costs, strategies) and what it gives back (per-path outcomes).

Costs are fractions of traded notional, charged on every hedge trade:
``fee_frac + spread_frac / 2 + slippage_frac`` (a trade crosses half the
bid-ask spread). Perp funding is a rate per 8 hours on the hedge notional,
paid by longs when positive (Deribit, Binance convention).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np

from bot.backtest.book import Book
from bot.backtest.paths import PathModel
from bot.pricing.arrays import FloatArray
from strategies.base import Strategy
from strategies.registry import load_strategy

Carry = Literal["financed", "none"]
"""``financed``: the USD cash account (premium, hedge purchases) earns or pays the
risk-free rate, as in Black-Scholes replication. ``none``: cash earns nothing, as
on a perp account whose funding stands in for the financing."""

FUNDING_PERIODS_PER_YEAR: Final = 365.0 * 3.0
"""8-hour funding periods in a 365-day year."""

OUTCOME_FIELDS: Final = (
    "pnl_usd",
    "cost_usd",
    "unwind_cost_usd",
    "funding_usd",
    "carry_usd",
    "delta_usd",
    "gamma_usd",
    "theta_usd",
    "vega_usd",
    "residual_usd",
    "trades",
    "turnover_coin",
    "turnover_usd",
)
"""Per-path totals kept for every strategy (see :class:`PathOutcome`)."""


@dataclass(frozen=True, slots=True)
class OptionHedgeSpec:
    """The backtester's option-hedge loop, proposals auto-approved (issue 16).

    The whitelist is one option: a call struck at the initial spot expiring
    ``tenor_days`` after the start (at least the horizon, so it never settles
    inside the run). Whenever the book's standardised vega (USD per vol point,
    :mod:`bot.domain.greek_limits`) is past ``hard_vega_usd_per_volpt`` on a path,
    that path trades whole ``lot_coin`` lots of it to bring the figure inside
    ``soft_vega_usd_per_volpt``: the optimizer's answer for one candidate and one row,
    in closed form per path (:mod:`bot.backtest.vega_lots`; no trade where a lot
    would leave the book further from zero). Each trade costs ``cost_frac`` of its
    premium (half-spread plus fee); the position is closed at the horizon at the same
    cost.
    """

    hard_vega_usd_per_volpt: float
    soft_vega_usd_per_volpt: float
    tenor_days: float = 90.0
    lot_coin: float = 0.1
    cost_frac: float = 0.02

    def __post_init__(self) -> None:
        if not 0 < self.soft_vega_usd_per_volpt <= self.hard_vega_usd_per_volpt < math.inf:
            raise ValueError(
                "option hedge limits must satisfy 0 < soft <= hard, got "
                f"{self.soft_vega_usd_per_volpt} and {self.hard_vega_usd_per_volpt}"
            )
        for name in ("tenor_days", "lot_coin"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"option hedge {name} must be > 0, got {getattr(self, name)}")
        if not (math.isfinite(self.cost_frac) and self.cost_frac >= 0):
            raise ValueError(f"option hedge cost_frac must be >= 0, got {self.cost_frac}")


@dataclass(frozen=True, slots=True)
class Costs:
    """Trading costs as fractions of traded notional, and perp funding per 8 h.

    Example: fee 5 bp, spread 4 bp, slippage 1 bp cost 5 + 2 + 1 = 8 bp, so
    trading 0.5 coin at 60,000 USD costs 30,000 × 0.0008 = 24 USD.
    """

    fee_frac: float = 0.0
    spread_frac: float = 0.0
    slippage_frac: float = 0.0
    funding_per_8h: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fee_frac", "spread_frac", "slippage_frac"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value}")
        if not math.isfinite(self.funding_per_8h):
            raise ValueError(f"funding_per_8h must be finite, got {self.funding_per_8h}")

    @property
    def cost_frac(self) -> float:
        """One-way proportional cost of a trade: fee + half-spread + slippage."""
        return self.fee_frac + 0.5 * self.spread_frac + self.slippage_frac


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A strategy by registry name and params (picklable, so it can cross processes)."""

    name: str
    params: Mapping[str, object] = field(default_factory=dict)
    label: str = ""

    @property
    def display(self) -> str:
        """``label``, or ``name(key=value, ...)``."""
        if self.label:
            return self.label
        inner = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})" if inner else self.name

    def build(self) -> Strategy:
        """The kernel, via :func:`strategies.registry.load_strategy` (raises StrategyError)."""
        return load_strategy(self.name, self.params)


@dataclass(frozen=True, slots=True)
class PathOutcome:
    """Per-path totals for one strategy, each a float64 array of shape (paths,).

    ``pnl_usd`` is the hedged P&L at the horizon of a book bought or written at
    model value, starting from zero wealth. It adds up exactly:
    pnl = delta + gamma + theta + vega + residual + carry + funding − cost, where
    delta = (book delta + coin held + hedge)·dS, gamma = ½Γ·dS², theta = Θ·dt,
    vega = ν·dσ (all from the Greeks at the start of each step), residual is
    the rest of the book's revaluation, carry the interest on cash and
    ``cost_usd`` every trading cost including ``unwind_cost_usd`` (closing the
    hedge at the horizon). ``trades`` counts rebalancing trades per path.
    """

    pnl_usd: FloatArray
    cost_usd: FloatArray
    unwind_cost_usd: FloatArray
    funding_usd: FloatArray
    carry_usd: FloatArray
    delta_usd: FloatArray
    gamma_usd: FloatArray
    theta_usd: FloatArray
    vega_usd: FloatArray
    residual_usd: FloatArray
    trades: FloatArray
    turnover_coin: FloatArray
    turnover_usd: FloatArray

    def attributed_usd(self) -> FloatArray:
        """The sum of the attribution terms, equal to ``pnl_usd`` up to rounding."""
        return (
            self.delta_usd
            + self.gamma_usd
            + self.theta_usd
            + self.vega_usd
            + self.residual_usd
            + self.carry_usd
            + self.funding_usd
            - self.cost_usd
        )


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """One strategy's outcome; ``sample_hedge_coin`` is (samples, steps) at decision times."""

    spec: StrategySpec
    paths: PathOutcome
    sample_hedge_coin: FloatArray


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """A whole run: the inputs that shaped it and one :class:`StrategyResult` per strategy.

    ``premium_usd`` is the book's model value at t = 0 per path (negative for a
    written book). Samples are the first few paths: ``sample_spot_usd`` is
    (samples, steps + 1) on ``time_years``; ``sample_delta_coin`` the book's
    delta (coin premiums included) at each decision time (samples, steps).
    """

    book: Book
    costs: Costs
    carry: Carry
    rate: float
    steps: int
    seed: int
    chunk_paths: int
    horizon_years: float
    premium_usd: FloatArray
    strategies: tuple[StrategyResult, ...]
    time_years: FloatArray
    sample_spot_usd: FloatArray
    sample_delta_coin: FloatArray
    model: PathModel | None = None
    """The price model the paths came from (the chart's title; a CSV's dates)."""
    option_hedge: OptionHedgeSpec | None = None
    """The option-hedge loop the run had on (None: delta hedging only)."""
    option_hedge_cost_usd: FloatArray | None = None
    """Per path, what the option-hedge loop paid, inside every strategy's ``cost_usd``."""

    @property
    def n_paths(self) -> int:
        return int(self.premium_usd.size)

    def discount(self) -> float:
        """e^(−r·T) if cash is financed, else 1: today's value of a USD at the horizon."""
        return math.exp(-self.rate * self.horizon_years) if self.carry == "financed" else 1.0

    def breakeven_premium_usd(self, result: StrategyResult) -> FloatArray:
        """Per path, |V₀| + sign(V₀)·PV(P&L): the premium at which the P&L would break even.

        For a written book (V₀ < 0) this is the total cost of writing and
        hedging, premium − PV(P&L), which converges to the Black-Scholes price
        as hedging gets continuous and free; for a bought book, premium + PV(P&L).
        """
        sign = np.sign(self.premium_usd)
        return np.abs(self.premium_usd) + sign * self.discount() * result.paths.pnl_usd
