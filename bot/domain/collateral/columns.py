"""The LP relaxation solved over the routes that can improve it (column generation).

At 50 venues x 4 assets the matrix has about 4,000 usable routes, but the
relaxation's optimum sends on a hundred or so; HiGHS spent 150-250 ms a solve
on the whole matrix (issue 18). Here the LP starts with no route at all and
grows: after each solve the row duals ``pi`` price every route, and the routes
that could lower the objective come in, HiGHS resuming from its last basis.

A 0/1 route's columns ``(x, y)`` (USD sent, use) live in the cone
``lower * y <= x <= upper * y``, ``y <= 1``, spanned by two rays: ``x`` sent
with ``y = x / upper`` (the fee paid pro rata over the most the route can
carry) and ``y = x / lower``. Inside the restricted LP a route is one column
per ray it needs, ``x`` in USD over ``[0, upper]`` (``[0, lower]``) with
``y``'s effects folded in, so it brings no row (the whole matrix has two link
rows a route); the second ray comes in only if it prices out, with the row
``x1 / upper + x2 / lower <= 1``. A route without fee or minimum is its ``x``
column. With reduced costs ``rc_x``, ``rc_y`` the most a route can lower the
objective is ``min(0, rc_y + upper * rc_x, rc_y + lower * rc_x)``.

The bound returned is proven: the Lagrangian dual of ``pi`` over every column
of the whole model,
``sum_i min(pi_i * lo_i, pi_i * hi_i) + sum_j min over column j's domain of rc_j * x_j``
(each route's domain its cone), is a lower bound on its LP for any ``pi`` (weak
duality), computed from the duals as they are; once no route prices out it is
the restricted LP's optimum, less the duals' round-off (HiGHS's 1e-7 over the
USD a route can carry: about 1e-3 USD at 50 venues). It proves infeasibility
too (phase 1 below).

Feasibility comes first (phase 1): an artificial column per row that the
zero plan violates, the sum of artificials minimised over generated routes.
If that sum's Lagrangian bound is positive the whole LP is infeasible (no
route could repair it); if it reaches zero, the artificials are fixed at zero
and the cost is minimised (phase 2). Anything else (HiGHS not optimal, the
round limit hit) returns None and the caller solves the whole matrix: the
result never depends on this shortcut working.

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
from scipy.sparse import csc_array, diags_array, hstack

from bot.domain import highs
from bot.domain.collateral.frame import tolerance_usd

if TYPE_CHECKING:
    from bot.domain.collateral.lp import LpModel

MAX_ROUNDS: Final = 200
"""Solves before giving up on the shortcut (a count, not a time: the plan must not
depend on machine load)."""
PER_ACCOUNT: Final = 3
"""Routes brought in a round per source and per destination account, the best first (at
50 venues: 1 took 15-20 rounds, 3 take 8-10 and about 30 ms, 5 no fewer)."""
_DUAL_ZERO: Final = 1e-9
"""Duals and reduced costs this small are the solver's round-off, not prices."""
_DUAL_TOLERANCE: Final = 1e-6
"""Duals this small may be HiGHS's dual tolerance (1e-7) at work rather than prices."""
_FLAT, _UPPER, _LOWER = 0, 1, 2
"""A master column of a route: its ``x`` (no fee or minimum), or a ray of its cone."""


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """Each element's place among the earlier elements of the same ``group`` value."""
    at = np.argsort(group, kind="stable")
    ordered = group[at]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    rank = np.empty(len(group), dtype=np.int64)
    rank[at] = np.arange(len(group)) - np.repeat(starts, sizes)
    return rank


@dataclass
class _Master:
    """The restricted LP in HiGHS: the model's non-route columns, the artificials, then
    route columns as they come in."""

    h: highspy.Highs
    cols: list[int]
    """The whole model's column of each non-route master column; -1: an artificial."""
    n_rows: int
    """Rows shared with the whole model (every row but the link rows): the master's first."""
    route: list[int] = field(default_factory=list)
    """Route of each route column (they follow the ``cols`` columns), and its kind."""
    kind: list[int] = field(default_factory=list)
    col_of: dict[tuple[int, int], int] = field(default_factory=dict)
    """Master column of each (route, kind) in."""
    inside: np.ndarray = field(default_factory=lambda: np.zeros((3, 0), dtype=bool))
    """[kind, route]: in already."""


