"""The vectorised simulation loop: one chunk of paths, every strategy in lockstep.

Per chunk, the model draws the spot paths (chunk × (steps + 1) floats, the
largest array held). Then for each grid time t_k, k = 0..steps:

1. value the live legs over all paths (:class:`bot.backtest.book_pricer.BookPricer`:
   once, shared by every strategy, since the book does not depend on the hedge);
2. for k ≥ 1, add the step's book P&L to the attribution sums (see
   :class:`bot.backtest.spec.PathOutcome`; the residual is what the terms leave
   of the value's change), and charge funding on the hedge held over the step;
   interest on each strategy's cash (``carry = "financed"``) and its hedge's
   delta P&L are booked by its :class:`bot.backtest.ledger.Ledger` when its
   cash or hedge next changes;
3. settle legs expiring at t_k: the payoff moves to USD cash (linear) or to the
   coin balance (coin-settled), so wealth is unchanged;
4. for k < steps, build a :class:`strategies.base.HedgeState` with one element
   per path and call each strategy's ``target_hedge`` — the kernel the daemon
   calls — then trade the difference at spot, paying ``Costs.cost_frac`` of the
   traded notional; at k = steps, close the hedge at the same cost. A strategy
   that keeps every hedge for ``due_after_s`` after a trade
   (:class:`strategies.base.ScheduledStrategy`: ``interval``) is not called
   before then while its paths' clocks agree: its hedges are kept as the call
   would have kept them.

Wealth starts at zero: the legs are bought or written at model value and the
initial hedge is bought with cash. Only per-path totals survive the chunk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from bot.backtest.book import Book, BookGreeks, OptionLeg, book_greeks
from bot.backtest.book_pricer import BookPricer
from bot.backtest.ledger import Ledger
from bot.backtest.paths import PathModel
from bot.backtest.spec import (
    FUNDING_PERIODS_PER_YEAR,
    OUTCOME_FIELDS,
    Carry,
    Costs,
    OptionHedgeSpec,
    PathOutcome,
    StrategySpec,
)
from bot.backtest.vega_lots import vega_hedge_coin
from bot.domain.greek_limits import MIN_DAYS, STANDARD_DAYS
from bot.domain.timeunits import DAYS_PER_YEAR, SECONDS_PER_YEAR
from bot.pricing import black_scholes
from bot.pricing.arrays import FloatArray
from bot.pricing.compiled import compiled
from strategies.base import HedgeState, due_after_s

N_SAMPLES: Final = 3
"""Paths of the first chunk whose spot, delta and hedges are kept for the report's chart."""
PER_PATH_ARRAYS: Final = 100
"""Arrays of one float per path the loop holds besides each strategy's: the book's Greeks and
their temporaries (75 to 95 measured, whatever the model)."""
NEVER_HEDGED_S: Final = 1e12
"""``time_since_hedge_s`` before the first trade: finite (kernels reject inf), ~31,700 years."""
_IDX = {name: i for i, name in enumerate(OUTCOME_FIELDS)}


@dataclass(frozen=True, slots=True)
class ChunkInputs:
    """The read-only inputs every chunk of a run shares: the book and the price models.

    A runner sends them to each worker once (a recorded history can be large);
    a :class:`ChunkTask` names its model by index.
    """

    book: Book
    models: tuple[PathModel, ...]


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """What one chunk adds to the shared inputs: paths ``first_path`` .. for ``specs``."""

    model_index: int
    specs: tuple[StrategySpec, ...]
    costs: Costs
    carry: Carry
    rate: float
    pricing_vol: float | None
    steps: int
    dt_years: float
    seed: int
    chunk_index: int
    first_path: int
    n_paths: int
    n_samples: int
    option_hedge: OptionHedgeSpec | None = None
    """The option-hedge loop (None: delta hedging only)."""


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """Per-path totals (fields × strategies × paths) and the sample paths of one chunk."""

    totals: FloatArray
    premium_usd: FloatArray
    sample_spot_usd: FloatArray
    sample_delta_coin: FloatArray
    sample_hedge_coin: FloatArray
    option_hedge_cost_usd: FloatArray | None = None
    """Per path, what the option-hedge loop paid (included in every strategy's cost)."""

    def outcome(self, j: int) -> PathOutcome:
        """Strategy ``j``'s totals as a :class:`PathOutcome`."""
        return PathOutcome(*(self.totals[i, j] for i in range(len(OUTCOME_FIELDS))))


