"""Trading state: operator vs automatic transitions and the consecutive-failure halt."""

from __future__ import annotations

import pytest

from bot.domain.trading_state import (
    INITIAL_STATE,
    CycleFailures,
    SetBy,
    TradingMode,
    TradingState,
    after_cycle,
    transition,
)

HALTED = TradingState(TradingMode.HALTED, "operator stop", SetBy.OPERATOR, 10)


def test_operator_may_set_any_mode() -> None:
    """An operator can resume from HALTED."""
    resumed = transition(
        HALTED, TradingMode.ACTIVE, reason="fixed", set_by=SetBy.OPERATOR, ts_ms=20
    )
    assert resumed == TradingState(TradingMode.ACTIVE, "fixed", SetBy.OPERATOR, 20)


def test_automation_escalates_but_never_relaxes() -> None:
    """Automation may go ACTIVE -> REDUCING, but not HALTED -> ACTIVE."""
    reducing = transition(
        INITIAL_STATE, TradingMode.REDUCING, reason="margin", set_by=SetBy.AUTOMATIC, ts_ms=5
    )
    assert reducing.mode is TradingMode.REDUCING
    with pytest.raises(ValueError, match="automation cannot relax trading from halted to active"):
        transition(HALTED, TradingMode.ACTIVE, reason="ok", set_by=SetBy.AUTOMATIC, ts_ms=30)


def test_automatic_repeat_keeps_the_existing_reason() -> None:
    """Automation asking for HALTED while already halted keeps the operator's record."""
    again = transition(HALTED, TradingMode.HALTED, reason="x", set_by=SetBy.AUTOMATIC, ts_ms=40)
    assert again is HALTED


def test_reason_is_required() -> None:
    """A state without a reason is refused."""
    with pytest.raises(ValueError, match="a reason is required"):
        TradingState(TradingMode.HALTED, " ", SetBy.OPERATOR, 0)


def test_n_consecutive_failures_halt() -> None:
    """Three failures in a row with a limit of 3 halt, naming the count and the last error."""
    failures, state = CycleFailures(), INITIAL_STATE
    for i in range(2):
        failures, state = after_cycle(
            failures, state, error=f"timeout {i}", max_consecutive_failures=3, ts_ms=i
        )
        assert state is INITIAL_STATE
    failures, state = after_cycle(
        failures, state, error="timeout 2", max_consecutive_failures=3, ts_ms=99
    )
    assert failures == CycleFailures(3, "timeout 2")
    assert state == TradingState(
        TradingMode.HALTED, "3 consecutive cycle failures, last: timeout 2", SetBy.AUTOMATIC, 99
    )


def test_success_resets_the_count_but_does_not_lift_a_halt() -> None:
    """A good cycle resets the counter; a halted state stays halted."""
    failures, state = after_cycle(
        CycleFailures(2, "x"), INITIAL_STATE, error=None, max_consecutive_failures=3, ts_ms=1
    )
    assert (failures, state) == (CycleFailures(), INITIAL_STATE)
    _, still = after_cycle(CycleFailures(), HALTED, error=None, max_consecutive_failures=3, ts_ms=2)
    assert still is HALTED


def test_failure_limit_must_be_positive() -> None:
    """A limit of 0 is refused."""
    with pytest.raises(ValueError, match="max_consecutive_failures must be >= 1"):
        after_cycle(CycleFailures(), INITIAL_STATE, error="x", max_consecutive_failures=0, ts_ms=0)
