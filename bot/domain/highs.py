"""HiGHS through its own Python API (``highspy``), silent: the one door to the solver for
the collateral optimizer (:mod:`bot.domain.collateral`) and the option-hedge proposal
(:mod:`bot.domain.option_hedge_solver`).

Its own API rather than scipy's ``milp``: the restricted LP of
:mod:`bot.domain.collateral.columns` needs the row duals and a warm start
after columns are added (scipy gives neither), scipy's bundled HiGHS 1.12
printed a stray debug line ("HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();") to stdout from inside its branch and bound, past every
output option (HiGHS issue 2783, gone from the HiGHS this pins), and scipy
reports a MIP stopped at its node limit with a status it does not recognise.
"""

from __future__ import annotations

from collections.abc import Mapping

import highspy
import numpy as np
from scipy.sparse import csc_array, sparray

Options = Mapping[str, bool | int | float | str]
"""HiGHS options by HiGHS's own names."""
_FEASIBLE = 2
"""HiGHS's ``primal_solution_status`` of a feasible point (a MIP stopped at its node limit)."""


def new_highs(options: Options) -> highspy.Highs:
    """A silent HiGHS instance with ``options`` (HiGHS's own names) set."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h


def pass_model(
    h: highspy.Highs,
    cost: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    a: sparray,
    rows: tuple[np.ndarray, np.ndarray],
    *,
    integrality: np.ndarray | None = None,
) -> None:
    """Load ``min cost @ x`` subject to ``rows[0] <= a @ x <= rows[1]`` and ``bounds``."""
    m = a if isinstance(a, csc_array) else csc_array(a)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m.shape[1], m.shape[0]
    lp.col_cost_ = np.ascontiguousarray(cost, dtype=np.float64)
    lp.col_lower_ = np.ascontiguousarray(bounds[0], dtype=np.float64)
    lp.col_upper_ = np.ascontiguousarray(bounds[1], dtype=np.float64)
    lp.row_lower_ = np.ascontiguousarray(rows[0], dtype=np.float64)
    lp.row_upper_ = np.ascontiguousarray(rows[1], dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(np.float64)
    if integrality is not None and np.any(integrality):
        kinds = [highspy.HighsVarType(int(v)) for v in integrality]
        lp.integrality_ = kinds
    h.passModel(lp)


def solution(h: highspy.Highs) -> np.ndarray | None:
    """The point HiGHS found (optimal, or feasible where a MIP hit its node limit); None if
    it has none (infeasible)."""
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal or (
        h.getInfo().primal_solution_status == _FEASIBLE
        and status != highspy.HighsModelStatus.kInfeasible
    ):
        return np.asarray(h.getSolution().col_value, dtype=np.float64)
    return None


def at_node_limit(h: highspy.Highs) -> bool:
    """Whether branch and bound stopped at ``mip_max_nodes`` (HiGHS's "solution limit")."""
    return bool(h.getModelStatus() == highspy.HighsModelStatus.kSolutionLimit)


def solve(
    cost: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    a: sparray,
    rows: tuple[np.ndarray, np.ndarray],
    *,
    integrality: np.ndarray,
    options: Options,
    start: np.ndarray | None = None,
) -> np.ndarray | None:
    """HiGHS's solution of one model, or None if infeasible; ``start``: a feasible point
    for branch and bound to start from (its incumbent, so it prunes from the first node)."""
    h = new_highs(options)
    pass_model(h, cost, bounds, a, rows, integrality=integrality)
    if start is not None:
        given = highspy.HighsSolution()
        given.col_value = np.ascontiguousarray(start, dtype=np.float64)
        h.setSolution(given)
    h.run()
    x = solution(h)
    if x is None and options.get("presolve") != "off":
        # HiGHS's presolve can call a feasible model with a tight stage row (a large optimum
        # fixed to within cents) infeasible; the plain solve is the arbiter.
        h.setOptionValue("presolve", "off")
        h.clearSolver()
        h.run()
        x = solution(h)
    return x
