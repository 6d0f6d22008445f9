"""Hedge a real book over a recorded chain: the daemon's kernels, the recorded quotes.

At each grid time of a :class:`~bot.backtest.chain_data.ChainMarket`, for every
strategy and underlying (one :class:`strategies.base.HedgeState` element each):

1. the legs are valued at the recorded premium (USD per coin, mark or mid) and
   their Greeks computed with Black-Scholes at the recorded mark IV and index
   (rate 0: the USD value of a coin-settled option, see :mod:`bot.backtest.book`), on the
   forward the venue priced the option off;
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

The book's values and terms do not depend on the hedge, so they are computed
once; each strategy's path is then one task on a :mod:`bot.compute` runner
(its grid times stay in order: the hedge carries from one to the next), with
the market and the book's terms sent to the workers once. A task computes
exactly what it computes in this process, so the result is the same, bit for
bit, on every runner and worker count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from bot.backtest.chain_data import ChainLeg, ChainMarket
from bot.backtest.spec import StrategySpec
from bot.compute import Failed, Runner, SerialRunner
from bot.domain.timeunits import DAYS_PER_YEAR, MS_PER_HOUR, MS_PER_SECOND, MS_PER_YEAR
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

Progress = Callable[[int, int], None]
"""Called with (strategies done, strategies in all) after each one."""


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
    """The legs' value and Greeks at every grid time: (T, legs) per leg, (T, U) summed per
    underlying (USD, coin). The same for every strategy: the book does not depend on the
    hedge."""

    value_usd: FloatArray  # (T, legs) per coin of option, times size
    coin_value_usd: FloatArray  # (T, U) the coin held, at the index
    delta_coin: FloatArray  # (T, U), the coin held included
    gamma_coin_per_usd: FloatArray
    theta_usd_per_year: FloatArray
    vega_leg_usd: FloatArray  # (T, legs) per 1.00 of vol, times size
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
    lot_coin: Sequence[float] | None = None,
    mark: str = "mark",
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> ChainBacktest:
    """Hedge ``legs`` over ``market`` with each of ``specs``; see the module docstring.

    ``coin_held_coin`` (per underlying) is coin collateral that counts as delta,
    as the daemon counts it with a USD numeraire; its P&L is in the delta term.
    ``lot_coin`` (per underlying) rounds each trade toward zero to the hedge's lot,
    as the daemon rounds its orders (None: exact sizes). Each strategy runs as one
    task on ``runner`` (default: in this process); ValueError naming every
    strategy that failed.
    """
    if not specs:
        raise ValueError("give at least one strategy")
    for spec in specs:
        spec.build()  # fail here, with the strategy's own message, not inside a worker
    legs = tuple(legs)
    n_u = len(market.underlyings)
    start = np.zeros(n_u) if initial_hedge_coin is None else np.asarray(initial_hedge_coin, float)
    coin = np.zeros(n_u) if coin_held_coin is None else np.asarray(coin_held_coin, float)
    book = _book(legs, market, coin)
    lots = np.zeros(n_u) if lot_coin is None else np.asarray(lot_coin, float)
    shared = _Shared(market, book, _book_terms(legs, market, book), costs, start, lots)
    results: list[ChainStrategyResult | None] = [None] * len(specs)
    failures = []
    runner = runner or SerialRunner()
    for n, finished in enumerate(runner.run(_strategy_task, specs, shared=shared), start=1):
        if isinstance(finished, Failed):
            failures.append(f"{specs[finished.index].display}: {finished.error}")
        else:
            results[finished.index] = finished.value
        if progress:
            progress(n, len(specs))
    if failures:
        raise ValueError(
            f"{len(failures)} of {len(specs)} strategies failed: " + "; ".join(failures)
        )
    return ChainBacktest(
        legs, market, costs, mark, book.sigma, tuple(r for r in results if r is not None)
    )


def _book(legs: tuple[ChainLeg, ...], market: ChainMarket, coin: FloatArray) -> _Book:
    """Values and Greeks of the legs at every grid time (a settled leg: its payoff, no
    Greeks), the coin held added to the delta and, at the index, to the value."""
    n_u = len(market.underlyings)
    und = np.array([market.underlyings.index(leg.underlying) for leg in legs])
    t_ms = market.time_ms[:, None]
    expiry = np.array([leg.expiry_ms for leg in legs])[None, :]
    strike = np.array([leg.strike_usd for leg in legs])
    size = np.array([leg.size_coin for leg in legs])
    is_call = np.array([leg.option_type == "call" for leg in legs])
    spot = market.spot_usd[:, und]
    forward = np.where(np.isnan(market.forward_usd), spot, market.forward_usd)
    live = expiry > t_ms
    tau = np.maximum(expiry - t_ms, 0) / MS_PER_YEAR
    iv = market.iv
    # Black-76 on the venue's forward (Black-Scholes at rate 0 on F): the moneyness the
    # venue priced at; the USD value still comes from the recorded premium at the index.
    g = black_scholes(is_call, forward, strike, tau, np.where(np.isnan(iv), 0.0, iv), 0.0)
    premium = np.where(np.isnan(market.premium_usd), g.price, market.premium_usd)
    settle = np.where(np.isnan(market.settlement_usd), spot, market.settlement_usd)
    payoff = np.maximum(np.where(is_call, settle - strike, strike - settle), 0.0)
    value = size * np.where(live, premium, payoff)
    on = live & ~np.isnan(iv)
    member = (und[:, None] == np.arange(n_u)[None, :]).astype(float)  # (legs, U)

    def per_und(x: FloatArray) -> FloatArray:
        summed: FloatArray = np.where(on, size * x, 0.0) @ member
        return summed

    vega = np.where(on, size * g.vega, 0.0)
    weight = np.abs(vega) @ member
    sigma = (np.abs(vega) * np.where(on, iv, 0.0)) @ member
    near = np.where(live, tau, np.inf)
    nearest = np.stack([near[:, und == u].min(axis=1, initial=np.inf) for u in range(n_u)], 1)
    return _Book(
        value,
        coin * market.spot_usd,
        per_und(g.delta) + coin,
        per_und(g.gamma),
        per_und(g.theta),
        vega,
        per_und(g.vanna),
        np.where(np.isfinite(nearest), nearest, 0.0),
        np.divide(sigma, weight, out=np.full(sigma.shape, np.nan), where=weight > 0),
    )


@dataclass(frozen=True, slots=True)
class _Terms:
    """Per step (T, U): the book's own attribution and the moves the hedge terms need."""

    ds: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    residual: FloatArray
    book_delta: FloatArray  # the book's delta at the step's start
    mark_move: FloatArray
    funding_per_coin: FloatArray  # -mark·rate·periods at the step's start


