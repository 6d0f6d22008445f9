"""What one hedge cycle did: the value the cycle returns and the status and jobs read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.ids import Currency
from bot.domain.orders import SendOutcome
from bot.domain.risk import GateDecision, OrderIntent
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.trading_state import TradingState
from bot.engine.plan import CyclePlan


@dataclass(frozen=True, slots=True)
class CycleResult:
    """One cycle's read (None if it failed), plan (None if it failed before planning),
    gate decision and sends."""

    started_ms: int
    portfolio: PortfolioSnapshot | None
    plan: CyclePlan | None
    decision: GateDecision | None
    outcomes: tuple[tuple[OrderIntent, SendOutcome], ...]
    error: str | None
    trading_state: TradingState
    locks: Mapping[Currency, str]
    duration_s: float
