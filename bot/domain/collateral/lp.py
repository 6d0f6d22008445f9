"""The optimizer's matrix (see :mod:`bot.domain.collateral.optimizer`) and HiGHS calls.

Columns: ``x`` (USD value at the snapshot price, per route: every row is
in USD, so the solver's tolerances mean the same everywhere), ``y`` (0/1 per
route with a fee or a minimum), then the slacks of the fallback: floor ``s``, target ``t`` and
donor ``d`` per account, absolute and share cap excess per venue. Cap rows count a
withdrawal's fee on both sides (see the optimizer's docstring). Slacks are
fixed at 0 unless ``relaxed``; a cap's slack never exceeds the venue's excess
before the plan, so no plan adds to a venue at or above a cap. A solve is
either the LP relaxation, the LP with every ``y`` fixed, or the full MILP
under a node limit (never a time limit: the plan must not depend on machine
load).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array, vstack

from bot.domain.collateral.frame import MOVE_COST_FRAC, Frame
from bot.domain.collateral.plan import AccountStatus
from bot.domain.ids import Currency
from bot.domain.orders import TransferKind

_MIP_REL_GAP: Final = 1e-4
DUST_USD: Final = 1e-6
"""Amounts below this are solver noise, not transfers."""


@dataclass(frozen=True, slots=True)
class Solved:
    x: np.ndarray
    objective: float


class LpModel:
    """One frame's constraint matrix, bounds and cost vector."""

    def __init__(self, frame: Frame) -> None:  # noqa: C901, PLR0912, PLR0915 - the LP's variables and constraints laid out in one place, as the formulation reads
        self.frame = frame
        n, n_v, routes = len(frame.keys), len(frame.venues), frame.routes
        n_r = len(routes)
        self.binary = np.array([k for k, r in enumerate(routes) if r.binary], dtype=np.int64)
        n_b = len(self.binary)
        self.y_col = {int(k): n_r + b for b, k in enumerate(self.binary)}
        self.s0, self.t0, self.d0 = n_r + n_b, n_r + n_b + n, n_r + n_b + 2 * n
        self.ua0, self.us0 = n_r + n_b + 3 * n, n_r + n_b + 3 * n + n_v
        self.n_cols = self.us0 + n_v
        e0 = np.array(frame.equity0_usd)

        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for k, r in enumerate(routes):
            rows += [r.src, r.dst]
            cols += [k, k]
            vals += [-r.src_value_usd / r.price_usd, r.dst_value_usd / r.price_usd]
            if r.binary:
                rows.append(r.dst)
                cols.append(self.y_col[k])
                vals.append(-r.dst_value_usd * r.route.fee_coin)  # per route used
        d_e = np.zeros((n, self.n_cols))
        np.add.at(d_e, (rows, cols), vals)
        # Caps count a withdrawal's fee on both sides: still held by the account paying it
        # and already credited where it goes. A venue then gets under a cap only by what
        # really arrives elsewhere, never by a fee paid to no one (directly, or by another
        # venue at its ceiling sending back what it received), and what a venue really
        # holds is never above what its cap row allowed.
        d_cap = d_e.copy()
        for k, r in enumerate(routes):
            if r.binary:
                d_cap[r.src, self.y_col[k]] += r.src_value_usd * r.route.fee_coin
                d_cap[r.dst, self.y_col[k]] += r.dst_value_usd * r.route.fee_coin

        deficit = [i for i, s in enumerate(frame.status) if s is AccountStatus.BELOW_FLOOR]
        donors = [i for i in range(n) if i not in deficit]
        blocks: list[Any] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []

        def add(block: Any, lower: Any, upper: Any) -> None:
            blocks.append(csr_array(block))
            lo.append(np.broadcast_to(np.asarray(lower, float), (block.shape[0],)))
            hi.append(np.broadcast_to(np.asarray(upper, float), (block.shape[0],)))

        ceiling = np.maximum(e0, np.array(frame.ceiling_usd))
        add(d_e, np.array(frame.hard_lo_usd) - e0, ceiling - e0)
        for first, picked, level in (
            (self.s0, deficit, frame.floor_usd),
            (self.t0, deficit, frame.target_usd),
            (self.d0, donors, frame.keep_usd),
        ):
            if picked:
                block = d_e[picked].copy()
                block[range(len(picked)), [first + i for i in picked]] = 1.0
                add(block, np.array(level)[picked] - e0[picked], np.inf)

        out_rows: dict[tuple[int, Currency], list[tuple[int, float]]] = {}
        for k, r in enumerate(routes):
            out_rows.setdefault((r.src, r.route.asset), []).append((k, 1.0))
        prices = frame.snapshot.prices_usd
        for k, r in enumerate(routes):
            key = (r.dst, r.route.asset)
            if r.route.kind is TransferKind.SUBACCOUNT and key in out_rows:
                out_rows[key].append((k, -1.0))
        keys = sorted(out_rows)
        if keys:
            rr = [q for q, key in enumerate(keys) for _ in out_rows[key]]
            cc = [k for key in keys for k, _ in out_rows[key]]
            vv = [v for key in keys for _, v in out_rows[key]]
            free = [frame.free_coin.get(key, 0.0) * prices[key[1]] for key in keys]
            add(coo_array((vv, (rr, cc)), shape=(len(keys), self.n_cols)), -np.inf, free)
        if n_b:
            # Sparse: two entries a row (dense, 50 venues' 4,000 routes were 0.5 GB of zeros).
            price = np.array([routes[k].price_usd for k in self.binary])
            upper = np.array([routes[k].upper_coin for k in self.binary]) * price
            lower = np.array([routes[k].lower_coin for k in self.binary]) * price
            link = coo_array(
                (  # row 2b: x_k - upper y <= 0; row 2b + 1: x_k - lower y >= 0
                    np.concatenate([np.ones(2 * n_b), -np.column_stack([upper, lower]).ravel()]),
                    (
                        np.tile(np.arange(2 * n_b), 2),
                        np.concatenate(
                            [np.repeat(self.binary, 2), np.repeat(n_r + np.arange(n_b), 2)]
                        ),
                    ),
                ),
                shape=(2 * n_b, self.n_cols),
            )
            add(link, np.tile([-np.inf, 0.0], n_b), np.tile([0.0, np.inf], n_b))

        member = np.zeros((n_v, n))
        member[list(frame.venue_index), range(n)] = 1.0
        venue_e0 = member @ e0
        total0 = float(e0.sum())
        cap_rows: list[np.ndarray] = []
        cap_hi: list[float] = []
        for v in range(n_v):
            if math.isfinite(frame.cap_usd[v]):
                row = member[v] @ d_cap
                row[self.ua0 + v] = -1.0
                cap_rows.append(row)
                cap_hi.append(frame.cap_usd[v] - venue_e0[v])
            share = frame.share_frac[v]
            if share < 1.0:
                # The base is the total with fees gone: the lower one, so the true share
                # is never above the row's.
                row = member[v] @ d_cap - share * d_e.sum(axis=0)
                row[np.abs(row) < 1e-12 * np.abs(d_cap).max(initial=1.0)] = 0.0
                row[self.us0 + v] = -1.0
                cap_rows.append(row)
                cap_hi.append(share * total0 - venue_e0[v])
        if cap_rows:
            add(np.array(cap_rows), -np.inf, np.array(cap_hi))
        self.a = vstack(blocks, format="csr")
        self.lo, self.hi = np.concatenate(lo), np.concatenate(hi)
        self.stage_rows: list[tuple[np.ndarray, float]] = []

        self.cost = np.zeros(self.n_cols)
        for k, r in enumerate(routes):
            self.cost[k] = (r.idle_x_usd + r.trust_x_usd) / r.price_usd + MOVE_COST_FRAC
            if r.binary:
                self.cost[self.y_col[k]] = r.fee_y_usd + r.idle_y_usd + r.trust_y_usd
        self.upper = np.zeros(self.n_cols)
        self.upper[:n_r] = [r.upper_coin * r.price_usd for r in routes]
        self.upper[n_r : n_r + n_b] = 1.0
        self.slack_upper = np.zeros(self.n_cols)
        for i in deficit:
            self.slack_upper[self.s0 + i] = frame.floor_usd[i] - e0[i]
            self.slack_upper[self.t0 + i] = frame.target_usd[i] - e0[i]
        for i in donors:
            self.slack_upper[self.d0 + i] = frame.keep_usd[i] - frame.hard_lo_usd[i]
        for v in range(n_v):
            over_abs, over_share = frame.cap_excess0_usd(v)
            self.slack_upper[self.ua0 + v] = max(0.0, over_abs) if math.isfinite(over_abs) else 0.0
            self.slack_upper[self.us0 + v] = max(0.0, over_share)

    def groups(self) -> list[np.ndarray]:
        """Slack columns in priority order: floors, caps, donors' targets, deficits' targets."""
        n, n_v = len(self.frame.keys), len(self.frame.venues)
        spans = [(self.s0, n), (self.ua0, 2 * n_v), (self.d0, n), (self.t0, n)]
        return [np.arange(first, first + size) for first, size in spans]

    def used(self, x: np.ndarray) -> np.ndarray:
        """The 0/1 routes a (relaxed) solution sends anything on."""
        k = self.binary
        return np.asarray(x[k] > DUST_USD, dtype=np.float64)

    def solve(
        self,
        objective: np.ndarray,
        *,
        relaxed: bool,
        mode: str,
        fixed: np.ndarray | None = None,
        node_limit: int = 0,
        rel_gap: float | None = None,
        abs_gap_usd: float | None = None,
    ) -> Solved | None:
        """``mode``: "lp" (relaxation), "fixed" (``y`` = ``fixed``), "mip" (stopping at
        ``rel_gap``, at least HiGHS's 1e-4 default here, or at ``abs_gap_usd``) or "sub-mip"
        (the MILP over the routes ``fixed`` marks, every other route closed); None if
        infeasible."""
        lower = np.zeros(self.n_cols)
        upper = self.upper + (self.slack_upper if relaxed else 0.0)
        ycols = np.array([self.y_col[int(k)] for k in self.binary], dtype=np.int64)
        options: dict[str, Any] = {"presolve": True}
        if mode in {"mip", "sub-mip"}:
            gap = _MIP_REL_GAP if rel_gap is None else max(_MIP_REL_GAP, rel_gap)
            options.update(node_limit=node_limit, mip_rel_gap=gap)
            if abs_gap_usd is not None:
                options["mip_abs_gap"] = abs_gap_usd
        if mode in {"fixed", "sub-mip"} and fixed is not None:
            return self._solve_reduced(
                objective, (lower, upper), ycols, fixed, mode=mode, options=options
            )
        integrality = np.zeros(self.n_cols)
        if mode == "mip":
            integrality[ycols] = 1
        constraints = [LinearConstraint(self.a, self.lo, self.hi)]
        constraints += [LinearConstraint(w[None, :], -np.inf, lim) for w, lim in self.stage_rows]
        x = _highs(objective, Bounds(lower, upper), constraints, integrality, options)
        return None if x is None else Solved(x, float(objective @ x))

    def _solve_reduced(
        self,
        objective: np.ndarray,
        bounds: tuple[np.ndarray, np.ndarray],
        ycols: np.ndarray,
        pattern: np.ndarray,
        *,
        mode: str,
        options: dict[str, Any],
    ) -> Solved | None:
        """The model over the routes ``pattern`` opens only: a closed route carries nothing
        (its link row says so), so its columns leave the matrix; with ``mode`` "fixed" the
        open routes' ``y`` are the constant 1 and leave it too, their terms moved to the
        row bounds. The same model, a few hundred columns instead of thousands (issue 18).
        """
        is_open = pattern > 0.5
        keep = np.ones(self.n_cols, dtype=bool)
        keep[self.binary[~is_open]] = False
        keep[ycols[~is_open]] = False
        y = np.zeros(len(ycols))
        if mode == "fixed":
            keep[ycols] = False
            y[is_open] = 1.0
        a = self.a.tocsc()
        shift = a[:, ycols] @ y
        kept = np.flatnonzero(keep)
        constraints = [LinearConstraint(a[:, kept], self.lo - shift, self.hi - shift)]
        for weights, limit in self.stage_rows:
            constraints.append(
                LinearConstraint(weights[None, kept], -np.inf, limit - weights[ycols] @ y)
            )
        integrality = np.zeros(self.n_cols)
        integrality[ycols] = 1.0
        scale = 1.0
        if mode == "fixed":
            # Scaled to a largest cost of 1 (the same optimum): without the fees' columns the
            # costs left can all be as small as the 1e-7 tie-break, below HiGHS's tolerances.
            scale = max(float(np.abs(objective[kept]).max(initial=0.0)), 1e-300)
        box = Bounds(bounds[0][kept], bounds[1][kept])
        part = _highs(objective[kept] / scale, box, constraints, integrality[kept], options)
        if part is None:
            return None
        x = np.zeros(self.n_cols)
        x[kept] = part
        x[ycols[~keep[ycols]]] = y[~keep[ycols]]
        return Solved(x, float(objective @ x))


def _highs(
    objective: np.ndarray,
    bounds: Bounds,
    constraints: list[LinearConstraint],
    integrality: np.ndarray,
    options: dict[str, Any],
) -> np.ndarray | None:
    """HiGHS's solution, or None if infeasible."""
    with warnings.catch_warnings():
        # scipy passes HiGHS's own options (mip_abs_gap) on verbatim, with this warning.
        warnings.filterwarnings("ignore", "Unrecognized options detected", RuntimeWarning)
        res = milp(
            objective,
            integrality=integrality,
            bounds=bounds,
            constraints=constraints,
            options=options,
        )
        if res.x is None:
            # HiGHS's presolve can call a feasible model with a tight stage row (a large
            # optimum fixed to within cents) infeasible; the plain solve is the arbiter.
            res = milp(
                objective,
                integrality=integrality,
                bounds=bounds,
                constraints=constraints,
                options={**options, "presolve": False},
            )
    return None if res.x is None else np.asarray(res.x, float)
