"""The simulation loop's accounting: exact cash flows, costs, funding, carry, attribution."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pytest

from bot.backtest import GBM, Book, Carry, Costs, OptionLeg, StrategySpec, engine, run_backtest
from bot.backtest.engine import chunk_rng
from bot.backtest.runner import Assembly, plan_backtest
from bot.compute import open_runner
from bot.pricing import black_scholes
from strategies.base import HedgeState
from strategies.interval import Interval

NEVER = StrategySpec("interval", {"interval_s": 1.0, "hedge_ratio": 0.0})  # never trades
EVERY_STEP = StrategySpec("interval", {"interval_s": 1.0})
BAND = StrategySpec("band", {"width_up": 0.05, "width_down": 0.1, "rehedge_to": "edge"})
MIXED = Book(
    (
        OptionLeg(True, 100.0, 0.05, -2.0),
        OptionLeg(False, 95.0, 0.1, 1.0, "coin"),
        OptionLeg(True, 110.0, 0.1, -1.0, "coin"),
    ),
    initial_hedge_coin=0.3,
)
COSTS = Costs(fee_frac=5e-4, spread_frac=4e-4, slippage_frac=1e-4, funding_per_8h=1e-4)


def _spot_paths(seed: int, paths: int, steps: int, dt: float, model: GBM) -> np.ndarray:
    """The spot paths the engine uses for a one-chunk run (same seed, chunk 0)."""
    return model.simulate(chunk_rng(seed, 0), 0, paths, steps, dt).spot_usd


@pytest.mark.parametrize("carry", ["financed", "none"])
def test_attribution_adds_up_to_the_pnl(carry: Carry) -> None:
    """delta+gamma+theta+vega+residual+carry+funding−cost equals the P&L on every path."""
    result = run_backtest(
        MIXED,
        GBM(100.0, 0.5, 0.1),
        [EVERY_STEP, BAND],
        COSTS,
        paths=500,
        steps=40,
        seed=3,
        carry=carry,
        rate=0.05,
    )
    for s in result.strategies:
        np.testing.assert_allclose(s.paths.attributed_usd(), s.paths.pnl_usd, rtol=0, atol=1e-9)
        assert np.all(s.paths.funding_usd != 0)
        assert (np.abs(s.paths.carry_usd) > 0).all() == (carry == "financed")


def test_residual_is_small_when_hedging_often() -> None:
    """Gamma + theta explain the book's revaluation: the residual is third order in dS."""
    result = run_backtest(
        Book((OptionLeg(True, 100.0, 1 / 12, -1.0),)),
        GBM(100.0, 0.2),
        [EVERY_STEP],
        paths=2_000,
        steps=200,
        seed=1,
    )
    p = result.strategies[0].paths
    assert np.std(p.residual_usd) < 0.1 * np.std(p.gamma_usd)


def test_unhedged_written_call_pays_the_payoff_from_financed_premium() -> None:
    """With no hedge, P&L = premium·e^(rT) − payoff, exactly, on the engine's own paths."""
    model, rate, tau = GBM(100.0, 0.3, 0.02), 0.05, 0.25
    result = run_backtest(
        Book((OptionLeg(True, 105.0, tau, -1.0),)),
        model,
        [NEVER],
        paths=300,
        steps=30,
        seed=9,
        rate=rate,
    )
    spot_t = _spot_paths(9, 300, 30, tau / 30, model)[:, -1]
    premium = float(black_scholes(True, 100.0, 105.0, tau, 0.3, rate).price)
    expected = premium * math.exp(rate * tau) - np.maximum(spot_t - 105.0, 0.0)
    np.testing.assert_allclose(result.strategies[0].paths.pnl_usd, expected, rtol=1e-12)


def test_coin_settled_premium_and_payoff_are_held_in_coin() -> None:
    """Unhedged written coin call: P&L = (V₀/S₀)·S_T − payoff, coin premium priced as BS/S."""
    model, tau = GBM(60_000.0, 0.6), 30 / 365
    result = run_backtest(
        Book((OptionLeg(True, 60_000.0, tau, -1.0, "coin"),)),
        model,
        [NEVER],
        paths=200,
        steps=10,
        seed=2,
        pricing_vol=0.6,
    )
    spot_t = _spot_paths(2, 200, 10, tau / 10, model)[:, -1]
    premium_coin = 0.06854  # docs/architecture.md §3 worked example
    expected = premium_coin * spot_t - np.maximum(spot_t - 60_000.0, 0.0)
    np.testing.assert_allclose(result.strategies[0].paths.pnl_usd, expected, rtol=0, atol=0.5)


