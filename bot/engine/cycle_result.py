"""What one hedge cycle did: the value the cycle returns and the status and jobs read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bot.domain.health_rules import BandView
from bot.domain.ids import Currency
from bot.domain.orders import SendOutcome
from bot.domain.risk import DenyReason, GateDecision, OrderIntent
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.trading_state import TradingState
from bot.engine.plan import CyclePlan

STATE_DENIALS: Final = frozenset({DenyReason.HALTED, DenyReason.LOCKED, DenyReason.NOT_REDUCING})
"""Denials an operator's halt or reduce, or a lock, make on purpose."""


@dataclass(frozen=True, slots=True)
class CycleResult:
    """One cycle's read (None if it failed), plan (None if it failed before planning),
    gate decision and sends, and what health needs of it (each routed underlying against
    its band, the read's failure)."""

    started_ms: int
    portfolio: PortfolioSnapshot | None
    plan: CyclePlan | None
    decision: GateDecision | None
    outcomes: tuple[tuple[OrderIntent, SendOutcome], ...]
    error: str | None
    trading_state: TradingState
    locks: Mapping[Currency, str]
    duration_s: float
    bands: tuple[BandView, ...] = ()
    """Each routed underlying against its band (empty when the cycle made no plan)."""
    read_error: str | None = None
    """Why the venues could not be read (names each unreadable venue); None if they were."""

    @property
    def gate_denied_all(self) -> bool:
        """The gate denied every order the plan made (and there was at least one), for a
        reason other than the trading state or a lock, which have components of their own."""
        d = self.decision
        return (
            d is not None
            and not d.approved
            and any(denial.reason not in STATE_DENIALS for denial in d.denied)
        )