def chunk_memory_bytes(model: PathModel, n_paths: int, steps: int, n_strategies: int) -> int:
    """Bytes :func:`simulate_chunk` holds at its peak for a chunk of ``n_paths``: the model's
    path arrays (``model.path_arrays`` × paths × (steps + 1)), per path the book's arrays and
    each strategy's totals, hedge, time since the hedge and cash and its step's target, trade
    and cost, and the sample paths."""
    per_strategy = len(OUTCOME_FIELDS) + 6
    floats = (
        n_paths * (steps + 1) * model.path_arrays
        + n_paths * (PER_PATH_ARRAYS + n_strategies * per_strategy)
        + N_SAMPLES * steps * (1 + n_strategies)
    )
    return 8 * floats


def chunk_rng(seed: int, chunk_index: int) -> np.random.Generator:
    """The generator of one chunk: paths depend on (seed, chunk), not on worker layout."""
    return np.random.default_rng(np.random.SeedSequence([seed, chunk_index]))


def _fields_read(strategies: Sequence[object]) -> frozenset[str]:
    """The state fields some strategy reads; one that does not say reads them all."""
    every = HedgeState.__dataclass_fields__
    return frozenset(name for s in strategies for name in getattr(s, "reads", every))


def _intrinsic(leg: OptionLeg, spot_usd: FloatArray) -> FloatArray:
    payoff = spot_usd - leg.strike_usd if leg.is_call else leg.strike_usd - spot_usd
    return leg.quantity_coin * np.maximum(payoff, 0.0)


