"""The LP relaxation solved over the routes that can improve it (column generation).

At 50 venues x 4 assets the matrix has about 4,000 usable routes, but the
relaxation's optimum sends on a hundred or so; HiGHS spent 150-250 ms a solve
on the whole matrix (issue 18). Here the LP starts with no route at all and
grows: after each solve the row duals ``pi`` price every route left out, and
the routes that could lower the objective come in (with their link rows),
HiGHS resuming from its last basis. A 0/1 route's columns ``(x, y)`` live in
the cone ``lower * y <= x <= upper * y``, ``y <= 1``, whose extreme rays are
``(upper, 1)`` and ``(lower, 1)``: with reduced costs ``rc_x``, ``rc_y`` the
most it can lower the objective is ``min(0, rc_y + upper * rc_x, rc_y + lower *
rc_x)`` (a free route's: ``min(0, upper * rc_x)``).

The bound returned is exact whatever the stopping point: the Lagrangian dual
of ``pi`` over every column of the whole model,
``sum_i min(pi_i * lo_i, pi_i * hi_i) + sum_j min over column j's box of rc_j * x_j``,
is a lower bound on its LP (weak duality); at convergence it equals the
restricted LP's optimum, which is then the whole LP's.

Feasibility comes first (phase 1): an artificial column per row that the
zero plan violates, the sum of artificials minimised over generated routes.
If that sum's Lagrangian bound is positive the whole LP is infeasible (no
route left out could repair it); if it reaches zero, the artificials are
fixed at zero and the cost is minimised (phase 2). Anything else (HiGHS not
optimal, the round limit hit in phase 1) returns None and the caller solves
the whole matrix: the result never depends on this shortcut working.

Worked example (``tests/unit/test_collateral_columns.py``): the optimizer's own
(account ``a`` 50,000 USD under its target; one USDC route from ``b``, fee 10, minimum
100, room for ``upper`` = 100,010 USD). Phase 1: the target row is short by 50,000,
its artificial carries it, its dual is 1; the route's ``rc_x = -1`` (a USD sent
credits 1) and ``rc_y = +10`` (using it loses the fee): potential
``min(0, 10 - 100,010, 10 - 100) < 0``, so it comes in and the artificial drops to 0.
Phase 2: the LP sends ``x`` = 50,005 USD at ``y`` = 0.5 (credit 50,005 - 10 x 0.5 =
50,000) for 10 x 0.5 + 1e-7 x 50,005 = 5.0050005 USD: the bound that the plan
(the whole fee: 10.005 USD) is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import highspy
import numpy as np
from scipy.sparse import csc_array, hstack

from bot.domain.collateral import highs
from bot.domain.collateral.frame import tolerance_usd

if TYPE_CHECKING:
    from bot.domain.collateral.lp import LpModel

ROUTES_PER_ROUND: Final = 200
"""Most routes brought in after one solve (the most improving first)."""
MAX_ROUNDS: Final = 200
"""Solves before giving up on the shortcut (a count, not a time: the plan must not
depend on machine load)."""
_DUAL_ZERO: Final = 1e-9
"""Duals and reduced costs this small are the solver's round-off, not prices."""


def _unused() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class _Master:
    """The restricted LP in HiGHS: the model's non-route columns, the artificials, then
    the routes brought in so far (``x`` and, for a 0/1 route, ``y``, added in pairs)."""

    h: highspy.Highs
    cols: list[int]
    """The whole model's column of each master column; -1: an artificial."""
    n_rows: int
    """Rows shared with the whole model (every row but the link rows): the master's first."""
    routes_in: np.ndarray = field(default_factory=_unused)


