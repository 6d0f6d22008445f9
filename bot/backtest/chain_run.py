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

With the option-hedge loop (:mod:`bot.backtest.chain_option_hedge`) a listed
call's size changes at grid times: the book's move over a step is the sizes
held through it times the legs' price moves (a trade is cash for value, not
P&L), the call's Greeks are in the book's, and its trades' distance from the
mark and fees join the hedge's slippage and fees. The same strategies also run
on the book without the call, so both attributions come from one pricing.

The book's values and terms do not depend on the hedge, so they are computed
once; each strategy's path (on each book, with and without the call) is then
one task on a :mod:`bot.compute` runner (its grid times stay in order: the
hedge carries from one to the next), the market and the books' terms sent to
the workers once. A task computes exactly what it computes in this process, so
the result is the same, bit for bit, on every runner and worker count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from bot.backtest.chain_data import ChainLeg, ChainMarket
from bot.backtest.chain_option_hedge import ChainOptionHedge, HedgeTrades, hedge_trades
from bot.backtest.spec import StrategySpec
from bot.compute import Runner, SerialRunner, run_all
from bot.domain.greek_limits import MIN_DAYS, STANDARD_DAYS
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
"""Called with (tasks done, tasks in all) after each strategy's task."""


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
    option_hedge: ChainHedgeOutcome | None = None
    """What the option-hedge loop did (None: it was off)."""


@dataclass(frozen=True, slots=True)
class ChainHedgeOutcome:
    """The option-hedge loop's run: its settings, the calls it traded (columns of ``legs``),
    their positions (T, calls), and its trades' slippage and fees, USD (inside every
    strategy's slippage and fees)."""

    settings: ChainOptionHedge
    columns: tuple[int, ...]
    size_coin: FloatArray
    slippage_usd: float
    fees_usd: float
    trades: int
    without: tuple[ChainStrategyResult, ...]
    """The same strategies over the same snapshots without the loop."""


@dataclass(frozen=True, slots=True)
class _PerCoin:
    """Each leg per coin at every grid time (T, legs): its price (a settled leg: its payoff),
    Black-Scholes Greeks where it is live and has an IV (``on``; 0 elsewhere), time to
    expiry and IV."""

    price_usd: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray  # per 1.00 of vol
    vanna: FloatArray
    on: np.ndarray
    live: np.ndarray
    tau_years: FloatArray
    iv: FloatArray

    def std_vega_usd_per_volpt(self) -> FloatArray:
        """Standardised vega per coin: vega per vol point × sqrt(30 / days) (greek limits)."""
        days = np.maximum(self.tau_years * DAYS_PER_YEAR, MIN_DAYS)
        weighted: FloatArray = self.vega * 0.01 * np.sqrt(STANDARD_DAYS / days)
        return weighted


