"""A strategy's ledger: interest and delta P&L booked lazily, equal to step by step."""

from __future__ import annotations

import math

import numpy as np

from bot.backtest.ledger import Ledger, _round_us
from bot.backtest.spec import OUTCOME_FIELDS

CARRY, DELTA = OUTCOME_FIELDS.index("carry_usd"), OUTCOME_FIELDS.index("delta_usd")
SPOTS = np.array([[100.0, 50.0], [101.0, 52.0], [99.5, 49.0], [103.0, 51.0]])


def _ledger(growth: float = 0.001, clock_s: float = 1e12) -> Ledger:
    hedge, cash = np.array([2.0, -1.0]), np.array([100.0, 30.0])
    totals = np.zeros((len(OUTCOME_FIELDS), 2))
    return Ledger(hedge, cash, totals, SPOTS, growth=growth, dt_s=3600.0, clock_s=clock_s)


def test_module_example_three_steps_of_interest_booked_once() -> None:
    """100 USD at 0.001 a step for 3 steps earns 100·(1.001³ − 1) = 0.3003001 USD."""
    ledger = _ledger()
    ledger.book_to(3)
    assert ledger.totals[CARRY][0] == math.fsum([0.1, 0.1001, 0.1002001])
    assert ledger.cash[0] == 100.0 + ledger.totals[CARRY][0]


def test_lazy_booking_equals_step_by_step() -> None:
    """Booking at step 3 equals booking at 1, 2 and 3 (interest and delta P&L) to rel 1e-14."""
    lazy, eager = _ledger(), _ledger()
    lazy.book_to(3)
    for k in (1, 2, 3):
        eager.book_to(k)
    np.testing.assert_allclose(lazy.cash, eager.cash, rtol=1e-14)
    np.testing.assert_allclose(lazy.totals, eager.totals, rtol=1e-14)
    np.testing.assert_allclose(lazy.totals[DELTA], [2.0 * 3.0, -1.0 * 1.0], rtol=1e-14)


def test_trade_books_first_then_pays_the_notional_and_its_cost() -> None:
    """A trade at step 2 books steps 1-2 at the old hedge, then pays trade·S plus 1 % of it."""
    ledger = _ledger(growth=0.0)
    ledger.trade_to(np.array([3.0, -1.0]), 2, 0.01)
    assert ledger.totals[DELTA][0] == 2.0 * (99.5 - 100.0)
    assert ledger.cash[0] == 100.0 - 99.5 - 0.995
    assert list(ledger.totals[OUTCOME_FIELDS.index("trades")]) == [1.0, 0.0]
    assert list(ledger.hedge) == [3.0, -1.0]


def test_clock_is_one_number_until_paths_differ() -> None:
    """The clock matches per-path rounding: reset where a path traded, advanced elsewhere."""
    ledger = _ledger(clock_s=7200.0)
    ledger.trade_to(ledger.hedge.copy(), 1, 0.0)  # nobody trades: both clocks advance
    assert list(ledger.time_since_hedge_s()) == [10800.0, 10800.0]
    ledger.trade_to(np.array([2.5, -1.0]), 2, 0.0)  # path 0 trades
    assert list(ledger.time_since_hedge_s()) == [3600.0, 14400.0]
    ledger.trade_to(np.array([2.0, 0.0]), 3, 0.0)  # both trade: one number again
    assert list(ledger.time_since_hedge_s()) == [3600.0, 3600.0]


def test_the_one_number_clock_rounds_as_numpy_rounds_arrays() -> None:
    """The uniform clock's µs rounding equals np.round(x, 6), ties and 1e12 s included."""
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [rng.uniform(0, 1e5, 2000), (np.arange(2000) + 0.5) / 1e6, 1e12 + np.arange(50) * 3600.1]
    )
    assert [_round_us(float(v)) for v in values] == list(np.round(values, 6))


def test_due_once_the_one_clock_reaches_the_strategy_s_wait() -> None:
    """With one clock, due at 7200 s only from 7200 s on; holding moves the clock a step."""
    ledger = _ledger(clock_s=3600.0)
    assert not ledger.due(7200.0)
    ledger.hold()
    assert ledger.due(7200.0)
    assert list(ledger.time_since_hedge_s()) == [7200.0, 7200.0]


def test_due_whenever_the_paths_clocks_differ() -> None:
    """Once one path traded and the other did not, the strategy is asked at every step."""
    ledger = _ledger(clock_s=3600.0)
    ledger.trade_to(np.array([2.5, -1.0]), 1, 0.0)
    assert ledger.due(1e9)