def simulate_chunk(inputs: ChunkInputs, task: ChunkTask) -> ChunkOutcome:  # noqa: C901, PLR0912, PLR0915 - one pass of the vectorised hedge over the path matrix; split, each step would hand its state between helpers
    """Run every strategy of ``task`` over one chunk of paths (pure: the seed fixes it)."""
    strategies = [spec.build() for spec in task.specs]
    due_after = [due_after_s(strategy) for strategy in strategies]
    book = inputs.book
    chunk = inputs.models[task.model_index].simulate(
        chunk_rng(task.seed, task.chunk_index),
        task.first_path,
        task.n_paths,
        task.steps,
        task.dt_years,
    )
    # (steps + 1, paths) with contiguous rows: free for the models' time-major paths.
    spots = np.ascontiguousarray(chunk.spot_usd.T)
    vols = None if chunk.implied_vol is None else np.ascontiguousarray(chunk.implied_vol.T)
    if vols is None and task.pricing_vol is None:
        raise ValueError("no pricing vol: give one, or a CSV with an iv column")
    m, n_s, steps, dt = task.n_paths, len(strategies), task.steps, task.dt_years
    k_samples = min(task.n_samples, m)
    rate, horizon = task.rate, book.horizon_years
    growth = math.expm1(rate * dt) if task.carry == "financed" else 0.0
    funding_per_step = task.costs.funding_per_8h * dt * FUNDING_PERIODS_PER_YEAR
    cost_frac, dt_s = task.costs.cost_frac, dt * SECONDS_PER_YEAR

    const_vol = 0.0 if task.pricing_vol is None else task.pricing_vol  # unused with vols

    def vol_at(k: int) -> FloatArray | float:
        return vols[k] if vols is not None else const_vol

    totals = np.zeros((len(OUTCOME_FIELDS), n_s, m))
    # The book's attribution sums over the steps, the same for every strategy: its options'
    # and its coin's delta P&L, its value's change, 2 x gamma P&L, theta (per year), vega.
    sums = np.zeros((len(_SUMS), m))
    option_delta, coin_delta, value_change, gamma_2x, theta_years, vega_sum = sums
    hedge = np.full((n_s, m), book.initial_hedge_coin)
    live = list(book.legs)
    s0 = spots[0]
    coin_bal = np.zeros(m)
    cash = np.empty((n_s, m))
    cash[:] = -book.initial_hedge_coin * s0
    ledgers = [
        Ledger(
            hedge[j], cash[j], totals[:, j], spots, growth=growth, dt_s=dt_s, clock_s=NEVER_HEDGED_S
        )
        for j in range(n_s)
    ]
    premium = np.zeros(m)
    for leg in live:
        v0 = book_greeks([leg], s0, 0.0, vol_at(0), rate).value_usd
        premium += v0
        if leg.settlement == "coin":
            coin_bal -= v0 / s0
        else:
            cash -= v0
    consts = {
        name: np.full(m, value)
        for name, value in (("zero", 0.0), ("rate", rate), ("cost", cost_frac))
    }
    sigma_const = np.full(m, const_vol)
    tau = np.empty(m)
    coin_net = np.empty(m)
    vega_volpt, theta_day = np.zeros((2, m))
    has_coin = any(leg.settlement == "coin" for leg in live)
    sample_delta = np.empty((k_samples, steps))
    sample_hedge = np.empty((n_s, k_samples, steps))
    oh = task.option_hedge
    hedger = None if oh is None else _OptionHedger(oh, s0, horizon, rate)
    # Vanna and the standardised vega only if a strategy reads them (one that does not say
    # what it reads is assumed to) or the option hedge sizes by them.
    read = _fields_read(strategies)
    cross = hedger is not None or "vanna_coin_per_vol" in read
    # Cash moves for every strategy at every step with funding or the option hedge: their
    # ledgers are booked each step then, else only when they trade or a leg settles.
    every_step = funding_per_step != 0.0 or hedger is not None
    vega = vols is not None or hedger is not None or "vega_usd_per_volpt" in read
    pricer = BookPricer(m, rate, cross=cross, vega=vega)
    slot = 0
    prev = pricer.price(live, s0, 0.0, vol_at(0), slot=slot)
    for k in range(steps + 1):
        t, spot = k * dt, spots[k]
        if hedger is not None:
            hedger.price(spot, t, vol_at(k))
        if k > 0:
            slot = 1 - slot
            g = pricer.price(live, spot, t, vol_at(k), slot=slot)
            if hedger is not None:
                g = hedger.added(g)
            _attribute(
                sums,
                spot,
                spots[k - 1],
                prev.delta_coin,
                prev.gamma_coin_per_usd,
                prev.theta_usd,
                prev.value_usd,
                g.value_usd,
                coin_bal,
                spot if vols is None else vols[k],
                spot if vols is None else vols[k - 1],
                prev.vega_usd,
                has_coin,
                vols is not None,
            )
            if every_step:
                for ledger in ledgers:
                    ledger.book_to(k)
            if funding_per_step != 0.0:
                funding = hedge * spots[k - 1] * -funding_per_step
                totals[_IDX["funding_usd"]] += funding
                cash += funding
            settled = [leg for leg in live if leg.expiry_years <= t + 1e-9 * horizon]
            if settled:
                for ledger in ledgers:
                    ledger.book_to(k)
            for leg in settled:
                payoff = _intrinsic(leg, spot)
                if leg.settlement == "coin":
                    coin_bal += payoff / spot
                else:
                    cash += payoff
            if settled:
                live = [leg for leg in live if leg not in settled]
                g = pricer.price(live, spot, t, vol_at(k), slot=slot)
                if hedger is not None:
                    g = hedger.added(g)
            prev = g
        if hedger is not None:
            paid = hedger.trade(prev, closing=k == steps)
            for ledger in ledgers:
                ledger.book_to(k)
            cash -= paid.cash_out_usd
            totals[_IDX["cost_usd"]] += paid.cost_usd
            prev = hedger.added(prev, paid.dq_coin)
        if k == steps:
            for ledger in ledgers:
                ledger.book_to(k)
            unwind = np.abs(hedge) * spot * cost_frac
            cash += hedge * spot - unwind
            totals[_IDX["cost_usd"]] += unwind
            totals[_IDX["unwind_cost_usd"]] += unwind
            totals[_IDX["trades"]] += hedge != 0
            totals[_IDX["turnover_coin"]] += np.abs(hedge)
            totals[_IDX["turnover_usd"]] += np.abs(hedge) * spot
            break
        # Coin held (coin-settled premiums and payoffs) is delta too; without such legs
        # there is none to add.
        net_delta = np.add(prev.delta_coin, coin_bal, out=coin_net) if has_coin else prev.delta_coin
        sigma = vols[k] if vols is not None else sigma_const
        tau.fill(min(leg.expiry_years for leg in live) - t)
        if "vega_usd_per_volpt" in read:  # else zero, like vanna: no strategy looks
            np.divide(prev.vega_usd, 100.0, out=vega_volpt)
        if "theta_usd_per_day" in read:
            np.divide(prev.theta_usd, 365.0, out=theta_day)
        sample_delta[:, k] = net_delta[:k_samples]
        # The step's state is built for the first strategy due (one between its scheduled
        # re-hedges keeps every hedge uncalled) and handed to the others with their hedges.
        shared: HedgeState | None = None
        for j, (strategy, ledger) in enumerate(zip(strategies, ledgers, strict=True)):
            if not ledger.due(due_after[j]):
                ledger.hold()
                continue
            if shared is None:
                shared = state = HedgeState(
                    spot_usd=spot,
                    net_delta_coin=net_delta,
                    net_delta_fixed_vol_coin=net_delta,
                    gamma_coin_per_usd=prev.gamma_coin_per_usd,
                    vanna_coin_per_vol=prev.vanna_coin,
                    vega_usd_per_volpt=vega_volpt,
                    theta_usd_per_day=theta_day,
                    hedge_coin=hedge[j],
                    target_delta_coin=consts["zero"],
                    sigma=sigma,
                    tau_years=tau,
                    rate=consts["rate"],
                    cost_frac=consts["cost"],
                    time_since_hedge_s=ledger.time_since_hedge_s(),
                )
            else:
                state = shared.for_hedge(hedge[j], ledger.time_since_hedge_s())
            ledger.trade_to(strategy.target_hedge(state), k, cost_frac)
        sample_hedge[:, :, k] = hedge[:, :k_samples]
    # The residual is what the terms leave of the value's change over the steps.
    gamma_usd = np.multiply(gamma_2x, 0.5, out=gamma_2x)
    theta_usd = np.multiply(theta_years, dt, out=theta_years)
    residual = np.subtract(value_change, option_delta, out=value_change)
    for name, term in (("gamma_usd", gamma_usd), ("theta_usd", theta_usd), ("vega_usd", vega_sum)):
        totals[_IDX[name]] = term
        residual -= term
    totals[_IDX["residual_usd"]] = residual
    totals[_IDX["delta_usd"]] += option_delta + coin_delta
    totals[_IDX["pnl_usd"]] = cash + coin_bal * spots[steps]
    return ChunkOutcome(
        totals,
        premium,
        spots[:, :k_samples].T.copy(),
        sample_delta,
        sample_hedge,
        None if hedger is None else hedger.cost_usd,
    )