@dataclass(frozen=True, slots=True)
class _Book:
    """The legs' value and Greeks at every grid time: (T, legs) per leg, (T, U) summed per
    underlying (USD, coin). The same for every strategy: the book does not depend on the
    hedge."""

    size_coin: FloatArray  # (T, legs) each leg's size after the grid time's option trades
    price_usd: FloatArray  # (T, legs) per coin
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
    option_hedge: ChainOptionHedge | None = None,
    hedge_calls: Sequence[ChainLeg] = (),
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> ChainBacktest:
    """Hedge ``legs`` over ``market`` with each of ``specs``; see the module docstring.

    ``coin_held_coin`` (per underlying) is coin collateral that counts as delta,
    as the daemon counts it with a USD numeraire; its P&L is in the delta term.
    ``lot_coin`` (per underlying) rounds each trade toward zero to the hedge's lot,
    as the daemon rounds its orders (None: exact sizes). With ``option_hedge``,
    the loop of :mod:`bot.backtest.chain_option_hedge` trades ``hedge_calls``
    (legs of ``legs``, size 0, one per limited underlying) before the strategies
    run; a call's P&L is in the book's terms and its trades' costs in slippage
    and fees. Each strategy on each book runs as one task on ``runner`` (default:
    in this process); ValueError naming every strategy that failed.
    """
    if not specs:
        raise ValueError("give at least one strategy")
    for spec in specs:
        spec.build()  # fail here, with the strategy's own message, not inside a worker
    legs = tuple(legs)
    n_u = len(market.underlyings)
    start = np.zeros(n_u) if initial_hedge_coin is None else np.asarray(initial_hedge_coin, float)
    coin = np.zeros(n_u) if coin_held_coin is None else np.asarray(coin_held_coin, float)
    per = _per_coin(legs, market)
    und = np.array([market.underlyings.index(leg.underlying) for leg in legs])
    sizes = np.array([leg.size_coin for leg in legs], dtype=np.float64)
    hedged = None
    if option_hedge is not None:
        hedged = _option_hedge(legs, market, per, und, settings=option_hedge, calls=hedge_calls)
    size = np.broadcast_to(sizes, per.price_usd.shape) if hedged is None else hedged.size_coin
    book = _book(per, size, market, coin, und)
    shared = _book_terms(legs, market, book, hedged)
    lots = np.zeros(n_u) if lot_coin is None else np.asarray(lot_coin, float)
    books = [(book, shared)]
    if hedged is not None:
        plain = _book(per, np.broadcast_to(sizes, per.price_usd.shape), market, coin, und)
        books.append((plain, _book_terms(legs, market, plain, None)))
    inputs = _Shared(market, tuple(books), costs, start, lots)
    runs = _strategies_on(runner or SerialRunner(), inputs, specs, progress)
    results = runs[0]
    outcome = None
    if hedged is not None and option_hedge is not None:
        without = runs[1]
        columns = tuple(legs.index(call) for call in hedge_calls)
        outcome = ChainHedgeOutcome(
            option_hedge,
            columns,
            hedged.size_coin[:, columns],
            float(hedged.slippage_usd.sum()),
            float(hedged.fees_usd.sum()),
            hedged.trades,
            without,
        )
    return ChainBacktest(legs, market, costs, mark, book.sigma, results, outcome)


def _strategies_on(
    runner: Runner, inputs: _Shared, specs: Sequence[StrategySpec], progress: Progress | None
) -> list[tuple[ChainStrategyResult, ...]]:
    """Every strategy on every book of ``inputs``, one task each: per book, the results in
    ``specs``' order. ValueError naming every strategy that failed."""
    tasks = [(b, spec) for b in range(len(inputs.books)) for spec in specs]
    results = run_all(
        runner,
        _strategy_task,
        tasks,
        shared=inputs,
        describe=lambda i: tasks[i][1].display,
        noun="strategies",
        progress=progress,
    )
    return [tuple(results[b * len(specs) : (b + 1) * len(specs)]) for b in range(len(inputs.books))]


def _option_hedge(
    legs: tuple[ChainLeg, ...],
    market: ChainMarket,
    per: _PerCoin,
    und: np.ndarray,
    *,
    settings: ChainOptionHedge,
    calls: Sequence[ChainLeg],
) -> HedgeTrades:
    """The loop's trades of ``calls`` (one per underlying with a limit)."""
    by_column = {}
    for call in calls:
        limit = settings.limit_of(call.underlying)
        if call not in legs or call.size_coin != 0 or limit is None:
            raise ValueError(f"{call.label}: not a size-0 leg of a limited underlying")
        by_column[legs.index(call)] = limit
    return hedge_trades(
        np.array([leg.size_coin for leg in legs], dtype=np.float64),
        und,
        by_column,
        std_vega_per_coin=per.std_vega_usd_per_volpt(),
        premium_usd=market.premium_usd,
        bid_usd=market.bid_usd,
        ask_usd=market.ask_usd,
        spot_usd=market.spot_usd,
        lot_coin=settings.lot_coin,
        fee_frac=settings.fee_frac,
    )


