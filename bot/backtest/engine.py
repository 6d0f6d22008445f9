"""The vectorised simulation loop: one chunk of paths, every strategy in lockstep.

Per chunk, the model draws the spot paths (chunk × (steps + 1) floats, the
largest array held). Then for each grid time t_k, k = 0..steps:

1. value the live legs with :func:`bot.pricing.black_scholes` over all paths
   (once, shared by every strategy: the book does not depend on the hedge);
2. for k ≥ 1, book the step's P&L into the attribution terms (see
   :class:`bot.backtest.spec.PathOutcome`), accrue interest on cash
   (``carry = "financed"``) and charge funding on the hedge held over the step;
3. settle legs expiring at t_k: the payoff moves to USD cash (linear) or to the
   coin balance (coin-settled), so wealth is unchanged;
4. for k < steps, build a :class:`strategies.base.HedgeState` with one element
   per path and call each strategy's ``target_hedge`` — the kernel the daemon
   calls — then trade the difference at spot, paying ``Costs.cost_frac`` of the
   traded notional; at k = steps, close the hedge at the same cost.

Wealth starts at zero: the legs are bought or written at model value and the
initial hedge is bought with cash. Only per-path totals survive the chunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from bot.backtest.book import Book, OptionLeg, book_greeks
from bot.backtest.paths import PathModel
from bot.backtest.spec import (
    FUNDING_PERIODS_PER_YEAR,
    OUTCOME_FIELDS,
    Carry,
    Costs,
    PathOutcome,
    StrategySpec,
)
from bot.domain.timeunits import SECONDS_PER_YEAR
from bot.pricing.arrays import FloatArray
from strategies.base import HedgeState

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


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """Per-path totals (fields × strategies × paths) and the sample paths of one chunk."""

    totals: FloatArray
    premium_usd: FloatArray
    sample_spot_usd: FloatArray
    sample_delta_coin: FloatArray
    sample_hedge_coin: FloatArray

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


def _intrinsic(leg: OptionLeg, spot_usd: FloatArray) -> FloatArray:
    payoff = spot_usd - leg.strike_usd if leg.is_call else leg.strike_usd - spot_usd
    return leg.quantity_coin * np.maximum(payoff, 0.0)


def simulate_chunk(inputs: ChunkInputs, task: ChunkTask) -> ChunkOutcome:  # noqa: C901, PLR0912, PLR0915 - one pass of the vectorised hedge over the path matrix; split, each step would hand its state between helpers
    """Run every strategy of ``task`` over one chunk of paths (pure: the seed fixes it)."""
    strategies = [spec.build() for spec in task.specs]
    book = inputs.book
    chunk = inputs.models[task.model_index].simulate(
        chunk_rng(task.seed, task.chunk_index),
        task.first_path,
        task.n_paths,
        task.steps,
        task.dt_years,
    )
    spots = np.ascontiguousarray(chunk.spot_usd.T)  # (steps + 1, paths): rows are contiguous
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
    book_terms = np.zeros((4, m))  # gamma, theta, vega, residual: the same for every strategy
    hedge = np.full((n_s, m), book.initial_hedge_coin)
    since_s = np.full((n_s, m), NEVER_HEDGED_S)
    live = list(book.legs)
    s0 = spots[0]
    coin_bal = np.zeros(m)
    cash = np.empty((n_s, m))
    cash[:] = -book.initial_hedge_coin * s0
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
    sample_delta = np.empty((k_samples, steps))
    sample_hedge = np.empty((n_s, k_samples, steps))
    prev = book_greeks(live, s0, 0.0, vol_at(0), rate)
    for k in range(steps + 1):
        t, spot = k * dt, spots[k]
        if k > 0:
            g = book_greeks(live, spot, t, vol_at(k), rate)
            ds = spot - spots[k - 1]
            d_vol = vol_at(k) - np.asarray(vol_at(k - 1)) if vols is not None else 0.0
            gamma = 0.5 * prev.gamma_coin_per_usd * ds * ds
            theta = prev.theta_usd * dt
            vega = prev.vega_usd * d_vol
            book_terms[0] += gamma
            book_terms[1] += theta
            book_terms[2] += vega
            book_terms[3] += (
                g.value_usd - prev.value_usd - prev.delta_coin * ds - gamma - theta - vega
            )
            interest = cash * growth
            funding = hedge * spots[k - 1] * -funding_per_step
            cash += interest + funding
            totals[_IDX["carry_usd"]] += interest
            totals[_IDX["funding_usd"]] += funding
            totals[_IDX["delta_usd"]] += (prev.delta_coin + coin_bal + hedge) * ds
            settled = [leg for leg in live if leg.expiry_years <= t + 1e-9 * horizon]
            for leg in settled:
                payoff = _intrinsic(leg, spot)
                if leg.settlement == "coin":
                    coin_bal += payoff / spot
                else:
                    cash += payoff
            if settled:
                live = [leg for leg in live if leg not in settled]
                g = book_greeks(live, spot, t, vol_at(k), rate)
            prev = g
        if k == steps:
            unwind = np.abs(hedge) * spot * cost_frac
            cash += hedge * spot - unwind
            totals[_IDX["cost_usd"]] += unwind
            totals[_IDX["unwind_cost_usd"]] += unwind
            totals[_IDX["trades"]] += hedge != 0
            totals[_IDX["turnover_coin"]] += np.abs(hedge)
            totals[_IDX["turnover_usd"]] += np.abs(hedge) * spot
            break
        net_delta = prev.delta_coin + coin_bal
        sigma = vols[k] if vols is not None else sigma_const
        tau = np.full(m, min(leg.expiry_years for leg in live) - t)
        vega_volpt, theta_day = prev.vega_usd / 100.0, prev.theta_usd / 365.0
        sample_delta[:, k] = net_delta[:k_samples]
        for j, strategy in enumerate(strategies):
            state = HedgeState(
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
                time_since_hedge_s=since_s[j],
            )
            target = strategy.target_hedge(state)
            trade = target - hedge[j]
            size = np.abs(trade)
            cost = size * spot * cost_frac
            cash[j] -= trade * spot + cost
            hedge[j] = target
            traded = trade != 0
            # Rounded to the µs, so an interval of exactly one step is due at every step.
            since_s[j] = np.round(np.where(traded, dt_s, since_s[j] + dt_s), 6)
            totals[_IDX["cost_usd"], j] += cost
            totals[_IDX["trades"], j] += traded
            totals[_IDX["turnover_coin"], j] += size
            totals[_IDX["turnover_usd"], j] += size * spot
        sample_hedge[:, :, k] = hedge[:, :k_samples]
    for i, name in enumerate(("gamma_usd", "theta_usd", "vega_usd", "residual_usd")):
        totals[_IDX[name]] = book_terms[i]
    totals[_IDX["pnl_usd"]] = cash + coin_bal * spots[steps]
    return ChunkOutcome(totals, premium, spots[:, :k_samples].T.copy(), sample_delta, sample_hedge)
