"""``[backtest]``: an explicit book for ``deltabot backtest --history`` in the daemon's config.

A live or paper config has no ``[sim]``; its book is on the venue. To replay it
over recorded history, declare it here with the same tables as ``[[sim.book]]``
and ``[[sim.balances]]``. When ``[backtest] book`` is empty the backtest uses
``[[sim.book]]`` (and ``[[sim.balances]]``).
"""

from __future__ import annotations

from pydantic import Field

from bot.config.base import Array, FrozenModel
from bot.config.sim import SimBalance, SimPosition


class BacktestConfig(FrozenModel):
    """The book a recorded backtest hedges, when it is not ``[[sim.book]]``."""

    book: Array[SimPosition] = Field(
        default=(),
        description=(
            "Positions to replay, one [[backtest.book]] table each, keys as in [[sim.book]]. "
            "Default none: use [[sim.book]]."
        ),
    )
    balances: Array[SimBalance] = Field(
        default=(),
        description=(
            "Coin collateral held with that book, one [[backtest.balances]] table each, keys as "
            "in [[sim.balances]] (counted as delta with numeraire usd). Default none."
        ),
    )
