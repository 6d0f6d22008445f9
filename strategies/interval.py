"""Time-based hedging: re-hedge to the target every ``interval_s`` seconds.

The classic desk baseline (and Leland's 1985 setting): cost is predictable, risk
between hedges is not. It is the reference the band strategies are measured against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

import numpy as np
from pydantic import BaseModel, Field

from bot.pricing.arrays import FloatArray
from strategies.base import (
    HedgeRatio,
    HedgeState,
    StateField,
    StrategyParams,
    deviation_coin,
    guarded_hedge,
)

_READS: Final[tuple[StateField, ...]] = (
    "net_delta_coin",
    "hedge_coin",
    "target_delta_coin",
    "time_since_hedge_s",
)


class IntervalParams(StrategyParams):
    interval_s: float = Field(
        gt=0.0,
        description=(
            "Seconds between re-hedges, > 0: a book is re-hedged once time_since_hedge_s "
            "reaches it. Required, no default."
        ),
    )
    hedge_ratio: HedgeRatio = 1.0


@dataclass(frozen=True, slots=True)
class Interval:
    """Re-hedge when ``time_since_hedge_s >= interval_s``, else keep the hedge.

    A re-hedge moves the hedge by ``hedge_ratio * (0 - deviation)``, where the
    deviation is net delta + hedge - target. Reads ``net_delta_coin``,
    ``hedge_coin``, ``target_delta_coin`` and ``time_since_hedge_s``; an element
    where any of them is NaN or inf keeps its hedge.

    Example: interval 3600 s, net delta -2.5 coin, hedge 1 coin, target 0.5 coin,
    3600 s since the last hedge: the deviation is -2.5 + 1 - 0.5 = -2 coin, so the
    new hedge is 1 + 2 = 3 coin (total delta 0.5, the target); 1 + 1.5 × 2 = 4 coin
    at ratio 1.5, 1 coin at ratio 0.
    """

    name: ClassVar[str] = "interval"
    Params: ClassVar[type[BaseModel]] = IntervalParams

    params: IntervalParams

    @property
    def reads(self) -> tuple[StateField, ...]:
        """The state fields this kernel looks at."""
        return _READS

    @property
    def due_after_s(self) -> float:
        """Between re-hedges every hedge is kept (:class:`~strategies.base.ScheduledStrategy`)."""
        return self.params.interval_s

    def target_hedge(self, state: HedgeState) -> FloatArray:
        # Between re-hedges (most calls of a backtest): the hedge, as is. One pass to know:
        # fmax skips NaN, so no element is due exactly when the largest non-NaN one is not.
        since = state.time_since_hedge_s
        if not since.size or not np.fmax.reduce(since, axis=None) >= self.params.interval_s:
            return np.array(state.hedge_coin, dtype=np.float64)
        due = state.time_since_hedge_s >= self.params.interval_s
        ratio = self.params.hedge_ratio
        with np.errstate(all="ignore"):  # unusable elements are masked by guarded_hedge
            deviation = deviation_coin(state.net_delta_coin, state)
            # x 1.0 changes no bit, and costs a pass.
            rehedged = state.hedge_coin - (deviation if ratio == 1.0 else ratio * deviation)
            if not due.all():  # clocks apart: only the due elements move
                rehedged = np.where(due, rehedged, state.hedge_coin)
        return guarded_hedge(state, _READS, rehedged)