_SUMS: Final = ("option_delta", "coin_delta", "value_change", "gamma_2x", "theta_years", "vega")
"""The book's attribution sums over the steps, rows of one array (see :func:`_attribute`)."""


@compiled("void(float64[:, ::1], " + ", ".join(["float64[::1]"] * 11) + ", boolean, boolean)")
def _attribute(  # noqa: PLR0917 - the step's arrays passed flat, as compiled code takes them
    sums: FloatArray,
    spot: FloatArray,
    spot_before: FloatArray,
    delta_coin: FloatArray,
    gamma_coin_per_usd: FloatArray,
    theta_usd: FloatArray,
    value_before_usd: FloatArray,
    value_usd: FloatArray,
    coin_bal: FloatArray,
    vol_now: FloatArray,
    vol_before: FloatArray,
    vega_usd: FloatArray,
    has_coin: bool,
    has_vols: bool,
) -> None:
    """One step's book P&L into the :data:`_SUMS` rows of ``sums``, per path: the options'
    delta P&L Δ·dS (Greeks of the step's start), the held coin's (``has_coin``), the value's
    change, Γ·dS² (twice the gamma P&L), θ (per year) and, ``has_vols``, vega·dσ. The
    numpy passes it replaced did the same operations per path, in the same order.

    Example: Δ 0.5, Γ 0.02, spot 100 → 102, value 10 → 11.1: 1.0 USD of delta P&L,
    0.08 of 2 x gamma P&L, 1.1 of value change.
    """
    for i in range(spot.size):
        ds = spot[i] - spot_before[i]
        sums[0, i] += delta_coin[i] * ds
        if has_coin:
            sums[1, i] += coin_bal[i] * ds
        sums[2, i] += value_usd[i]
        sums[2, i] -= value_before_usd[i]
        sums[3, i] += ds * ds * gamma_coin_per_usd[i]
        sums[4, i] += theta_usd[i]
        if has_vols:
            sums[5, i] += (vol_now[i] - vol_before[i]) * vega_usd[i]