def test_costs_are_cost_frac_of_traded_notional() -> None:
    """cost = (fee + spread/2 + slippage) × turnover in USD, unwind included."""
    result = run_backtest(
        MIXED, GBM(100.0, 0.5), [EVERY_STEP, BAND], COSTS, paths=300, steps=20, seed=4
    )
    for s in result.strategies:
        np.testing.assert_allclose(s.paths.cost_usd, 0.0008 * s.paths.turnover_usd, rtol=1e-12)


def test_funding_is_paid_by_a_long_hedge_per_8h_on_notional() -> None:
    """A constant long hedge of 1 coin pays rate × notional × (8h periods) per step."""
    book = Book((OptionLeg(True, 100.0, 0.1, 1e-9),), initial_hedge_coin=1.0)
    keep = StrategySpec("band", {"width_up": 1e6, "width_down": 1e6})
    model = GBM(100.0, 0.4)
    result = run_backtest(
        book, model, [keep], Costs(funding_per_8h=2e-4), paths=100, steps=25, seed=5
    )
    spots = _spot_paths(5, 100, 25, 0.1 / 25, model)
    periods_per_step = 0.1 / 25 * 365 * 3
    expected = -2e-4 * periods_per_step * spots[:, :-1].sum(axis=1)
    np.testing.assert_allclose(result.strategies[0].paths.funding_usd, expected, rtol=1e-12)


def test_interval_strategy_trades_at_every_step_and_band_trades_less() -> None:
    """Due every step: N trades plus the unwind (fewer once delta is exactly 0); a band fewer."""
    result = run_backtest(
        Book((OptionLeg(True, 100.0, 1 / 12, -1.0),)),
        GBM(100.0, 0.2),
        [EVERY_STEP, BAND],
        paths=500,
        steps=50,
        seed=6,
    )
    every, band = (s.paths for s in result.strategies)
    assert every.trades.max() == 51 and np.median(every.trades) == 51
    assert band.trades.mean() < 0.5 * every.trades.mean()


def test_results_do_not_depend_on_workers_or_strategy_order() -> None:
    """Paths depend on (seed, chunk) only: a 2-worker local cluster, reordered strategies
    agree bit for bit with a serial run."""
    kwargs = {"paths": 900, "steps": 12, "seed": 8, "chunk_paths": 400}
    one = run_backtest(MIXED, GBM(100.0, 0.5), [EVERY_STEP, BAND], COSTS, **kwargs)  # type: ignore[arg-type]
    with open_runner("local", workers=2) as runner:
        two = run_backtest(
            MIXED,
            GBM(100.0, 0.5),
            [BAND, EVERY_STEP],
            COSTS,
            runner=runner,
            **kwargs,  # type: ignore[arg-type]
        )
    assert one.n_paths == two.n_paths == 900
    np.testing.assert_array_equal(one.strategies[0].paths.pnl_usd, two.strategies[1].paths.pnl_usd)
    np.testing.assert_array_equal(one.strategies[1].paths.pnl_usd, two.strategies[0].paths.pnl_usd)
    np.testing.assert_array_equal(one.premium_usd, two.premium_usd)


