"""Interval strategy: re-hedge on a clock, by hedge_ratio, towards the per-book target."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from strategies.base import HedgeState, ScheduledStrategy, due_after_s
from strategies.interval import Interval, IntervalParams


def _state(**overrides: Any) -> HedgeState:
    """The docstring example: net delta -2.5, hedge 1, target 0.5, 3600 s since the hedge."""
    given: dict[str, Any] = {
        "spot_usd": 60_000.0,
        "net_delta_coin": -2.5,
        "gamma_coin_per_usd": 0.0,
        "hedge_coin": 1.0,
        "target_delta_coin": 0.5,
        "sigma": 0.6,
        "tau_years": 0.1,
        "cost_frac": 5e-4,
        "time_since_hedge_s": 3600.0,
    }
    return HedgeState.from_arrays(**{**given, **overrides})


def _interval(interval_s: float = 3600.0, hedge_ratio: float = 1.0) -> Interval:
    return Interval(IntervalParams(interval_s=interval_s, hedge_ratio=hedge_ratio))


@pytest.mark.parametrize(("ratio", "expected"), [(1.0, 3.0), (1.5, 4.0), (0.0, 1.0)])
def test_docstring_example_for_each_hedge_ratio(ratio: float, expected: float) -> None:
    """Deviation -2 coin when due: the hedge becomes 1 + ratio x 2 coin."""
    out = _interval(hedge_ratio=ratio).target_hedge(_state())
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)


def test_due_at_exactly_the_interval_and_not_a_second_before() -> None:
    """time_since_hedge_s >= interval_s triggers; less keeps the hedge bit for bit."""
    state = _state(time_since_hedge_s=[3599.999, 3600.0, 7200.0], hedge_coin=[1.0, 1.0, 1.0])
    np.testing.assert_array_equal(_interval().target_hedge(state), [1.0, 3.0, 3.0])


def test_full_rehedge_lands_on_each_books_target() -> None:
    """With ratio 1 the total delta after the hedge equals each element's target."""
    target = np.array([0.0, 0.5, -3.0])
    state = _state(
        net_delta_coin=[-2.5, 4.0, 1.25], hedge_coin=[1.0, 0.0, -0.5], target_delta_coin=target
    )
    out = _interval().target_hedge(state)
    np.testing.assert_allclose(state.net_delta_coin + out, target, rtol=0, atol=1e-12)


@pytest.mark.parametrize("field", ["net_delta_coin", "target_delta_coin", "time_since_hedge_s"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_keeps_the_hedge(field: str, bad: float) -> None:
    """NaN or inf in a field the kernel reads means 'don't trade' (inf elapsed time included)."""
    state = _state(**{field: [bad, -2.5] if field == "net_delta_coin" else [bad, 0.5]})
    out = _interval().target_hedge(state)
    assert out[0] == 1.0
    assert np.isfinite(out).all()


def test_params_are_validated_and_frozen() -> None:
    """interval_s must be > 0 and finite, hedge_ratio in [0, 1.5], unknown keys rejected."""
    for bad in (
        {"interval_s": 0.0},
        {"interval_s": float("inf")},
        {"interval_s": 1.0, "hedge_ratio": 1.6},
    ):
        with pytest.raises(ValidationError):
            IntervalParams.model_validate(bad)
    with pytest.raises(ValidationError, match="Extra inputs"):
        IntervalParams.model_validate({"interval_s": 1.0, "interval": 2.0})
    params = IntervalParams(interval_s=60.0)
    assert params.hedge_ratio == 1.0
    with pytest.raises(ValidationError, match="frozen"):
        params.interval_s = 30.0  # type: ignore[misc]


def test_between_rehedges_the_hedge_comes_back_as_a_new_array() -> None:
    """No book due: the hedge is returned unchanged (NaN reads too), never the state's array."""
    state = _state(time_since_hedge_s=[10.0, 20.0], net_delta_coin=[np.nan, -2.5], hedge_coin=2.0)
    out = _interval().target_hedge(state)
    assert out.tolist() == [2.0, 2.0]
    assert not np.shares_memory(out, state.hedge_coin)


def test_a_nan_clock_keeps_its_hedge_and_does_not_hide_a_due_book() -> None:
    """A NaN clock keeps that book's hedge; the other book, due, is still re-hedged."""
    out = _interval().target_hedge(_state(time_since_hedge_s=np.array([np.nan, 3600.0])))
    np.testing.assert_allclose(out, [1.0, 3.0], rtol=0, atol=1e-15)


def test_an_empty_book_gets_an_empty_hedge() -> None:
    """A state with no books answers an empty hedge, not a reduction error."""
    empty = np.empty(0)
    state = _state(
        **{k: empty for k in ("spot_usd", "net_delta_coin", "hedge_coin")}, time_since_hedge_s=empty
    )
    assert _interval().target_hedge(state).shape == (0,)


def test_keeps_every_hedge_until_its_interval_and_says_so() -> None:
    """due_after_s is the interval: a second before it, every book keeps its hedge."""
    interval = _interval(interval_s=3600.0)
    assert isinstance(interval, ScheduledStrategy)
    assert due_after_s(interval) == 3600.0
    state = _state(time_since_hedge_s=np.array([3599.0, 3599.0]))
    np.testing.assert_array_equal(interval.target_hedge(state), state.hedge_coin)
