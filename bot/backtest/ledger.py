"""One strategy's hedge, cash, clock and totals over one chunk of paths, booked lazily.

Between two of its trades a strategy's hedge and cash do not change, so the
interest its cash earns and the delta P&L its hedge makes over those steps are
booked when it next trades (or when cash moves for every strategy: a leg
settling, the option hedge paying, funding, the horizon): n steps of interest
at per-step growth g are cash·((1 + g)^n − 1), and the hedge's delta P&L is
hedge·(S_k − S_j) for the steps j..k it was held. An interval strategy that
re-hedges every 40 steps touches its arrays once in 40 instead of every step.
The sums equal step-by-step booking to floating rounding.

Its clock (``time_since_hedge_s``) is one number while every path was hedged
at the same step (an interval strategy's paths all re-hedge together), and an
array only once paths differ. Like the engine's before it, the clock advances
by the step and is rounded to the µs, so an interval of exactly one step is
due at every step.

Example: cash 100 USD at growth 0.001 a step, untouched for 3 steps, then a
trade: 100·(1.001³ − 1) = 0.3003001 USD of interest is booked once.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from bot.backtest.spec import OUTCOME_FIELDS
from bot.pricing.arrays import FloatArray

_IDX: Final = {name: i for i, name in enumerate(OUTCOME_FIELDS)}


class Ledger:
    """Strategy ``hedge``/``cash`` rows and its ``totals`` (fields × paths), over ``spots``
    (steps + 1, paths); interest at ``growth`` a step on cash, clock steps of ``dt_s``."""

    def __init__(
        self,
        hedge: FloatArray,
        cash: FloatArray,
        totals: FloatArray,
        spots: FloatArray,
        *,
        growth: float,
        dt_s: float,
        clock_s: float,
    ) -> None:
        self.hedge, self.cash, self.totals, self.spots = hedge, cash, totals, spots
        self.growth, self.dt_s = growth, dt_s
        self._booked_k = 0
        self._clock_s: float | None = clock_s
        self._clock = np.empty_like(hedge)
        self._scratch = np.empty_like(hedge)
        self._trade = np.empty_like(hedge)
        self._traded = np.empty(hedge.shape, dtype=np.bool_)

    def book_to(self, k: int) -> None:
        """Interest on cash and the hedge's delta P&L up to step ``k``."""
        n = k - self._booked_k
        if n <= 0:
            return
        scratch = self._scratch
        if self.growth != 0.0:
            per = self.growth if n == 1 else math.expm1(n * math.log1p(self.growth))
            interest = np.multiply(self.cash, per, out=scratch)
            self.totals[_IDX["carry_usd"]] += interest
            self.cash += interest
        moved = np.subtract(self.spots[k], self.spots[self._booked_k], out=scratch)
        self.totals[_IDX["delta_usd"]] += np.multiply(moved, self.hedge, out=moved)
        self._booked_k = k

    def time_since_hedge_s(self) -> FloatArray:
        """The clock per path, for this step's state."""
        if self._clock_s is not None:
            self._clock.fill(self._clock_s)
        return self._clock

    def trade_to(self, target: FloatArray, k: int, cost_frac: float) -> None:
        """Move the hedge to ``target`` at step ``k``'s spot, paying ``cost_frac`` of the
        traded notional, and advance the clock (reset where a path traded)."""
        trade = np.subtract(target, self.hedge, out=self._trade)
        moved = np.count_nonzero(trade)
        if not moved:  # no path trades (an interval between re-hedges): the clock moves
            self._tick(None)
            return
        if moved == trade.size:  # every path (an interval's re-hedge): no mask to keep
            self._tick(True)
            self.totals[_IDX["trades"]] += 1.0
        else:
            traded = np.not_equal(trade, 0.0, out=self._traded)
            self._tick(traded)
            self.totals[_IDX["trades"]] += traded
        self.book_to(k)
        spot = self.spots[k]
        self.hedge[:] = target
        totals, scratch = self.totals, self._scratch
        notional = np.multiply(trade, spot, out=scratch)
        self.cash -= notional
        np.abs(trade, out=trade)
        totals[_IDX["turnover_coin"]] += trade
        np.abs(notional, out=notional)
        totals[_IDX["turnover_usd"]] += notional
        if cost_frac != 0.0:
            cost = np.multiply(notional, cost_frac, out=notional)
            self.cash -= cost
            totals[_IDX["cost_usd"]] += cost

    def _tick(self, traded: np.ndarray | bool | None) -> None:
        """The clock one step on, rounded to the µs; ``dt_s`` where a path traded (``True``:
        every path, ``None``: none)."""
        dt_s = self.dt_s
        if traded is True:
            self._clock_s = _round_us(dt_s)
        elif self._clock_s is not None and traded is None:
            self._clock_s = _round_us(self._clock_s + dt_s)
        else:
            clock = self.time_since_hedge_s()
            np.add(clock, dt_s, out=clock)
            if isinstance(traded, np.ndarray):
                np.copyto(clock, dt_s, where=traded)
            np.round(clock, 6, out=clock)
            self._clock_s = None


def _round_us(seconds: float) -> float:
    """``seconds`` rounded to the µs as ``np.round(x, 6)`` rounds an array (times 10⁶, to
    the nearest integer, ties to even, divided by 10⁶), without numpy's per-call cost."""
    return round(seconds * 1e6) / 1e6
