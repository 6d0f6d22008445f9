"""Event replay (issue 6 §3): one backtest path through the real engine and emulator.

A 30-day short ATM inverse call, hedged daily on the USDC linear perp by a
±0.05 BTC band (rehedge to the centre), along path 0 of a seeded 60% GBM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.app.replay import ReplayError, ReplayResult, replay_path, vector_path
from bot.backtest import GBM, Book, OptionLeg, StrategySpec, run_backtest

WIDTH_COIN = 0.05
BOOK = Book((OptionLeg(True, 60_000.0, 30 / 365, -1.0, "coin"),))
MODEL = GBM(spot0_usd=60_000.0, vol=0.6)
BAND = StrategySpec("band", {"width_up": WIDTH_COIN, "width_down": WIDTH_COIN})
STEPS, SEED = 30, 7


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> ReplayResult:
    return replay_path(
        BOOK, MODEL, BAND, steps=STEPS, seed=SEED, work_dir=tmp_path_factory.mktemp("replay")
    )


def test_engine_trades_at_exactly_the_steps_the_vectorised_run_trades(
    replay: ReplayResult,
) -> None:
    """Same trade/no-trade decision at every one of the 30 steps, and an order at each trade."""
    assert len(replay.steps) == STEPS
    # The path is only a fair test if it trades often and never grazes a band edge:
    # within a lot of an edge, the engine's rounded hedge may legitimately decide otherwise.
    assert 5 <= len(replay.vector_trade_steps) <= STEPS - 5
    deviation = np.array(
        [s.vector_book_delta_coin + s.vector_hedge_before_coin for s in replay.steps]
    )
    assert np.min(np.abs(np.abs(deviation) - WIDTH_COIN)) > replay.lot_coin
    assert replay.engine_trade_steps == replay.vector_trade_steps
    assert replay.order_steps == replay.vector_trade_steps


def test_book_deltas_match_and_targets_agree_within_one_lot(replay: ReplayResult) -> None:
    """The engine's book delta (usd numeraire, premium-adjusted delta plus coin equity) is the
    backtest's net delta to float precision; its targets are within one 0.001 BTC lot."""
    assert replay.lot_coin == 0.001
    assert replay.max_book_delta_gap_coin < 1e-9
    assert replay.max_target_gap_coin <= replay.lot_coin
    for step in replay.steps:
        if step.vector_traded:  # a trade's target depends on the book only: no carried error
            assert step.target_gap_coin == pytest.approx(0.0, abs=1e-9)


def test_each_order_is_the_target_change_rounded_toward_zero_to_the_lot(
    replay: ReplayResult,
) -> None:
    """One order per trade, filled in full: whole lots, under the change by less than a lot."""
    lot = replay.lot_coin
    for step in replay.steps:
        if not step.orders:
            continue
        [(side, amount_coin, filled_coin)] = step.orders
        change = step.engine_target_coin - step.engine_hedge_before_coin
        assert side == ("buy" if change > 0 else "sell")
        assert filled_coin == pytest.approx(amount_coin, abs=1e-12)
        assert amount_coin / lot == pytest.approx(round(amount_coin / lot), abs=1e-9)
        assert 0 <= abs(change) - amount_coin < lot


def test_vector_path_is_path_0_of_run_backtest() -> None:
    """The replayed path, deltas and hedges are run_backtest's first sample path for this seed."""
    ours = vector_path(BOOK, MODEL, BAND, steps=STEPS, seed=SEED)
    run = run_backtest(BOOK, MODEL, [BAND], paths=50, steps=STEPS, seed=SEED, carry="none")
    assert ours.spot_usd[0] == 60_000.0
    assert np.array_equal(ours.spot_usd, run.sample_spot_usd[0])
    assert np.array_equal(ours.book_delta_coin, run.sample_delta_coin[0])
    assert np.array_equal(ours.hedge_coin, run.strategies[0].sample_hedge_coin[0])


CALL = OptionLeg(True, 60_000.0, 30 / 365, -1.0, "coin")


@pytest.mark.parametrize(
    ("book", "message"),
    [
        (Book((OptionLeg(True, 60_000.0, 30 / 365, -1.0, "linear"),)), "coin"),
        (Book((CALL, CALL)), "once"),
        (Book((OptionLeg(True, 60_000.5, 30 / 365, -1.0, "coin"),)), "whole USD"),
        (Book((CALL,), initial_hedge_coin=0.5), "unhedged"),
    ],
)
def test_a_book_the_emulator_cannot_hold_is_refused_before_anything_runs(
    tmp_path: Path, book: Book, message: str
) -> None:
    """Linear legs, repeated contracts, fractional strikes or a starting hedge: ReplayError."""
    with pytest.raises(ReplayError, match=message):
        replay_path(book, MODEL, BAND, steps=STEPS, seed=SEED, work_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
