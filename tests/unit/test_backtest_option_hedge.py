"""The backtester's option-hedge loop (proposals auto-approved): exact accounting, and what it
changes in the attribution against the same paths without it."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from bot.backtest import GBM, Book, Costs, OptionLeg, StrategySpec, run_backtest
from bot.backtest.engine import ChunkInputs, ChunkTask, simulate_chunk
from bot.backtest.spec import OptionHedgeSpec

SHORT_CALLS = Book((OptionLeg(True, 100.0, 0.25, -10.0),))
EVERY_STEP = StrategySpec("interval", {"interval_s": 1.0})
INPUTS = ChunkInputs(SHORT_CALLS, (GBM(100.0, 0.5),))
TASK = ChunkTask(
    model_index=0, specs=(EVERY_STEP,), costs=Costs(fee_frac=5e-4),
    carry="none", rate=0.0, pricing_vol=0.5, steps=60, dt_years=0.25 / 60, seed=4,
    chunk_index=0, first_path=0, n_paths=400, n_samples=0,
)  # fmt: skip
LIMITS = OptionHedgeSpec(hard_vega_usd_per_volpt=0.5, soft_vega_usd_per_volpt=0.3, tenor_days=120)


def test_attribution_still_adds_up_with_option_hedges() -> None:
    """delta+gamma+theta+vega+residual+carry+funding−cost is the P&L on every path, the
    option trades' cost included in cost."""
    out = simulate_chunk(INPUTS, dataclasses.replace(TASK, option_hedge=LIMITS)).outcome(0)
    np.testing.assert_allclose(out.attributed_usd(), out.pnl_usd, rtol=0, atol=1e-9)


def test_the_loop_trades_and_pays_only_when_switched_on() -> None:
    """Off: no option cost; on: every path pays for its hedges, inside its total cost."""
    off = simulate_chunk(INPUTS, TASK)
    on = simulate_chunk(INPUTS, dataclasses.replace(TASK, option_hedge=LIMITS))
    assert off.option_hedge_cost_usd is None
    assert on.option_hedge_cost_usd is not None and (on.option_hedge_cost_usd > 0).all()
    assert (on.outcome(0).cost_usd > on.option_hedge_cost_usd).all()


def test_long_calls_against_short_calls_shrink_the_gamma_pnl() -> None:
    """Buying calls to cut the short vega also cuts the short gamma: the gamma term's spread
    across paths falls well below the unhedged book's."""
    off = simulate_chunk(INPUTS, TASK).outcome(0)
    on = simulate_chunk(INPUTS, dataclasses.replace(TASK, option_hedge=LIMITS)).outcome(0)
    assert np.std(on.gamma_usd) < 0.6 * np.std(off.gamma_usd)


def test_limits_out_of_order_are_refused() -> None:
    """A soft limit above the hard one is an error naming both."""
    with pytest.raises(ValueError, match=re.escape("0 < soft <= hard, got 2.0 and 1.0")):
        OptionHedgeSpec(hard_vega_usd_per_volpt=1.0, soft_vega_usd_per_volpt=2.0)


def test_run_backtest_carries_the_loop_and_its_cost_over_every_chunk() -> None:
    """Three chunks with the loop: one cost per path, as each chunk alone computes it; the run
    without it on the same seed has the same premiums and no cost."""
    common = {"paths": 400, "steps": 60, "seed": 4, "chunk_paths": 150, "carry": "none"}
    model, costs = GBM(100.0, 0.5), Costs(fee_frac=5e-4)
    on = run_backtest(SHORT_CALLS, model, [EVERY_STEP], costs, option_hedge=LIMITS, **common)
    off = run_backtest(SHORT_CALLS, model, [EVERY_STEP], costs, **common)
    assert on.option_hedge is LIMITS and off.option_hedge is None
    assert on.option_hedge_cost_usd is not None and on.option_hedge_cost_usd.shape == (400,)
    assert off.option_hedge_cost_usd is None
    np.testing.assert_array_equal(on.premium_usd, off.premium_usd)
    last = simulate_chunk(INPUTS, dataclasses.replace(TASK, option_hedge=LIMITS, chunk_index=2,
                                                      first_path=300, n_paths=100))  # fmt: skip
    np.testing.assert_array_equal(on.option_hedge_cost_usd[300:], last.option_hedge_cost_usd)
