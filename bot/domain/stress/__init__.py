"""Stress tests of the whole book across venues (issue 5 §3): pure, no clock, no I/O.

- :mod:`.kernel`: the book prepared once; USD equity and maintenance margin per
  venue under many price/vol states (a lean Black-76, sums by matrix products).
- :mod:`.grid`: the price × vol grid: P&L, equity, MM, first venue to liquidate.
- :mod:`.scenarios`: crash, venue default, withdrawal freeze, cascade, custom.
- :mod:`.liquidation`: each venue's price moves down and up to equity = maintenance.
- :mod:`.light`: the daemon's scheduled pass (worst loss, liquidation distances).

Values follow :mod:`bot.domain.revalue` (USD value of each venue's equity,
coin collateral included) and margins :mod:`bot.domain.margin`.
"""

from bot.domain.stress.grid import NO_VENUE, StressGrid, grid_of, join_columns, stress_grid
from bot.domain.stress.kernel import MarginSetup, StressInputs, evaluate, prepare
from bot.domain.stress.light import LightParams, LightStress, book_liquidation_distance, light_pass
from bot.domain.stress.liquidation import liquidation_distance
from bot.domain.stress.scenarios import (
    CustomScenario,
    ScenarioResult,
    ScenarioStep,
    cascade,
    crash,
    custom,
    venue_default,
    withdrawal_freeze,
)

__all__ = [
    "NO_VENUE",
    "CustomScenario",
    "LightParams",
    "LightStress",
    "MarginSetup",
    "ScenarioResult",
    "ScenarioStep",
    "StressGrid",
    "StressInputs",
    "book_liquidation_distance",
    "cascade",
    "crash",
    "custom",
    "evaluate",
    "grid_of",
    "join_columns",
    "light_pass",
    "liquidation_distance",
    "prepare",
    "stress_grid",
    "venue_default",
    "withdrawal_freeze",
]
