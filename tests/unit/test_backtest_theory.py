"""The backtester against hedging theory: Derman-Kamal error, BS replication, Leland costs.

Setting of every test: S = K = 100, T = 1/12, σ = 20 %, r = 5 %, GBM with
drift r, one written call re-hedged to Black-Scholes delta at every step.
"""

from __future__ import annotations

import math

import numpy as np

from bot.backtest import GBM, Book, Costs, OptionLeg, StrategySpec, run_backtest
from bot.pricing import black_scholes

S0, K, T, VOL, RATE = 100.0, 100.0, 1.0 / 12.0, 0.2, 0.05
PATHS = 20_000
EVERY_STEP = StrategySpec("interval", {"interval_s": 1.0})  # due at each grid time
BS = black_scholes(True, S0, K, T, VOL, RATE)


def _pv_pnl(steps: int, *, cost_frac: float = 0.0, initial_hedge: float = 0.0) -> np.ndarray:
    """Discounted hedged P&L per path of the written call."""
    book = Book((OptionLeg(True, K, T, -1.0),), initial_hedge_coin=initial_hedge)
    result = run_backtest(
        book,
        GBM(S0, VOL, RATE),
        [EVERY_STEP],
        Costs(fee_frac=cost_frac),
        paths=PATHS,
        steps=steps,
        seed=11,
        rate=RATE,
    )
    paths = result.strategies[0].paths
    return result.discount() * (paths.pnl_usd + paths.unwind_cost_usd)


def test_hedging_error_std_follows_derman_kamal() -> None:
    """std of the hedging error ≈ √(π/4)·σ·vega/√N (Derman & Kamal 1999), N = 21 and 84.

    vega = ∂V/∂σ per 1.00 of vol (11.5 here). The formula is the leading term
    for an at-the-money option; simulated, the ratio is ~0.96-0.98, so the 5 %
    band holds that approximation error plus ~1 % Monte Carlo error (1/√(2n),
    inflated by the error's fat tails).
    """
    for steps in (21, 84):
        expected = math.sqrt(math.pi / 4.0) * VOL * float(BS.vega) / math.sqrt(steps)
        assert abs(np.std(_pv_pnl(steps)) / expected - 1.0) < 0.05


def test_hedging_error_shrinks_as_one_over_sqrt_n() -> None:
    """Four times as many re-hedges halve the std of the hedging error (within MC error)."""
    ratio = np.std(_pv_pnl(21)) / np.std(_pv_pnl(84))
    assert abs(ratio / 2.0 - 1.0) < 0.04  # each std has ~1.2 % relative MC error


def test_mean_cost_of_writing_and_hedging_is_the_black_scholes_price() -> None:
    """premium − PV(P&L) averages to the BS price: discounted hedging gains are a martingale."""
    for steps in (21, 84):
        pv = _pv_pnl(steps)
        cost_of_writing = float(BS.price) - pv
        se = np.std(pv) / math.sqrt(pv.size)
        assert abs(np.mean(cost_of_writing) - float(BS.price)) < 4.0 * se


def test_rebalancing_cost_matches_leland() -> None:
    """PV of rebalancing costs ≈ C(σ_L) − C(σ), σ_L² = σ²(1 + √(2/π)·k/(σ√Δt)) (Leland 1985).

    k is Leland's round-trip cost, twice the one-way ``cost_frac`` of 1 bp. The
    formula is first order in A = √(2/π)·k/(σ√Δt) = 0.025 here (at A = 0.25 the
    simulated cost is 5 % above it), so the 2 % band covers that term and the
    0.3 % MC error. The hedge starts at delta and the final unwind is excluded:
    Leland prices the rebalancing trades only.
    """
    steps, cost_frac = 84, 1e-4
    delta0 = float(BS.delta)
    free = _pv_pnl(steps, initial_hedge=delta0)
    costly = _pv_pnl(steps, cost_frac=cost_frac, initial_hedge=delta0)
    rebalancing = free - costly  # the same paths and trades: only the costs differ
    dt = T / steps
    k = 2.0 * cost_frac
    vol_leland = VOL * math.sqrt(1.0 + math.sqrt(2.0 / math.pi) * k / (VOL * math.sqrt(dt)))
    leland = float(black_scholes(True, S0, K, T, vol_leland, RATE).price - BS.price)
    assert abs(np.mean(rebalancing) / leland - 1.0) < 0.02