def test_outcomes_assemble_the_same_in_any_order() -> None:
    """Chunks assembled last to first land on their own paths and give the in-order result,
    field for field; a result with a task missing is refused."""
    plan = plan_backtest(
        MIXED,
        GBM(100.0, 0.5),
        [EVERY_STEP, BAND],
        COSTS,
        paths=700,
        steps=12,
        seed=8,
        chunk_paths=400,
        workers=4,
    )
    inputs = engine.ChunkInputs(MIXED, (GBM(100.0, 0.5),))
    outcomes = [engine.simulate_chunk(inputs, task) for task in plan.tasks]
    assert len(plan.groups) == 2 and plan.n_chunks == 2
    in_order = plan.merge(inputs, outcomes)
    band_chunk_1 = outcomes[1 * 2 + 1].outcome(0)  # task c * n_groups + g; BAND is group 1
    np.testing.assert_array_equal(in_order.strategies[1].paths.pnl_usd[400:], band_chunk_1.pnl_usd)
    backwards = Assembly(plan)
    for index in reversed(range(len(outcomes))):
        backwards.add(index, outcomes[index])
    result = backwards.result(inputs)
    np.testing.assert_array_equal(result.premium_usd, in_order.premium_usd)
    np.testing.assert_array_equal(result.sample_spot_usd, in_order.sample_spot_usd)
    for mine, theirs in zip(result.strategies, in_order.strategies, strict=True):
        assert mine.spec is theirs.spec
        np.testing.assert_array_equal(mine.sample_hedge_coin, theirs.sample_hedge_coin)
        for field in engine.OUTCOME_FIELDS:
            np.testing.assert_array_equal(getattr(mine.paths, field), getattr(theirs.paths, field))
    partial = Assembly(plan)
    for index in (0, 1, 3):
        partial.add(index, outcomes[index])
    with pytest.raises(
        ValueError, match=r"1 of 4 tasks missing from the run \(the first: task 2\)"
    ):
        partial.result(inputs)


def test_samples_track_the_first_paths() -> None:
    """Sample spot, delta and hedge have the documented shapes; a full hedge is −delta."""
    result = run_backtest(
        Book((OptionLeg(True, 100.0, 0.1, -1.0),)),
        GBM(100.0, 0.2),
        [EVERY_STEP],
        paths=50,
        steps=8,
        seed=1,
    )
    assert result.sample_spot_usd.shape == (3, 9)
    assert result.time_years.shape == (9,)
    np.testing.assert_allclose(
        result.strategies[0].sample_hedge_coin, -result.sample_delta_coin, atol=1e-15
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paths": 0}, "paths"),
        ({"seed": -1}, "seed"),
        ({"carry": "sometimes"}, "carry"),
        ({"pricing_vol": -0.1}, "pricing vol"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, object], message: str) -> None:
    """Invalid run settings raise ValueError naming the setting."""
    given: dict[str, object] = {"paths": 10, "steps": 5, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        run_backtest(MIXED, GBM(100.0, 0.2), [EVERY_STEP], **given)  # type: ignore[arg-type]


def test_unknown_strategy_fails_before_any_work() -> None:
    """A bad strategy name raises the registry's error, listing the available names."""
    with pytest.raises(ValueError, match="available"):
        run_backtest(MIXED, GBM(100.0, 0.2), [StrategySpec("nope")], paths=10, steps=5, seed=0)


class TestSchedule:
    """An interval strategy between its re-hedges is not called: nothing else changes."""

    SPECS: ClassVar = [  # every 1, 3 and 7 steps of 1/600 year, a hair under
        StrategySpec("interval", {"interval_s": n * 52_560.0 * (1 - 1e-9)}) for n in (1, 3, 7)
    ]

    def _run(self) -> list[np.ndarray]:
        result = run_backtest(MIXED, GBM(100.0, 0.5), [*self.SPECS, BAND], COSTS, paths=300,
                              steps=60, seed=9, rate=0.03)  # fmt: skip
        return [getattr(s.paths, f) for s in result.strategies for f in s.paths.__slots__]

    def test_called_only_when_due(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A scheduled strategy is asked only when some path is due: the every-step one at
        all 60 steps, the others far less often."""
        calls: list[tuple[float, float]] = []
        original = Interval.target_hedge

        def spy(self: Interval, state: HedgeState) -> np.ndarray:
            calls.append((self.params.interval_s, float(state.time_since_hedge_s.max())))
            return original(self, state)

        monkeypatch.setattr(Interval, "target_hedge", spy)
        self._run()
        assert all(since >= interval_s for interval_s, since in calls)
        counts = [sum(c[0] == spec.params["interval_s"] for c in calls) for spec in self.SPECS]
        assert counts[0] == 60 and counts[1] < 30 and counts[2] < 15

    def test_outcomes_equal_calling_at_every_step(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every outcome is bit for bit the one of a run that asks every strategy every step."""
        scheduled = self._run()
        monkeypatch.setattr(engine, "due_after_s", lambda strategy: 0.0)
        for got, want in zip(scheduled, self._run(), strict=True):
            np.testing.assert_array_equal(got, want)
