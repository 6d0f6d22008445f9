"""Hedge a real book over a recorded chain: the daemon's kernels, the recorded quotes.

At each grid time of a :class:`~bot.backtest.chain_data.ChainMarket`, for every
strategy and underlying (one :class:`strategies.base.HedgeState` element each):

1. the legs are valued at the recorded premium (USD per coin, mark or mid) and
   their Greeks computed with Black-Scholes at the recorded mark IV and index
   (rate 0: the USD value of a coin-settled option, see :mod:`bot.backtest.book`);
   a leg past its expiry is worth its payoff at the settlement price;
2. from the second time on, the step's P&L is booked and attributed, from the
   Greeks at the step's start, S being the index the options were marked
   against: delta = (book delta + hedge)·dS, gamma = ½Γ·dS², theta = Θ·dt,
   vega = Σ ν_leg·dσ_leg, basis = hedge·(d mark_hedge − dS) (the hedge's
   venue moving apart from the options' index), and residual the rest of the
   book's move; funding is −hedge·mark·rate per 8 h, pro rata (0 where none
   was recorded);
3. the strategy's ``target_hedge`` (the kernel the daemon calls) sets the new
   hedge; a buy fills at the recorded ask, a sell at the bid (the mark when a
   side is missing), plus ``slippage_frac`` of the price. ``slippage_usd`` is
   the distance of the fill from the mark, ``fees_usd`` is ``fee_frac`` of the
   fill's notional.

Wealth starts at zero: the book is held at its first marks, the hedge at the
book's initial hedge. P&L = delta + gamma + theta + vega + basis + residual +
funding − slippage − fees, exactly, at every step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from bot.backtest.chain_data import ChainLeg, ChainMarket
from bot.backtest.spec import StrategySpec
from bot.domain.timeunits import MS_PER_HOUR, MS_PER_SECOND, MS_PER_YEAR
from bot.pricing import black_scholes
from bot.pricing.arrays import FloatArray
from strategies.base import BandedStrategy, HedgeState

COMPONENTS: Final = (
    "delta_usd",
    "gamma_usd",
    "theta_usd",
    "vega_usd",
    "basis_usd",
    "residual_usd",
    "funding_usd",
    "slippage_usd",
    "fees_usd",
)
"""The attribution, in the order the report lists it; P&L = the sum, slippage and fees taken
off."""
_SLIPPAGE: Final = COMPONENTS.index("slippage_usd")
_FEES: Final = COMPONENTS.index("fees_usd")
FUNDING_PERIOD_MS: Final = 8 * MS_PER_HOUR
NEVER_HEDGED_S: Final = 1e12
"""``time_since_hedge_s`` before the first trade: finite (kernels reject inf)."""


@dataclass(frozen=True, slots=True)
class ChainCosts:
    """Hedge trading costs beyond the recorded spread: exchange fee and extra slippage.

    Example: selling 0.5 BTC with the bid at 59,990 and the mark at 60,000,
    fee 5 bp and slippage 1 bp: the fill is 59,990 × (1 − 0.0001) = 59,984.0,
    slippage 0.5 × 16.0 = 8.0 USD, fees 0.5 × 59,984.0 × 0.0005 = 15.0 USD.
    """

    fee_frac: float = 0.0005
    slippage_frac: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fee_frac", "slippage_frac"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value < 0.1):
                raise ValueError(f"{name} must be in [0, 0.1), got {value}")


@dataclass(frozen=True, slots=True)
class ChainStrategyResult:
    """One strategy's run: totals and series, (T,) or (T, underlyings).

    ``components_usd`` is (T, len(COMPONENTS)), cumulative, summed over
    underlyings; ``pnl_usd`` (T,) their total; ``total_delta_coin`` the book's
    delta plus the hedge before each decision, (T, underlyings), with the
    kernel's band (NaN for a kernel without one).
    """

    spec: StrategySpec
    components_usd: FloatArray
    pnl_usd: FloatArray
    hedge_coin: FloatArray
    total_delta_coin: FloatArray
    band_lower_coin: FloatArray
    band_upper_coin: FloatArray
    trades: int
    turnover_coin: float
    turnover_usd: float

    @property
    def max_drawdown_usd(self) -> float:
        """The largest fall of the cumulative P&L from a previous peak."""
        return float(np.max(np.maximum.accumulate(self.pnl_usd) - self.pnl_usd))

    @property
    def max_excursion_coin(self) -> float:
        """How far the total delta went outside the band, at most (0: never; NaN: no band)."""
        if np.isnan(self.band_lower_coin).all():
            return math.nan
        over = np.maximum(self.total_delta_coin - self.band_upper_coin, 0.0)
        under = np.maximum(self.band_lower_coin - self.total_delta_coin, 0.0)
        return float(np.nanmax(np.maximum(over, under)))

    @property
    def max_abs_delta_coin(self) -> float:
        return float(np.nanmax(np.abs(self.total_delta_coin)))


@dataclass(frozen=True, slots=True)
class ChainBacktest:
    """A run over recorded data: the market it used and one result per strategy."""

    legs: tuple[ChainLeg, ...]
    market: ChainMarket
    costs: ChainCosts
    mark: str
    book_iv: FloatArray
    """(T, underlyings) the book's vega-weighted mark IV."""
    results: tuple[ChainStrategyResult, ...]


