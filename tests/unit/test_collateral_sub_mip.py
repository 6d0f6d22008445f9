"""Branch and bound over the opened routes, started from a rounded plan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest

from bot.domain import highs
from bot.domain.collateral.frame import build_frame
from bot.domain.collateral.lp import LpModel, Solved
from bot.domain.collateral.model import DEFAULT_SETTINGS
from tests.unit.test_collateral_optimizer import worked_example

JUMP = "mip_heuristic_run_feasibility_jump"


@pytest.fixture
def lp() -> LpModel:
    return LpModel(build_frame(worked_example(), DEFAULT_SETTINGS))


def _rounded(lp: LpModel) -> Solved:
    bound = lp.solve(lp.cost, relaxed=False, mode="lp")
    assert bound is not None
    plan = lp.solve(lp.cost, relaxed=False, mode="fixed", fixed=lp.used(bound.x))
    assert plan is not None
    return plan


def _sub_mip(lp: LpModel, start: np.ndarray | None) -> Solved | None:
    every = np.ones(len(lp.binary))
    return lp.solve(lp.cost, relaxed=False, mode="sub-mip", fixed=every, node_limit=10, start=start)


@pytest.fixture
def options() -> Iterator[list[dict[str, Any]]]:
    """The options of every HiGHS solve made inside the test."""
    seen: list[dict[str, Any]] = []
    solve = highs.solve

    def spy(*args: Any, **kw: Any) -> np.ndarray | None:
        seen.append(dict(kw["options"]))
        return solve(*args, **kw)

    with patch.object(highs, "solve", spy):
        yield seen


class TestStartedBranchAndBound:
    def test_a_start_skips_the_feasibility_jump(
        self, lp: LpModel, options: list[dict[str, Any]]
    ) -> None:
        """Given a plan to start from, HiGHS does not search for a first plan."""
        start = _rounded(lp).x
        options.clear()
        _sub_mip(lp, start)
        assert options[-1][JUMP] is False

    def test_without_a_start_the_feasibility_jump_runs(
        self, lp: LpModel, options: list[dict[str, Any]]
    ) -> None:
        """With no plan yet, HiGHS's own search for one is left as it is."""
        _sub_mip(lp, None)
        assert JUMP not in options[-1]

    def test_the_started_search_keeps_the_plan(self, lp: LpModel) -> None:
        """Skipping the jump leaves the plan as HiGHS finds it with the jump: 10.005 USD."""
        start = _rounded(lp).x
        skipped = _sub_mip(lp, start)
        solve = highs.solve

        def with_jump(*args: Any, **kw: Any) -> np.ndarray | None:
            return solve(*args, **{**kw, "options": {**kw["options"], JUMP: True}})

        with patch.object(highs, "solve", with_jump):
            jumped = _sub_mip(lp, start)
        assert skipped is not None and jumped is not None
        assert skipped.objective == pytest.approx(jumped.objective, abs=1e-9)
        assert skipped.objective == pytest.approx(10.005, abs=1e-3)