class _Relaxation:
    """One relaxation of ``lp`` under ``objective`` and column bounds ``upper``."""

    def __init__(self, lp: LpModel, objective: np.ndarray, upper: np.ndarray) -> None:
        self.lp, self.objective, self.upper = lp, objective, upper
        a, lo, hi = lp.rows()
        n_b = len(lp.binary)
        shared = np.ones(a.shape[0], dtype=bool)
        shared[lp.link0 : lp.link0 + 2 * n_b] = False
        self.a = csc_array(a[np.flatnonzero(shared)])
        self.lo, self.hi = lo[shared], hi[shared]
        self.total_row = lp.total_row - 2 * n_b  # after the link rows
        self.at = self.a.T.tocsr()
        self.ycol_of = np.full(lp.n_routes, -1, dtype=np.int64)
        self.ycol_of[lp.binary] = lp.ycols
        self.link_of = np.full(lp.n_routes, -1, dtype=np.int64)
        self.link_of[lp.binary] = np.arange(n_b)
        self.is_route = np.zeros(lp.n_cols, dtype=bool)
        self.is_route[: lp.n_routes] = True
        self.is_route[lp.ycols] = True

    def master(self, options: highs.Options) -> _Master:
        """Non-route columns and one artificial per row the zero plan violates."""
        lp = self.lp
        other = np.flatnonzero(~self.is_route)
        need = np.flatnonzero((self.lo > 0) | (self.hi < 0))
        sign = np.where(self.lo[need] > 0, 1.0, -1.0)
        art = csc_array((sign, (need, np.arange(len(need)))), shape=(self.a.shape[0], len(need)))
        a = hstack([self.a[:, other], art], format="csc")
        cost = np.concatenate([np.zeros(len(other)), np.ones(len(need))])
        lower = np.concatenate([lp.lower[other], np.zeros(len(need))])
        upper = np.concatenate([self.upper[other], np.full(len(need), np.inf)])
        h = highs.new_highs(options)
        highs.pass_model(h, cost, (lower, upper), a, (self.lo, self.hi))
        return _Master(h, [*other.tolist(), *[-1] * len(need)], self.a.shape[0])

    def potentials(self, pi: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Per route, the most it can lower the objective at duals ``pi`` (<= 0); the
        reduced costs of every column; and the Lagrangian bound's rows-and-others part."""
        lp = self.lp
        # Round-off can give a one-sided row a dual of the wrong sign (1e-8 on a row with
        # no lower bound), which would make the bound -inf: those are zero. The total's
        # row is an equality whose dual is free: it is set so the free total column's
        # reduced cost is exactly zero (else the bound is -inf again).
        pi = np.where(np.abs(pi) < _DUAL_ZERO, 0.0, pi)
        pi = np.where(
            ((pi > 0) & ~np.isfinite(self.lo)) | ((pi < 0) & ~np.isfinite(self.hi)), 0.0, pi
        )
        rc = cost - self.at @ pi
        pi[self.total_row] -= rc[lp.total_col]
        rc = cost - self.at @ pi
        rc = np.where(np.abs(rc) < _DUAL_ZERO * np.maximum(1.0, np.abs(cost)), 0.0, rc)
        rc_x = rc[: lp.n_routes]
        has_y = self.ycol_of >= 0
        rc_y = np.where(has_y, rc[np.maximum(self.ycol_of, 0)], 0.0)
        lower_usd, upper_usd = np.zeros(lp.n_routes), lp.upper[: lp.n_routes].copy()
        lower_usd[lp.binary], upper_usd[lp.binary] = lp.link_usd
        with np.errstate(invalid="ignore"):
            potential = np.minimum(
                0.0, np.minimum(rc_y + upper_usd * rc_x, rc_y + lower_usd * rc_x)
            )
        potential[~has_y] = np.minimum(0.0, upper_usd[~has_y] * rc_x[~has_y])
        other = ~self.is_route
        lo_o, hi_o, rc_o = lp.lower[other], self.upper[other], rc[other]
        with np.errstate(invalid="ignore"):  # inf * 0 where the other branch is taken
            rows = np.where(pi > 0, pi * self.lo, np.where(pi < 0, pi * self.hi, 0.0))
            cols = np.where(rc_o > 0, rc_o * lo_o, np.where(rc_o < 0, rc_o * hi_o, 0.0))
        return potential, rc, float(rows.sum() + cols.sum())

    def add(self, m: _Master, routes: np.ndarray, cost: np.ndarray) -> None:
        """Bring ``routes`` in: their columns over the shared rows, then their link rows."""
        lp = self.lp
        ys = self.ycol_of[routes]
        binary = routes[ys >= 0]
        full = np.concatenate([routes, ys[ys >= 0]])
        block = self.a[:, full]
        h = m.h
        start = len(m.cols)
        h.addCols(
            len(full),
            cost[full],
            np.zeros(len(full)),
            self.upper[full],
            block.nnz,
            block.indptr[:-1].astype(np.int32),
            block.indices.astype(np.int32),
            block.data,
        )
        m.cols.extend(full.tolist())
        m.routes_in = np.concatenate([m.routes_in, routes])
        if len(binary):
            where = {c: start + i for i, c in enumerate(full.tolist())}
            lower_usd, upper_usd = (v[self.link_of[binary]] for v in lp.link_usd)
            xs = np.array([where[int(k)] for k in binary], dtype=np.int32)
            yc = np.array([where[int(c)] for c in self.ycol_of[binary]], dtype=np.int32)
            n = len(binary)
            index = np.column_stack([xs, yc, xs, yc]).ravel()
            value = np.column_stack([np.ones(n), -upper_usd, np.ones(n), -lower_usd]).ravel()
            h.addRows(
                2 * n,
                np.tile([-np.inf, 0.0], n),
                np.tile([0.0, np.inf], n),
                len(index),
                np.arange(0, 4 * n, 2, dtype=np.int32),
                index.astype(np.int32),
                value,
            )

    def pick(self, wanted: np.ndarray, potential: np.ndarray) -> np.ndarray:
        """The most improving route out of each source and into each destination among
        ``wanted`` (routes into one account compete for the same row: one a round, priced
        again at the next duals, brings in far fewer routes than the most negative few
        hundred, which mostly serve the same accounts)."""
        order = wanted[np.argsort(potential[wanted], kind="stable")]
        src, dst = (ends[order] for ends in self.lp.route_ends)
        first = np.union1d(
            np.unique(src, return_index=True)[1], np.unique(dst, return_index=True)[1]
        )
        return np.sort(order[first])

    def grow(self, m: _Master, cost: np.ndarray) -> tuple[np.ndarray, float] | None:
        """Solve, price, bring routes in, until none improves (or the round limit):
        the master's solution over the whole model's columns and the Lagrangian bound."""
        h = m.h
        best = -np.inf
        for _ in range(MAX_ROUNDS):
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            value = float(h.getInfo().objective_function_value)
            pi = np.asarray(h.getSolution().row_dual, dtype=np.float64)[: m.n_rows]
            potential, _, rest = self.potentials(pi, cost)
            inside = np.zeros(len(potential), dtype=bool)
            inside[m.routes_in] = True
            potential[inside] = 0.0
            bound = rest + float(potential.sum())
            best = max(best, bound)
            if not np.isfinite(best):
                return None
            wanted = np.flatnonzero(potential < -1e-9 * max(1.0, abs(value)))
            if len(wanted) == 0:
                break
            self.add(m, self.pick(wanted, potential), cost)
        x = np.zeros(self.lp.n_cols)
        sol = np.asarray(h.getSolution().col_value, dtype=np.float64)
        cols = np.array(m.cols)
        real = cols >= 0
        x[cols[real]] = sol[real]
        return x, min(best, value)


def relaxation(
    lp: LpModel, objective: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """The whole model's LP relaxation solved by column generation: its solution and a
    proven lower bound on its optimum; None when this cannot decide (the caller then
    solves the whole matrix), including when the LP is infeasible but not proven so here.
    A proven infeasible LP returns ``(empty, inf)``."""
    r = _Relaxation(lp, objective, upper)
    m = r.master({"presolve": "off"})
    if len(lp.warm_routes):
        r.add(m, lp.warm_routes, np.zeros(lp.n_cols))
    phase1 = r.grow(m, np.zeros(lp.n_cols))
    if phase1 is None:
        return None
    tol = tolerance_usd(lp.frame.total0_usd)
    lp.warm_routes = np.sort(m.routes_in)
    if phase1[1] > tol:
        return np.zeros(0), np.inf  # no route left out can repair what the artificials carry
    cols = np.array(m.cols)
    art = cols < 0
    if float(np.asarray(m.h.getSolution().col_value)[art].sum()) > tol:
        return None
    fake, real = np.flatnonzero(art).astype(np.int32), np.flatnonzero(~art).astype(np.int32)
    m.h.changeColsBounds(len(fake), fake, np.zeros(len(fake)), np.zeros(len(fake)))
    m.h.changeColsCost(len(fake), fake, np.zeros(len(fake)))
    m.h.changeColsCost(len(real), real, objective[cols[~art]])
    found = r.grow(m, objective)
    lp.warm_routes = np.sort(m.routes_in)
    return found