@dataclass(frozen=True, slots=True)
class _Book:
    """The legs' value and Greeks at one time, summed per underlying (USD, coin)."""

    value_usd: FloatArray  # (legs,) per coin of option, times size
    coin_value_usd: FloatArray  # (U,) the coin held, at the index
    delta_coin: FloatArray  # (U,)
    gamma_coin_per_usd: FloatArray
    theta_usd_per_year: FloatArray
    vega_leg_usd: FloatArray  # (legs,) per 1.00 of vol, times size
    vanna_coin: FloatArray
    tau_years: FloatArray
    sigma: FloatArray


def run_chain_backtest(
    legs: Sequence[ChainLeg],
    market: ChainMarket,
    specs: Sequence[StrategySpec],
    costs: ChainCosts,
    *,
    initial_hedge_coin: Sequence[float] | None = None,
    coin_held_coin: Sequence[float] | None = None,
    mark: str = "mark",
) -> ChainBacktest:
    """Hedge ``legs`` over ``market`` with each of ``specs``; see the module docstring.

    ``coin_held_coin`` (per underlying) is coin collateral that counts as delta,
    as the daemon counts it with a USD numeraire; its P&L is in the delta term.
    """
    if not specs:
        raise ValueError("give at least one strategy")
    legs = tuple(legs)
    und = np.array([market.underlyings.index(leg.underlying) for leg in legs])
    n_u, n_t = len(market.underlyings), market.time_ms.size
    start = np.zeros(n_u) if initial_hedge_coin is None else np.asarray(initial_hedge_coin, float)
    coin = np.zeros(n_u) if coin_held_coin is None else np.asarray(coin_held_coin, float)
    books = [_book_at(legs, und, market, k=k, coin=coin) for k in range(n_t)]
    book_iv = np.stack([b.sigma for b in books])
    results = tuple(
        _run_one(spec, und, market=market, books=books, costs=costs, hedge=start.copy())
        for spec in specs
    )
    return ChainBacktest(legs, market, costs, mark, book_iv, results)


def _book_at(
    legs: tuple[ChainLeg, ...],
    und: np.ndarray,
    market: ChainMarket,
    *,
    k: int,
    coin: FloatArray,
) -> _Book:
    """Values and Greeks of the legs at grid time ``k`` (a settled leg: its payoff, no Greeks),
    the coin held added to the delta and, at the index, to the value."""
    t_ms, n_u = int(market.time_ms[k]), len(market.underlyings)
    expiry = np.array([leg.expiry_ms for leg in legs])
    strike = np.array([leg.strike_usd for leg in legs])
    size = np.array([leg.size_coin for leg in legs])
    is_call = np.array([leg.option_type == "call" for leg in legs])
    spot = market.spot_usd[k][und]
    live = expiry > t_ms
    tau = np.maximum(expiry - t_ms, 0) / MS_PER_YEAR
    iv = market.iv[k]
    g = black_scholes(is_call, spot, strike, tau, np.where(np.isnan(iv), 0.0, iv), 0.0)
    premium = np.where(np.isnan(market.premium_usd[k]), g.price, market.premium_usd[k])
    settle = np.where(np.isnan(market.settlement_usd), spot, market.settlement_usd)
    payoff = np.maximum(np.where(is_call, settle - strike, strike - settle), 0.0)
    value = size * np.where(live, premium, payoff)
    on = live & ~np.isnan(iv)

    def per_und(x: FloatArray) -> FloatArray:
        weights = np.where(on, size * x, 0.0)
        return np.bincount(und, weights=weights, minlength=n_u).astype(np.float64)

    vega = np.where(on, size * g.vega, 0.0)
    weight = np.bincount(und, weights=np.abs(vega), minlength=n_u)
    sigma = np.bincount(und, weights=np.abs(vega) * np.where(on, iv, 0.0), minlength=n_u)
    near = np.full(n_u, np.inf)
    np.minimum.at(near, und[live], tau[live])
    return _Book(
        value,
        coin * market.spot_usd[k],
        per_und(g.delta) + coin,
        per_und(g.gamma),
        per_und(g.theta),
        vega,
        per_und(g.vanna),
        np.where(np.isfinite(near), near, 0.0),
        np.divide(sigma, weight, out=np.full(n_u, np.nan), where=weight > 0),
    )