def _book_terms(legs: tuple[ChainLeg, ...], market: ChainMarket, book: _Book) -> _Terms:
    """Step k (from k-1 to k) in row k; row 0 is zero."""
    n_u = len(market.underlyings)
    und = np.array([market.underlyings.index(leg.underlying) for leg in legs])
    member = (und[:, None] == np.arange(n_u)[None, :]).astype(float)

    def step(x: FloatArray) -> FloatArray:
        out = np.zeros_like(x)
        out[1:] = np.diff(x, axis=0)
        return out

    def before(x: FloatArray) -> FloatArray:
        out = np.zeros_like(x)
        out[1:] = x[:-1]
        return out

    ds = step(market.spot_usd)
    dt_years = step(market.time_ms.astype(float))[:, None] / MS_PER_YEAR
    gamma = 0.5 * before(book.gamma_coin_per_usd) * ds * ds
    theta = before(book.theta_usd_per_year) * dt_years
    vega = (before(book.vega_leg_usd) * np.nan_to_num(step(market.iv))) @ member
    book_move = step(book.value_usd) @ member + step(book.coin_value_usd)
    book_delta = before(book.delta_coin)
    residual = book_move - book_delta * ds - gamma - theta - vega
    periods = step(market.time_ms.astype(float))[:, None] / FUNDING_PERIOD_MS
    funding = -before(market.hedge_mark_usd * np.nan_to_num(market.funding_rate)) * periods
    return _Terms(
        ds, gamma, theta, vega, residual, book_delta, step(market.hedge_mark_usd), funding
    )


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every strategy's task reads and none changes: sent to each worker once."""

    market: ChainMarket
    book: _Book
    terms: _Terms
    costs: ChainCosts
    initial_hedge_coin: FloatArray
    lots: FloatArray


def _strategy_task(shared: _Shared, spec: StrategySpec) -> ChainStrategyResult:
    """One strategy over the whole grid (a runner's task)."""
    return _run_one(
        spec,
        shared.market,
        book=shared.book,
        terms=shared.terms,
        costs=shared.costs,
        hedge=shared.initial_hedge_coin.copy(),
        lots=shared.lots,
    )


