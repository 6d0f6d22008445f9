"""Hedging strategy kernels (docs/architecture.md §4) and the registry that finds them by name.

A strategy maps a :class:`HedgeState` (one element per book) to the new hedge
position per book; the same call serves the live engine and the backtester.
"""

from strategies.base import HedgeState, Strategy, StrategyParams
from strategies.registry import StrategyError, available_strategies, load_strategy

__all__ = [
    "HedgeState",
    "Strategy",
    "StrategyError",
    "StrategyParams",
    "available_strategies",
    "load_strategy",
]
