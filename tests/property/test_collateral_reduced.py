"""The optimizer's reduced models (opened routes only) solve the whole matrix's problem."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from scipy.optimize import Bounds, LinearConstraint, milp

from bot.domain.collateral import CollateralSnapshot
from bot.domain.collateral.frame import MOVE_COST_FRAC, build_frame, tolerance_usd
from bot.domain.collateral.lp import LpModel
from bot.domain.collateral.model import DEFAULT_SETTINGS
from tests.property.test_collateral_properties import snapshots


def _model(snap: CollateralSnapshot) -> LpModel:
    return LpModel(build_frame(snap, DEFAULT_SETTINGS))


def _whole(lp: LpModel, *, fixed: np.ndarray | None) -> tuple[float, float] | None:
    """The whole matrix, relaxed: ``y`` fixed by its bounds, or integer where not fixed; its
    optimum and how far the 1e-7-per-USD tie-break may leave it from the exact one (that
    cost is at HiGHS's dual tolerance, so a solve may stop anywhere within it per USD moved,
    and the reduced model is solved by another HiGHS build)."""
    ycols = lp.ycols
    lower, upper = lp.lower.copy(), lp.upper + lp.slack_upper
    integrality = np.zeros(lp.n_cols)
    if fixed is None:
        integrality[ycols] = 1
    else:
        lower[ycols] = upper[ycols] = fixed
    rows = LinearConstraint(lp.a, lp.lo, lp.hi)
    res = milp(lp.cost, integrality=integrality, bounds=Bounds(lower, upper), constraints=[rows])
    if res.x is None:
        return None
    return float(res.fun), MOVE_COST_FRAC * float(np.abs(res.x[: lp.n_routes]).sum())


@settings(max_examples=40, deadline=None)
@given(snapshots())
def test_fixing_the_lp_routes_over_the_opened_routes_matches_the_whole_matrix(
    snap: CollateralSnapshot,
) -> None:
    """Rounding over opened routes only costs what the whole matrix does, or both are infeasible."""
    lp = _model(snap)
    bound = lp.solve(lp.cost, relaxed=True, mode="lp")
    assert bound is not None  # relaxed, doing nothing is always feasible
    pattern = lp.used(bound.x)
    reduced = lp.solve(lp.cost, relaxed=True, mode="fixed", fixed=pattern)
    whole = _whole(lp, fixed=pattern)
    assert (reduced is None) == (whole is None)
    if reduced is not None and whole is not None:
        best, slack = whole
        moved = MOVE_COST_FRAC * float(np.abs(reduced.x[: lp.n_routes]).sum())
        assert abs(reduced.objective - best) <= tolerance_usd(best) + max(slack, moved)


@settings(max_examples=40, deadline=None)
@given(snapshots())
def test_the_sub_milp_over_every_route_is_the_whole_milp(snap: CollateralSnapshot) -> None:
    """With every route open, the sub-MILP is the MILP: the same optimum, never infeasible."""
    lp = _model(snap)
    every = np.ones(len(lp.binary))
    sub = lp.solve(lp.cost, relaxed=True, mode="sub-mip", fixed=every, node_limit=10_000)
    whole = _whole(lp, fixed=None)
    assert sub is not None and whole is not None
    best, slack = whole
    moved = MOVE_COST_FRAC * float(np.abs(sub.x[: lp.n_routes]).sum())
    assert abs(sub.objective - best) <= tolerance_usd(best) + max(slack, moved)
