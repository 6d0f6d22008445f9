"""The LP relaxation by column generation is the whole matrix's relaxation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from scipy.optimize import Bounds, LinearConstraint, milp

from bot.domain.collateral import CollateralSnapshot
from bot.domain.collateral.columns import relaxation
from bot.domain.collateral.frame import MOVE_COST_FRAC, build_frame, tolerance_usd
from bot.domain.collateral.lp import LpModel
from bot.domain.collateral.model import DEFAULT_SETTINGS
from tests.property.test_collateral_properties import snapshots


def _whole_lp(lp: LpModel, upper: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The relaxation over the whole matrix, solved by scipy's HiGHS (an independent path)."""
    rows = LinearConstraint(lp.a, lp.lo, lp.hi)
    res = milp(lp.cost, bounds=Bounds(lp.lower, upper), constraints=[rows])
    return None if res.x is None else (float(res.fun), np.asarray(res.x))


def _check(lp: LpModel, upper: np.ndarray) -> None:
    solved = _whole_lp(lp, upper)
    found = relaxation(lp, lp.cost, upper)
    if found is None:
        return  # undecided here: the caller solves the whole matrix (nothing to compare)
    x, bound = found
    if solved is None:
        assert not np.isfinite(bound)  # infeasible: only ever proven, never a plan
        return
    assert np.isfinite(bound)
    whole, point = solved
    # The 1e-7-per-USD tie-break sits at HiGHS's dual tolerance: either solve may stop
    # anywhere within it per USD moved.
    moved = max(np.abs(point[: lp.n_routes]).sum(), np.abs(x[: lp.n_routes]).sum())
    tol = tolerance_usd(whole) + MOVE_COST_FRAC * float(moved)
    assert bound <= whole + tol  # a lower bound on the whole LP...
    assert bound >= whole - tol  # ...and a tight one: the whole LP's optimum
    assert abs(float(lp.cost @ x) - whole) <= tol
    ax = lp.a @ x
    slack = 1e-6 * np.maximum(1.0, np.abs(ax))
    assert np.all(ax >= lp.lo - slack) and np.all(ax <= lp.hi + slack)
    assert np.all(x >= lp.lower - 1e-9) and np.all(x <= upper + 1e-6 * np.maximum(1.0, upper))


@settings(max_examples=60, deadline=None)
@given(snapshots())
def test_column_generation_reaches_the_whole_relaxation(snap: CollateralSnapshot) -> None:
    """Its bound and point are the whole LP's optimum, hard or relaxed, or it proves infeasible."""
    lp = LpModel(build_frame(snap, DEFAULT_SETTINGS))
    _check(lp, lp.upper)
    _check(lp, lp.upper + lp.slack_upper)