def _per_coin(legs: tuple[ChainLeg, ...], market: ChainMarket) -> _PerCoin:
    """Price and Greeks of one coin of each leg at every grid time (a settled leg: its
    payoff, no Greeks)."""
    und = np.array([market.underlyings.index(leg.underlying) for leg in legs])
    t_ms = market.time_ms[:, None]
    expiry = np.array([leg.expiry_ms for leg in legs])[None, :]
    strike = np.array([leg.strike_usd for leg in legs])
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
    on = live & ~np.isnan(iv)

    def where_on(x: FloatArray) -> FloatArray:
        out: FloatArray = np.where(on, x, 0.0)
        return out

    return _PerCoin(
        np.where(live, premium, payoff),
        where_on(g.delta),
        where_on(g.gamma),
        where_on(g.theta),
        where_on(g.vega),
        where_on(g.vanna),
        on,
        live,
        tau,
        iv,
    )


def _book(
    per: _PerCoin, size: FloatArray, market: ChainMarket, coin: FloatArray, und: np.ndarray
) -> _Book:
    """Values and Greeks of the legs held (``size`` (T, legs)) at every grid time, the coin
    held added to the delta and, at the index, to the value."""
    n_u = len(market.underlyings)
    member = (und[:, None] == np.arange(n_u)[None, :]).astype(float)  # (legs, U)

    def per_und(x: FloatArray) -> FloatArray:
        summed: FloatArray = (size * x) @ member
        return summed

    vega = size * per.vega
    weight = np.abs(vega) @ member
    sigma = (np.abs(vega) * np.where(per.on, per.iv, 0.0)) @ member
    near = np.where(per.live & (size != 0), per.tau_years, np.inf)
    nearest = np.stack([near[:, und == u].min(axis=1, initial=np.inf) for u in range(n_u)], 1)
    return _Book(
        size,
        per.price_usd,
        coin * market.spot_usd,
        per_und(per.delta) + coin,
        per_und(per.gamma),
        per_und(per.theta),
        vega,
        per_und(per.vanna),
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
    option_slippage: FloatArray  # the option-hedge loop's trades at each time (0: none)
    option_fees: FloatArray


def _book_terms(
    legs: tuple[ChainLeg, ...], market: ChainMarket, book: _Book, hedged: HedgeTrades | None
) -> _Terms:
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
    # What the legs held over the step earned: a size changed at a grid time is a trade at
    # that time's price (its cost is slippage and fees), not a move of the book.
    book_move = (before(book.size_coin) * step(book.price_usd)) @ member
    book_move += step(book.coin_value_usd)
    book_delta = before(book.delta_coin)
    residual = book_move - book_delta * ds - gamma - theta - vega
    periods = step(market.time_ms.astype(float))[:, None] / FUNDING_PERIOD_MS
    funding = -before(market.hedge_mark_usd * np.nan_to_num(market.funding_rate)) * periods
    none = np.zeros_like(ds)
    return _Terms(
        ds, gamma, theta, vega, residual, book_delta, step(market.hedge_mark_usd), funding,
        none if hedged is None else hedged.slippage_usd,
        none if hedged is None else hedged.fees_usd,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every strategy's task reads and none changes: sent to each worker once. ``books``
    holds the book's values and terms (with the option hedge's call, then without it)."""

    market: ChainMarket
    books: tuple[tuple[_Book, _Terms], ...]
    costs: ChainCosts
    initial_hedge_coin: FloatArray
    lots: FloatArray


def _strategy_task(shared: _Shared, task: tuple[int, StrategySpec]) -> ChainStrategyResult:
    """One strategy over the whole grid on one of the books (a runner's task)."""
    index, spec = task
    book, terms = shared.books[index]
    return _run_one(
        spec,
        shared.market,
        book=book,
        terms=terms,
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
        np.nan_to_num(trade * (fill - market.hedge_mark_usd)) + terms.option_slippage,
        np.nan_to_num(size * fill * costs.fee_frac) + terms.option_fees,
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
