"""The lots of a hedging option that bring a book's standardised vega back inside its limit."""

from __future__ import annotations

import numpy as np
import pytest

from bot.backtest.vega_lots import vega_hedge_coin


def _coin(vega: float, unit: float, lot: float = 0.1) -> float:
    return float(vega_hedge_coin(np.array(vega), np.array(unit), hard=100.0, soft=96.0,
                                 lot_coin=lot))  # fmt: skip


def test_whole_lots_to_the_soft_limit() -> None:
    """The docstring's example: -120 with a call of 12 per coin is 2 coin, ending at -96."""
    assert _coin(-120.0, 12.0) == pytest.approx(2.0)


def test_rounded_up_so_it_ends_inside() -> None:
    """-121 needs 2.083 coin: 2.1 (21 lots) ends at -95.8, inside 96."""
    assert _coin(-121.0, 12.0) == pytest.approx(2.1)


def test_no_lot_that_would_leave_it_further_from_zero() -> None:
    """A call of 300 per coin in lots of 1: one lot ends at +180, further than -120: none."""
    assert _coin(-120.0, 300.0, lot=1.0) == 0.0


def test_a_long_book_sells_and_an_inside_one_waits() -> None:
    """+150 sells 4.5 coin to +96; 99 is inside the hard limit and a call without vega
    cannot hedge."""
    assert _coin(150.0, 12.0) == pytest.approx(-4.5)
    assert _coin(99.0, 12.0) == 0.0 and _coin(-150.0, 0.0) == 0.0