def _run_one(  # noqa: PLR0915 - one pass over the grid; each step hands its state to the next
    spec: StrategySpec,
    und: np.ndarray,
    *,
    market: ChainMarket,
    books: list[_Book],
    costs: ChainCosts,
    hedge: FloatArray,
) -> ChainStrategyResult:
    strategy = spec.build()
    n_t, n_u = market.time_ms.size, len(market.underlyings)
    comp = np.zeros((n_t, len(COMPONENTS)))
    running = np.zeros(len(COMPONENTS))
    hedges = np.zeros((n_t, n_u))
    total = np.zeros((n_t, n_u))
    lower = np.full((n_t, n_u), np.nan)
    upper = np.full((n_t, n_u), np.nan)
    since_s = np.full(n_u, NEVER_HEDGED_S)
    trades, turnover_coin, turnover_usd = 0, 0.0, 0.0
    cost_frac = costs.fee_frac + costs.slippage_frac
    for k in range(n_t):
        now = books[k]
        spot = market.spot_usd[k]
        mark = market.hedge_mark_usd[k]
        if k > 0:
            prev = books[k - 1]
            ds = spot - market.spot_usd[k - 1]
            dt_years = (market.time_ms[k] - market.time_ms[k - 1]) / MS_PER_YEAR
            d_iv = np.nan_to_num(market.iv[k] - market.iv[k - 1])
            gamma = 0.5 * prev.gamma_coin_per_usd * ds * ds
            theta = prev.theta_usd_per_year * dt_years
            vega = np.bincount(und, weights=prev.vega_leg_usd * d_iv, minlength=n_u)
            legs_move = now.value_usd - prev.value_usd
            book_move: FloatArray = np.bincount(und, weights=legs_move, minlength=n_u).astype(float)
            book_move += now.coin_value_usd - prev.coin_value_usd
            basis = hedge * (mark - market.hedge_mark_usd[k - 1] - ds)
            delta = (prev.delta_coin + hedge) * ds
            residual = book_move - prev.delta_coin * ds - gamma - theta - vega
            periods = (market.time_ms[k] - market.time_ms[k - 1]) / FUNDING_PERIOD_MS
            rate = np.nan_to_num(market.funding_rate[k - 1])
            funding = -hedge * market.hedge_mark_usd[k - 1] * rate * periods
            for i, part in enumerate((delta, gamma, theta, vega, basis, residual, funding)):
                running[i] += float(np.nansum(part))
            since_s += (market.time_ms[k] - market.time_ms[k - 1]) / MS_PER_SECOND
        state = HedgeState.from_arrays(
            spot_usd=spot,
            net_delta_coin=now.delta_coin,
            gamma_coin_per_usd=now.gamma_coin_per_usd,
            vanna_coin_per_vol=now.vanna_coin,
            hedge_coin=hedge,
            sigma=np.nan_to_num(now.sigma),
            tau_years=now.tau_years,
            cost_frac=cost_frac,
            time_since_hedge_s=since_s,
            theta_usd_per_day=now.theta_usd_per_year / 365.0,
        )
        total[k] = now.delta_coin + hedge
        if isinstance(strategy, BandedStrategy):
            edges = strategy.band(state)
            lower[k], upper[k] = edges.lower_coin, edges.upper_coin
        target = np.where(np.isfinite(spot), strategy.target_hedge(state), hedge)
        trade = target - hedge
        buying = trade > 0
        side = np.where(buying, market.hedge_ask_usd[k], market.hedge_bid_usd[k])
        side = np.where(np.isnan(side), mark, side)
        fill = side * np.where(buying, 1 + costs.slippage_frac, 1 - costs.slippage_frac)
        size = np.abs(trade)
        running[_SLIPPAGE] += float(np.nansum(trade * (fill - mark)))
        running[_FEES] += float(np.nansum(size * fill * costs.fee_frac))
        traded = trade != 0
        trades += int(traded.sum())
        turnover_coin += float(size.sum())
        turnover_usd += float(np.nansum(size * fill))
        since_s = np.where(traded, 0.0, since_s)
        hedge = target
        hedges[k] = hedge
        comp[k] = running
    pnl = comp[:, :_SLIPPAGE].sum(axis=1) - comp[:, _SLIPPAGE] - comp[:, _FEES]
    return ChainStrategyResult(
        spec, comp, pnl, hedges, total, lower, upper, trades, turnover_coin, turnover_usd
    )
