"""The breach-probability Monte Carlo in chunks on a runner."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.app.breach_run import BreachInputs, breach_on
from bot.compute import SerialRunner
from bot.domain.margin import JumpDiffusion
from bot.domain.margin.breach import first_passage_down
from tests.unit.test_stress_runner import ManyWorkers

DAY_YEARS = 1 / 365
WORKED = BreachInputs(
    down_frac=np.array([0.10, 0.0, np.inf]),
    up_frac=np.array([np.inf, 0.2, np.inf]),
    model=JumpDiffusion(sigma_frac=0.8),
    horizon_years=DAY_YEARS,
    n_steps=96,
    seed=11,
)
"""first_passage_down's worked example (down 10 %, σ 80 %, martingale drift −0.32, one day):
1.250 %; an account in breach now; one that cannot breach."""


def test_the_chunked_run_matches_the_closed_form() -> None:
    """40,000 paths in chunks of 5,000: the 10 % down barrier is hit 1.250 % of the time
    within 4 standard errors; in breach now is 1, no barrier is 0."""
    p = breach_on(SerialRunner(), WORKED, n_paths=40_000)
    exact = first_passage_down(0.10, 0.8, -0.32, DAY_YEARS)
    assert exact == pytest.approx(0.0125, abs=5e-5)
    assert abs(p[0] - exact) < 4 * math.sqrt(exact * (1 - exact) / 40_000)
    assert (p[1], p[2]) == (1.0, 0.0)


def test_the_result_does_not_depend_on_the_runner_or_the_order() -> None:
    """Chunks finishing last first, on a runner of any width, give the serial figures exactly."""
    serial = breach_on(SerialRunner(), WORKED, n_paths=12_000, chunk_paths=2_500)
    shuffled = breach_on(ManyWorkers(7), WORKED, n_paths=12_000, chunk_paths=2_500)  # type: ignore[arg-type]
    np.testing.assert_array_equal(serial, shuffled)


def test_a_path_count_below_one_is_refused() -> None:
    """n_paths = 0 is a ValueError, not an empty mean."""
    with pytest.raises(ValueError, match="n_paths"):
        breach_on(SerialRunner(), WORKED, n_paths=0)
