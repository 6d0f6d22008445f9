"""The option-hedge program's solver: column generation on the LP, then HiGHS's MIP on the
columns that matter (:mod:`bot.domain.option_hedge` states the program).

Why not one ``milp`` call over the whole whitelist: with 2,000 options (4,000
integer columns) HiGHS spends seconds branching on columns that the optimum
never uses, while the LP optimum is a vertex using at most as many columns as
there are rows. So: (1) start from the most cost-efficient columns of each
row and direction; (2) solve the LP over them with elastic (penalised) slacks,
so it is always feasible and has duals; (3) price every column against the
duals, add those with a negative reduced cost, repeat until none is left: the
restricted LP is then the full LP's optimum (Dantzig-Wolfe pricing; Chvátal,
*Linear Programming*, ch. 13); (4) solve the MIP (lots, minimums) over those
columns. A slack still used at the LP optimum means the full program has no
solution; a restricted MIP that finds none is retried over every column. A pair of
columns that trade one candidate both ways (buy and sell) is kept exclusive by one
binary per pair (``b ≤ hi_b·z``, ``s ≤ hi_s·(1 − z)``): without it the MIP could buy
10 lots and sell 12, each leg above the venue minimum, for a net trade of 2 lots below
it. The LP needs no such binary: its costs are positive, so it never trades both ways.
The MIP
goes through :mod:`bot.domain.highs` (``highspy``, silent: scipy's ``milp``
could print a debug line of its HiGHS build from inside branch and bound).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
from scipy.sparse import csc_array, hstack, vstack

from bot.domain import highs
from bot.pricing.arrays import BoolArray, FloatArray, IntArray

MIP_REL_GAP: Final = 1e-3
"""Stop when the MIP is within 0.1 % of its bound: lots are coarser than that."""
NODE_LIMIT: Final = 20_000
"""Branch-and-bound nodes before the search gives up: a count, not a time limit, so a
proposal does not depend on how loaded the machine is."""
_START_PER_ROW: Final = 8
_ADD_PER_ROUND: Final = 16
_MAX_ROUNDS: Final = 50
_PENALTY: Final = 1e6
"""Cost of one unit of slack, times the dearest column's cost per unit of its row."""
_TOL: Final = 1e-9
_INTEGER: Final = 1
_SEMI_INTEGER: Final = 3
"""HiGHS's variable kinds: an untradeable column is an integer fixed at 0; a tradeable one
is 0 or a whole number of lots in [lo, hi]."""


@dataclass(frozen=True, slots=True)
class Program:
    """min cost·x subject to lo_row <= a·x <= hi_row, x_j in {0} ∪ [lo_j, hi_j] integer,
    and at most one column of each row of ``exclusive`` (pairs × 2 column indices) non-zero."""

    a: FloatArray
    lo_row: FloatArray
    hi_row: FloatArray
    cost: FloatArray
    lo: FloatArray
    hi: FloatArray
    exclusive: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    @property
    def tradeable(self) -> BoolArray:
        return self.hi >= self.lo


@dataclass(frozen=True, slots=True)
class Solution:
    """Integer column values, or None with ``gave_up`` saying whether HiGHS stopped at its
    node limit."""

    x: FloatArray | None
    gave_up: bool = False


def solve(program: Program) -> Solution:
    """The program's integer optimum (within :data:`MIP_REL_GAP`), or None."""
    cols = _lp_columns(program)
    if cols is None:
        return Solution(None)
    found = _mip(program, cols)
    if found.x is None and cols.size < program.cost.size:
        found = _mip(program, np.arange(program.cost.size))
    return found


def _mip(program: Program, cols: IntArray) -> Solution:
    if cols.size == 0:  # nothing to trade: feasible exactly when trading nothing is
        zero_ok = bool(((program.lo_row <= _TOL) & (program.hi_row >= -_TOL)).all())
        return Solution(np.zeros(program.cost.size) if zero_ok else None)
    t = program.tradeable[cols]
    a, lo_row, hi_row, pairs = _with_exclusions(program, cols)
    h = highs.new_highs({"mip_rel_gap": MIP_REL_GAP, "mip_max_nodes": NODE_LIMIT})
    highs.pass_model(
        h,
        np.concatenate([program.cost[cols], np.zeros(pairs)]),
        (
            np.concatenate([np.where(t, program.lo[cols], 0.0), np.zeros(pairs)]),
            np.concatenate([np.where(t, program.hi[cols], 0.0), np.ones(pairs)]),
        ),
        a,
        (lo_row, hi_row),
        integrality=np.concatenate(
            [np.where(t, _SEMI_INTEGER, _INTEGER), np.full(pairs, _INTEGER)]
        ),
    )
    h.run()
    found = highs.solution(h)
    if found is None:
        return Solution(None, gave_up=highs.at_node_limit(h))
    x = np.zeros(program.cost.size)
    x[cols] = np.round(found[: cols.size])
    return Solution(x)