class _Relaxation:
    """One relaxation of ``lp`` under column bounds ``upper``."""

    def __init__(self, lp: LpModel, upper: np.ndarray) -> None:
        self.lp, self.upper = lp, upper
        a, lo, hi = lp.rows()
        n_b, n_r = len(lp.binary), lp.n_routes
        shared = np.ones(a.shape[0], dtype=bool)
        shared[lp.link0 : lp.link0 + 2 * n_b] = False
        self.a = csc_array(a[np.flatnonzero(shared)])
        self.lo, self.hi = lo[shared], hi[shared]
        self.total_row = lp.total_row - 2 * n_b  # after the link rows
        self.at = self.a.T.tocsr()
        self.ycol_of = np.full(n_r, -1, dtype=np.int64)
        self.ycol_of[lp.binary] = lp.ycols
        self.binary = self.ycol_of >= 0
        # Each route's rays, USD: most and least it carries once used (a free route: its
        # bound and none).
        self.upper_usd = upper[:n_r].copy()
        self.lower_usd = np.zeros(n_r)
        self.lower_usd[lp.binary] = lp.link_usd[0]
        self.upper_usd[lp.binary] = lp.link_usd[1]
        self.is_route = np.zeros(lp.n_cols, dtype=bool)
        self.is_route[:n_r] = True
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
        inside = np.zeros((3, lp.n_routes), dtype=bool)
        return _Master(h, [*other.tolist(), *[-1] * len(need)], self.a.shape[0], inside=inside)

    def _rays(
        self, routes: np.ndarray, kinds: np.ndarray, cost: np.ndarray
    ) -> tuple[csc_array, np.ndarray, np.ndarray]:
        """Columns, costs and upper bounds (USD) of ``routes``' master columns of ``kinds``:
        ``x``'s column plus ``y``'s over the ray's ``x`` per use."""
        per_use = np.where(kinds == _LOWER, self.lower_usd[routes], self.upper_usd[routes])
        has_y = kinds != _FLAT
        ys = np.where(has_y, self.ycol_of[routes], 0)
        scale = np.where(has_y, 1.0 / np.where(per_use > 0, per_use, 1.0), 0.0)
        block = self.a[:, routes] + self.a[:, ys] @ diags_array(scale)
        return csc_array(block), cost[routes] + cost[ys] * scale, per_use

    def potentials(self, pi: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Per route, the most each ray can lower the objective at duals ``pi`` (<= 0), and
        the Lagrangian bound's rows-and-others part."""
        lp = self.lp
        # Round-off can give a one-sided row a dual of the wrong sign (1e-8 on a row with
        # no lower bound), which would make the bound -inf: those are zero. The total's
        # row is an equality whose dual is free: it is set so the free total column's
        # reduced cost is exactly zero (else the bound is -inf again).
        pi = np.where(np.abs(pi) < _DUAL_ZERO, 0.0, pi)
        wrong = ((pi > 0) & ~np.isfinite(self.lo)) | ((pi < 0) & ~np.isfinite(self.hi))
        pi = np.where(wrong, 0.0, pi)
        rc = cost - self.at @ pi
        pi[self.total_row] -= rc[lp.total_col]
        rc = cost - self.at @ pi
        rc_x = rc[: lp.n_routes]
        rc_y = np.where(self.binary, rc[np.maximum(self.ycol_of, 0)], 0.0)
        by_upper = np.minimum(0.0, rc_y + self.upper_usd * rc_x)
        by_lower = np.where(self.binary, np.minimum(0.0, rc_y + self.lower_usd * rc_x), 0.0)
        other = ~self.is_route
        lo_o, hi_o, rc_o = lp.lower[other], self.upper[other], rc[other]
        with np.errstate(invalid="ignore"):  # inf * 0 where the other branch is taken
            rows = np.where(pi > 0, pi * self.lo, np.where(pi < 0, pi * self.hi, 0.0))
            cols = np.where(rc_o > 0, rc_o * lo_o, np.where(rc_o < 0, rc_o * hi_o, 0.0))
        return by_upper, by_lower, float(rows.sum() + cols.sum())

    def add(self, m: _Master, routes: np.ndarray, kinds: np.ndarray, cost: np.ndarray) -> None:
        """Bring ``routes``' columns of ``kinds`` in; a lower ray with its route's row."""
        block, costs, per_use = self._rays(routes, kinds, cost)
        start = len(m.cols) + len(m.route)
        m.h.addCols(
            len(routes),
            costs,
            np.zeros(len(routes)),
            per_use,
            block.nnz,
            block.indptr[:-1].astype(np.int32),
            block.indices.astype(np.int32),
            block.data,
        )
        pairs = zip(routes.tolist(), kinds.tolist(), strict=True)
        m.col_of.update({pair: start + q for q, pair in enumerate(pairs)})
        m.route += routes.tolist()
        m.kind += kinds.tolist()
        m.inside[kinds, routes] = True
        lows = routes[kinds == _LOWER]
        if len(lows):
            # x_upper / upper + x_lower / lower <= 1: the route's y at most 1.
            n = len(lows)
            index = np.array(
                [[m.col_of[(r, _UPPER)], m.col_of[(r, _LOWER)]] for r in lows.tolist()],
                dtype=np.int32,
            ).ravel()
            value = np.column_stack([1.0 / self.upper_usd[lows], 1.0 / self.lower_usd[lows]])
            m.h.addRows(
                n,
                np.full(n, -np.inf),
                np.ones(n),
                len(index),
                np.arange(0, 2 * n, 2, dtype=np.int32),
                index,
                value.ravel(),
            )

    def wanted(
        self, m: _Master, by_upper: np.ndarray, by_lower: np.ndarray, eps: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Routes and kinds to bring in: per source and per destination account, the
        :data:`PER_ACCOUNT` routes whose best ray lowers the objective most (routes into
        one account compete for the same row: a few a round, priced again at the next
        duals, bring in far fewer than the most negative few hundred, which mostly serve
        the same accounts). A lower ray comes with its upper one."""
        kind = np.where(by_lower < by_upper, _LOWER, np.where(self.binary, _UPPER, _FLAT))
        best = np.minimum(by_upper, by_lower)
        inside = m.inside[kind, np.arange(len(kind))]
        candidates = np.flatnonzero((best < -eps) & ~inside)
        if len(candidates) == 0:
            return candidates, candidates
        order = candidates[np.argsort(best[candidates], kind="stable")]
        src, dst = (ends[order] for ends in self.lp.route_ends)
        # Rank of each candidate among those of its source (destination), best first.
        by_src, by_dst = _rank_in_group(src), _rank_in_group(dst)
        picked = np.sort(order[(by_src < PER_ACCOUNT) | (by_dst < PER_ACCOUNT)])
        kinds = kind[picked]
        missing = (kinds == _LOWER) & ~m.inside[_UPPER, picked]
        routes = np.concatenate([picked[missing], picked])
        return routes, np.concatenate([np.full(int(missing.sum()), _UPPER), kinds])

    def grow(
        self, m: _Master, cost: np.ndarray, *, lagrangian: bool
    ) -> tuple[np.ndarray, float] | None:
        """Solve, price, bring routes in, until none improves (None at the round limit):
        the master's solution over the whole model's columns, and the Lagrangian bound
        (no more than the master's optimum unless ``lagrangian``: phase 1 proves with it)."""
        h = m.h
        for _ in range(MAX_ROUNDS):
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            value = float(h.getInfo().objective_function_value)
            pi = np.asarray(h.getSolution().row_dual, dtype=np.float64)[: m.n_rows]
            by_upper, by_lower, rest = self.potentials(pi, cost)
            bound = rest + float(np.minimum(by_upper, by_lower).sum())
            if not np.isfinite(bound):
                return None
            # Below this a potential is the duals' round-off (1e-12 a USD over a route's
            # reach), not a route worth a solve.
            eps = 1e-9 * max(1.0, abs(value)) + 1e-12 * self.upper_usd
            routes, kinds = self.wanted(m, by_upper, by_lower, eps)
            if len(routes) == 0:
                # Any duals of the right signs give a valid bound; those at HiGHS's dual
                # tolerance, times a row bound of 800,000 USD, loosened it by 0.08 USD
                # (test_column_generation_reaches_the_whole_relaxation): the better of the
                # two is kept.
                near = np.where(np.abs(pi) < _DUAL_TOLERANCE, 0.0, pi)
                upper_near, lower_near, rest_near = self.potentials(near, cost)
                bound = max(bound, rest_near + float(np.minimum(upper_near, lower_near).sum()))
                return self.point(m), bound if lagrangian else min(bound, value)
            self.add(m, routes, kinds, cost)
        return None

    def point(self, m: _Master) -> np.ndarray:
        """The master's solution as the whole model's columns."""
        lp = self.lp
        sol = np.asarray(m.h.getSolution().col_value, dtype=np.float64)
        x = np.zeros(lp.n_cols)
        cols = np.array(m.cols)
        real = cols >= 0
        x[cols[real]] = sol[: len(cols)][real]
        sent = sol[len(cols) :]
        routes, kinds = np.array(m.route, dtype=np.int64), np.array(m.kind, dtype=np.int64)
        np.add.at(x, routes, sent)
        per_use = np.where(kinds == _LOWER, self.lower_usd[routes], self.upper_usd[routes])
        has_y = kinds != _FLAT
        np.add.at(x, self.ycol_of[routes[has_y]], sent[has_y] / per_use[has_y])
        return x


@dataclass(frozen=True, slots=True)
class Relaxed:
    """A relaxation's solution (over the whole model's columns; empty if infeasible), its
    proven lower bound (inf: proven infeasible) and the routes it brought in."""

    x: np.ndarray
    bound: float
    routes: np.ndarray


def relaxation(
    lp: LpModel, objective: np.ndarray, upper: np.ndarray, start: np.ndarray
) -> Relaxed | None:
    """The whole model's LP relaxation solved by column generation from the routes
    ``start`` (the last relaxation's, for the fallback's next stage); None when this
    cannot decide (the caller then solves the whole matrix)."""
    r = _Relaxation(lp, upper)
    m = r.master({"presolve": "off"})
    zero = np.zeros(lp.n_cols)
    if len(start):
        r.add(m, start, np.where(r.binary[start], _UPPER, _FLAT), zero)
    phase1 = r.grow(m, zero, lagrangian=True)
    if phase1 is None:
        return None
    tol = tolerance_usd(lp.frame.total0_usd)
    if phase1[1] > tol:  # no route can repair what the artificials carry
        return Relaxed(np.zeros(0), np.inf, np.unique(np.array(m.route, dtype=np.int64)))
    cols = np.array(m.cols)
    art = np.flatnonzero(cols < 0).astype(np.int32)
    if float(np.asarray(m.h.getSolution().col_value)[art].sum()) > tol:
        return None
    m.h.changeColsBounds(len(art), art, np.zeros(len(art)), np.zeros(len(art)))
    m.h.changeColsCost(len(art), art, np.zeros(len(art)))
    real = np.flatnonzero(cols >= 0).astype(np.int32)
    m.h.changeColsCost(len(real), real, objective[cols[cols >= 0]])
    routes, kinds = np.array(m.route, dtype=np.int64), np.array(m.kind, dtype=np.int64)
    if len(routes):
        _, costs, _ = r._rays(routes, kinds, objective)
        at = np.arange(len(cols), len(cols) + len(routes), dtype=np.int32)
        m.h.changeColsCost(len(at), at, costs)
    found = r.grow(m, objective, lagrangian=False)
    if found is None:
        return None
    return Relaxed(found[0], found[1], np.unique(np.array(m.route, dtype=np.int64)))