def _run_one(
    spec: StrategySpec,
    market: ChainMarket,
    *,
    book: _Book,
    terms: _Terms,
    costs: ChainCosts,
    hedge: FloatArray,
    lots: FloatArray,
) -> ChainStrategyResult:
    """The strategy's decisions, one grid time after another; then its terms, vectorised."""
    strategy = spec.build()
    n_t, n_u = market.time_ms.shape[0], len(market.underlyings)
    hedges = np.zeros((n_t, n_u))
    held = np.zeros((n_t, n_u))  # the hedge held into each decision
    lower = np.full((n_t, n_u), np.nan)
    upper = np.full((n_t, n_u), np.nan)
    since_s = np.full(n_u, NEVER_HEDGED_S)
    cost = np.full(n_u, costs.fee_frac + costs.slippage_frac)
    zero = np.zeros(n_u)
    elapsed_s = np.diff(market.time_ms, prepend=market.time_ms[0]) / MS_PER_SECOND
    sigma = np.nan_to_num(book.sigma)
    theta_day = book.theta_usd_per_year / DAYS_PER_YEAR
    banded = strategy if isinstance(strategy, BandedStrategy) else None
    for k in range(n_t):
        since_s = since_s + elapsed_s[k]
        delta = book.delta_coin[k]
        state = HedgeState(
            spot_usd=market.spot_usd[k],
            net_delta_coin=delta,
            net_delta_fixed_vol_coin=delta,
            gamma_coin_per_usd=book.gamma_coin_per_usd[k],
            vanna_coin_per_vol=book.vanna_coin[k],
            vega_usd_per_volpt=zero,
            theta_usd_per_day=theta_day[k],
            hedge_coin=hedge,
            target_delta_coin=zero,
            sigma=sigma[k],
            tau_years=book.tau_years[k],
            rate=zero,
            cost_frac=cost,
            time_since_hedge_s=since_s,
        )
        held[k] = hedge
        if banded is not None:
            edges = banded.band(state)
            lower[k], upper[k] = edges.lower_coin, edges.upper_coin
        target = np.where(np.isfinite(market.spot_usd[k]), strategy.target_hedge(state), hedge)
        target = hedge + _to_lot(target - hedge, lots)
        since_s = np.where(target != hedge, 0.0, since_s)
        hedge = target
        hedges[k] = hedge
    return _result(
        spec,
        market,
        book=book,
        terms=terms,
        costs=costs,
        held=held,
        hedges=hedges,
        lower=lower,
        upper=upper,
    )


def _to_lot(trade: FloatArray, lots: FloatArray) -> FloatArray:
    """``trade`` rounded toward zero to whole lots where a lot is set (> 0).

    Example: 0.0968 BTC with a 0.001 lot is 0.096 (the daemon's order); −0.0004 is 0.
    """
    whole = np.trunc(trade / np.where(lots > 0, lots, 1.0) + np.sign(trade) * 1e-9)
    rounded: FloatArray = np.where(lots > 0, whole * lots, trade)
    return rounded


def _result(
    spec: StrategySpec,
    market: ChainMarket,
    *,
    book: _Book,
    terms: _Terms,
    costs: ChainCosts,
    held: FloatArray,
    hedges: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
) -> ChainStrategyResult:
    """The strategy's attribution, fills and counts from its hedge path."""
    trade = hedges - held
    buying = trade > 0
    side = np.where(buying, market.hedge_ask_usd, market.hedge_bid_usd)
    side = np.where(np.isnan(side), market.hedge_mark_usd, side)
    fill = side * np.where(buying, 1 + costs.slippage_frac, 1 - costs.slippage_frac)
    size = np.abs(trade)
    through = np.zeros_like(hedges)  # the hedge held over step k: the one set at k - 1
    through[1:] = hedges[:-1]
    per_step = [
        (terms.book_delta + through) * terms.ds,
        terms.gamma,
        terms.theta,
        terms.vega,
        through * (terms.mark_move - terms.ds),
        terms.residual,
        through * terms.funding_per_coin,
        np.nan_to_num(trade * (fill - market.hedge_mark_usd)),
        np.nan_to_num(size * fill * costs.fee_frac),
    ]
    comp = np.cumsum(np.stack([np.nansum(x, axis=1) for x in per_step], axis=1), axis=0)
    pnl = comp[:, :_SLIPPAGE].sum(axis=1) - comp[:, _SLIPPAGE] - comp[:, _FEES]
    return ChainStrategyResult(
        spec,
        comp,
        pnl,
        hedges,
        book.delta_coin + held,
        lower,
        upper,
        int(np.count_nonzero(trade)),
        float(size.sum()),
        float(np.nansum(size * fill)),
    )
