"""What a cycle's result says about the risk gate."""

from __future__ import annotations

import pytest

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import OrderRequest, Side
from bot.domain.risk import Denial, DenyReason, GateDecision, OrderIntent
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.cycle_result import CycleResult

BTC = Currency("BTC")
ORDER = OrderRequest(
    ClientOrderId("db-1"), VenueId("sim-a"), Symbol("BTC/USD:BTC"), Side.SELL, 100.0, 59_900.0
)
INTENT = OrderIntent(ORDER, BTC, 100.0, 0.0017, 0.0)


def _result(decision: GateDecision) -> CycleResult:
    return CycleResult(0, None, None, decision, (), None, INITIAL_STATE, {}, 0.01)


@pytest.mark.parametrize("reason", [DenyReason.HALTED, DenyReason.LOCKED, DenyReason.NOT_REDUCING])
def test_denials_by_the_trading_state_or_a_lock_are_not_the_gate_denying_all(
    reason: DenyReason,
) -> None:
    """A halt, a reduce or a lock denies on purpose: risk_gate must not fail for it (the
    trading and locks components say so)."""
    assert not _result(GateDecision((), (Denial(INTENT, reason, "operator"),))).gate_denied_all


def test_a_cap_denying_every_order_is_the_gate_denying_all() -> None:
    """The hourly cap denying the only order is the gate denying everything."""
    denied = GateDecision((), (Denial(INTENT, DenyReason.HOURLY_CAP, "1,000 USD used"),))
    assert _result(denied).gate_denied_all


def test_one_approved_order_is_not_the_gate_denying_all() -> None:
    """One order through the gate is enough."""
    mixed = GateDecision((INTENT,), (Denial(INTENT, DenyReason.HOURLY_CAP, "cap"),))
    assert not _result(mixed).gate_denied_all