def _with_exclusions(
    program: Program, cols: IntArray
) -> tuple[csc_array, FloatArray, FloatArray, int]:
    """The MIP's matrix and row bounds over ``cols``, with one binary column z and two rows
    per exclusive pair whose columns are both in ``cols`` and tradeable: x_b − hi_b·z <= 0
    and x_s + hi_s·z <= hi_s. Returns (matrix, lo_row, hi_row, pairs)."""
    where = np.full(program.cost.size, -1)
    where[cols] = np.arange(cols.size)
    local = where[program.exclusive]
    live = (local >= 0).all(axis=1) & program.tradeable[program.exclusive].all(axis=1)
    local = local[live]
    hi = program.hi[program.exclusive[live]]
    pairs = local.shape[0]
    base = csc_array(program.a[:, cols])
    if pairs == 0:
        return base, program.lo_row, program.hi_row, 0
    rows = np.arange(2 * pairs)
    link_x = csc_array((np.ones(2 * pairs), (rows, local.ravel())), shape=(2 * pairs, cols.size))
    link_z = csc_array(
        (np.column_stack([-hi[:, 0], hi[:, 1]]).ravel(), (rows, np.repeat(np.arange(pairs), 2))),
        shape=(2 * pairs, pairs),
    )
    matrix = vstack(
        [hstack([base, csc_array((base.shape[0], pairs))]), hstack([link_x, link_z])],
        format="csc",
    )
    lo_row = np.concatenate([program.lo_row, np.full(2 * pairs, -np.inf)])
    hi_row = np.concatenate(
        [program.hi_row, np.ravel(np.column_stack([np.zeros(pairs), hi[:, 1]]))]
    )
    return matrix, lo_row, hi_row, pairs


def _lp_columns(program: Program) -> IntArray | None:
    """The columns of the LP optimum and the start set (module docstring), or None when
    the LP, and hence the program, has no solution."""
    a, cost = program.a, program.cost
    usable = program.tradeable & (program.hi > 0)
    in_set = _start(a, cost, usable)
    finite_hi, finite_lo = np.isfinite(program.hi_row), np.isfinite(program.lo_row)
    a_ub = np.vstack([a[finite_hi], -a[finite_lo]])
    b_ub = np.concatenate([program.hi_row[finite_hi], -program.lo_row[finite_lo]])
    k = a_ub.shape[0]
    scale = np.abs(a_ub).max(axis=1, initial=0.0)
    penalty = _PENALTY * (1.0 + cost.max(initial=0.0)) / np.maximum(scale, _TOL)
    from scipy.optimize import linprog  # noqa: PLC0415 - 0.4 s of reading any config

    for _ in range(_MAX_ROUNDS):
        cols = np.flatnonzero(in_set)
        res = linprog(
            np.concatenate([cost[cols], penalty]),
            A_ub=np.hstack([a_ub[:, cols], -np.eye(k)]),
            b_ub=b_ub,
            bounds=np.column_stack(
                [np.zeros(cols.size + k), np.concatenate([program.hi[cols], np.full(k, np.inf)])]
            ),
            method="highs",
        )
        if res.status != 0:
            return np.flatnonzero(usable)  # let the MIP over every column decide
        duals = np.asarray(res.ineqlin.marginals, dtype=np.float64)  # <= 0 for A_ub x <= b
        reduced = cost - duals @ a_ub
        entering = np.flatnonzero(usable & ~in_set & (reduced < -_TOL))
        if entering.size == 0:
            if (np.asarray(res.x)[cols.size :] > _TOL).any():
                return None
            return cols
        in_set[entering[np.argsort(reduced[entering])[:_ADD_PER_ROUND]]] = True
    return np.flatnonzero(usable)


def _start(a: FloatArray, cost: FloatArray, usable: BoolArray) -> BoolArray:
    """The :data:`_START_PER_ROW` columns moving each row most per unit cost, each way."""
    chosen = np.zeros(cost.size, dtype=bool)
    efficiency = a / np.maximum(cost, _TOL)
    for row in efficiency:
        for sign in (1.0, -1.0):
            movers = np.flatnonzero(usable & (sign * row > 0))
            best = movers[np.argsort(-sign * row[movers])[:_START_PER_ROW]]
            chosen[best] = True
    return chosen