@dataclass(frozen=True, slots=True)
class _Paid:
    dq_coin: FloatArray
    cash_out_usd: FloatArray
    cost_usd: FloatArray


class _OptionHedger:
    """The option-hedge loop's state over one chunk: the hedge call's quantity per path and
    its Greeks per coin at the current step (:class:`~bot.backtest.spec.OptionHedgeSpec`)."""

    def __init__(self, spec: OptionHedgeSpec, s0: FloatArray, horizon: float, rate: float):
        self.spec, self.strike, self.rate = spec, s0.copy(), rate
        self.expiry_years = max(spec.tenor_days / DAYS_PER_YEAR, horizon + 1.0 / DAYS_PER_YEAR)
        self.q = np.zeros(s0.size)
        self.cost_usd = np.zeros(s0.size)
        self.unit = BookGreeks(*(np.zeros(s0.size) for _ in range(7)))

    def price(self, spot: FloatArray, t: float, vol: FloatArray | float) -> None:
        """The hedge call's Greeks per coin at time ``t`` (one pricing call per step)."""
        tau = self.expiry_years - t
        g = black_scholes(True, spot, self.strike, tau, vol, self.rate)
        weight = 0.01 * math.sqrt(STANDARD_DAYS / max(tau * DAYS_PER_YEAR, MIN_DAYS))
        self.unit = BookGreeks(g.price, g.delta, g.gamma, g.vega, g.theta, g.vanna, g.vega * weight)

    def added(self, g: BookGreeks, q: FloatArray | None = None) -> BookGreeks:
        """``g`` plus ``q`` (default: the position held) coin of the hedge call."""
        qty = self.q if q is None else q
        return BookGreeks(
            *(a + qty * b for a, b in zip(_fields(g), _fields(self.unit), strict=True))
        )

    def trade(self, book: BookGreeks, *, closing: bool) -> _Paid:
        """Lots bought (+) or sold per path to bring |standardised vega| inside the soft limit
        where it is past the hard one; at the horizon, the whole position closed."""
        spec, unit = self.spec, self.unit
        if closing:
            dq = -self.q
        else:
            dq = vega_hedge_coin(
                book.vega_std_usd_per_volpt,
                unit.vega_std_usd_per_volpt,
                hard=spec.hard_vega_usd_per_volpt,
                soft=spec.soft_vega_usd_per_volpt,
                lot_coin=spec.lot_coin,
            )
        cost = np.abs(dq) * unit.value_usd * spec.cost_frac
        self.q = self.q + dq
        self.cost_usd += cost
        return _Paid(dq, dq * unit.value_usd + cost, cost)


def _fields(g: BookGreeks) -> tuple[FloatArray, ...]:
    return (
        g.value_usd,
        g.delta_coin,
        g.gamma_coin_per_usd,
        g.vega_usd,
        g.theta_usd,
        g.vanna_coin,
        g.vega_std_usd_per_volpt,
    )
