"""The models over the opened routes: branch and bound from a rounded plan, rows handed to HiGHS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest

from bot.domain import highs
from bot.domain.collateral import AccountKey, CollateralSnapshot
from bot.domain.collateral.frame import build_frame
from bot.domain.collateral.lp import LpModel, Solved
from bot.domain.collateral.model import DEFAULT_SETTINGS
from bot.domain.ids import VenueId
from tests.unit.test_collateral_optimizer import PRICES, A, B, acct, wd, worked_example

JUMP = "mip_heuristic_run_feasibility_jump"


@pytest.fixture
def lp() -> LpModel:
    return LpModel(build_frame(worked_example(), DEFAULT_SETTINGS))


def two_donors() -> LpModel:
    """The worked example with a second donor ``c`` and its own route to ``a``."""
    c = AccountKey(VenueId("c"), "main")
    accounts = (
        acct(A, 100_000, 50_000),
        *(acct(k, 500_000, 100_000, free=300_000) for k in (B, c)),
    )
    snap = CollateralSnapshot(0, PRICES, accounts, routes=(wd(B, A), wd(c, A)))
    return LpModel(build_frame(snap, DEFAULT_SETTINGS))


def _rows_passed(
    lp: LpModel, pattern: list[float], *, relaxed: bool = False
) -> tuple[int, Solved | None]:
    """Rows of the model HiGHS was handed for ``pattern``'s rounding, and its plan."""
    passed: list[int] = []
    solve = highs.solve

    def spy(*args: Any, **kw: Any) -> np.ndarray | None:
        passed.append(args[2].shape[0])
        return solve(*args, **kw)

    with patch.object(highs, "solve", spy):
        plan = lp.solve(lp.cost, relaxed=relaxed, mode="fixed", fixed=np.array(pattern))
    return passed[-1], plan


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


class TestReducedRows:
    def test_a_closed_routes_link_rows_stay_out(self) -> None:
        """Closing one of two routes leaves its two link rows, then empty, out of HiGHS's model."""
        lp = two_donors()
        both, _ = _rows_passed(lp, [1.0, 1.0])
        one, plan = _rows_passed(lp, [1.0, 0.0])
        assert one <= both - 2 < lp.a.shape[0]
        assert plan is not None and plan.objective == pytest.approx(10.005, abs=1e-3)

    def test_an_empty_row_that_excludes_zero_stays(self) -> None:
        """Every route closed, an equity row asking ``b`` to gain 1 USD, left empty, refuses a
        plan the slacks would otherwise allow."""
        lp = two_donors()
        assert _rows_passed(lp, [0.0, 0.0], relaxed=True)[1] is not None
        lp.lo[lp.frame.keys.index(B)] = 1.0  # the first rows: each account's equity change
        assert _rows_passed(lp, [0.0, 0.0], relaxed=True)[1] is None
