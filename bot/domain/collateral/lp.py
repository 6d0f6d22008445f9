"""The optimizer's matrix (see :mod:`bot.domain.collateral.optimizer`) and HiGHS calls.

Columns: ``x`` (USD value at the snapshot price, per route: every row is
in USD, so the solver's tolerances mean the same everywhere), ``y`` (0/1 per
route with a fee or a minimum), then the slacks of the fallback: floor ``s``, target ``t`` and
donor ``d`` per account, absolute and share cap excess per venue, and last the change
of all collateral's value (one free column, one row: every share cap's base). Cap rows
count a withdrawal's fee on both sides (see the optimizer's docstring). Slacks are
fixed at 0 unless ``relaxed``; a cap's slack never exceeds the venue's excess
before the plan, so no plan adds to a venue at or above a cap. A solve is either
the LP relaxation (by column generation, :mod:`bot.domain.collateral.columns`; the
whole matrix if that cannot decide), the LP with every ``y`` fixed, or the full MILP
under a node limit (never a time limit: the plan must not depend on machine load).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.sparse import coo_array, csr_array, vstack

from bot.domain import highs
from bot.domain.collateral.columns import relaxation
from bot.domain.collateral.frame import MOVE_COST_FRAC, Frame
from bot.domain.collateral.plan import AccountStatus

_MIP_REL_GAP: Final = 1e-4
DUST_USD: Final = 1e-6
"""Amounts below this are solver noise, not transfers."""


def _sparse(rows: Any, cols: Any, values: Any, shape: tuple[int, int]) -> csr_array:
    """A CSR matrix from (row, column, value) triplets; duplicates summed."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), rows.shape)
    return csr_array(coo_array((values, (rows, cols)), shape=shape))


@dataclass(frozen=True, slots=True)
class Solved:
    x: np.ndarray
    objective: float
    """``objective @ x``; for a relaxation, a proven lower bound on its optimum (within
    round-off of it: see :mod:`bot.domain.collateral.columns`)."""


class LpModel:
    """One frame's constraint matrix, bounds and cost vector."""

    def __init__(self, frame: Frame) -> None:  # noqa: C901, PLR0915 - the LP's variables and constraints laid out in one place, as the formulation reads
        self.frame = frame
        n, n_v, routes = len(frame.keys), len(frame.venues), frame.routes
        n_r = len(routes)
        cols = frame.columns
        self.binary = np.flatnonzero(cols.binary)
        n_b = len(self.binary)
        self.ycols = n_r + np.arange(n_b)
        self.y_col = dict(zip(self.binary.tolist(), self.ycols.tolist(), strict=True))
        self.s0, self.t0, self.d0 = n_r + n_b, n_r + n_b + n, n_r + n_b + 2 * n
        self.ua0, self.us0 = n_r + n_b + 3 * n, n_r + n_b + 3 * n + n_v
        self.total_col = self.us0 + n_v
        """Change of all collateral's value (the share caps' base): one column and one row
        instead of every route's fee in every venue's share row (issue 18: those dense rows
        were 200,000 of the matrix's 270,000 entries at 50 venues)."""
        self.n_cols = self.total_col + 1
        self.n_routes = n_r
        self.route_ends = (cols.src, cols.dst)
        """Source and destination account of each route."""
        e0 = np.array(frame.equity0_usd)

        k, b = np.arange(n_r), self.binary
        src_b, dst_b, fee_b = cols.src[b], cols.dst[b], cols.fee_coin[b]
        # Equity change per account: a route debits its source and credits its destination,
        # less its fee once used.
        d_e = _sparse(
            np.concatenate([cols.src, cols.dst, dst_b]),
            np.concatenate([k, k, self.ycols]),
            np.concatenate(
                [
                    -cols.src_value / cols.price,
                    cols.dst_value / cols.price,
                    -cols.dst_value[b] * fee_b,
                ]
            ),
            (n, self.n_cols),
        )
        # Caps count a withdrawal's fee on both sides: still held by the account paying it
        # and already credited where it goes. A venue then gets under a cap only by what
        # really arrives elsewhere, never by a fee paid to no one (directly, or by another
        # venue at its ceiling sending back what it received), and what a venue really
        # holds is never above what its cap row allowed.
        d_cap = d_e + _sparse(
            np.concatenate([src_b, dst_b]),
            np.concatenate([self.ycols, self.ycols]),
            np.concatenate([cols.src_value[b] * fee_b, cols.dst_value[b] * fee_b]),
            (n, self.n_cols),
        )
        d_cap.eliminate_zeros()

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
                slack = _sparse(
                    np.arange(len(picked)),
                    first + np.array(picked),
                    1.0,
                    (len(picked), self.n_cols),
                )
                add(d_e[picked] + slack, np.array(level)[picked] - e0[picked], np.inf)

        # What an account sends of an asset, less what its sub-account siblings pass it in
        # the same plan, is at most its free amount: one row per (account, asset) sending.
        n_a = len(cols.assets)
        out_key = cols.src * n_a + cols.asset
        relay = cols.subaccount & np.isin(cols.dst * n_a + cols.asset, out_key)
        keys = np.unique(out_key)
        if len(keys):
            relay_key = cols.dst[relay] * n_a + cols.asset[relay]
            prices = frame.snapshot.prices_usd
            free = [
                frame.free_coin.get((int(q) // n_a, cols.assets[int(q) % n_a]), 0.0)
                * prices[cols.assets[int(q) % n_a]]
                for q in keys
            ]
            out = _sparse(
                np.searchsorted(keys, np.concatenate([out_key, relay_key])),
                np.concatenate([k, k[relay]]),
                np.concatenate([np.ones(n_r), -np.ones(len(relay_key))]),
                (len(keys), self.n_cols),
            )
            add(out, -np.inf, free)
        self.link0 = sum(block.shape[0] for block in blocks)
        """First of the link rows, two a 0/1 route: ``x - upper y <= 0``, ``x - lower y >= 0``."""
        upper = cols.upper_coin[b] * cols.price[b]
        lower = cols.lower_coin[b] * cols.price[b]
        self.link_usd = (lower, upper)
        """Least and most a 0/1 route carries once used, USD (its link rows' coefficients)."""
        if n_b:
            # Sparse: two entries a row (dense, 50 venues' 4,000 routes were 0.5 GB of zeros).
            link = coo_array(
                (  # row 2b: x_k - upper y <= 0; row 2b + 1: x_k - lower y >= 0
                    np.concatenate([np.ones(2 * n_b), -np.column_stack([upper, lower]).ravel()]),
                    (
                        np.tile(np.arange(2 * n_b), 2),
                        np.concatenate([np.repeat(self.binary, 2), np.repeat(self.ycols, 2)]),
                    ),
                ),
                shape=(2 * n_b, self.n_cols),
            )
            add(link, np.tile([-np.inf, 0.0], n_b), np.tile([0.0, np.inf], n_b))

        venue_index = np.array(frame.venue_index)
        member = _sparse(venue_index, np.arange(n), 1.0, (n_v, n))
        venue_cap = (member @ d_cap).tocsr()
        venue_e0 = member @ e0
        total0 = float(e0.sum())
        # The total's row: total column = sum of every account's change (fees gone).
        total_row = d_e.sum(axis=0)
        total_row[np.abs(total_row) < 1e-12 * np.abs(d_cap.data).max(initial=1.0)] = 0.0
        total_row[self.total_col] = -1.0
        self.total_row = sum(block.shape[0] for block in blocks)
        add(total_row[None, :], 0.0, 0.0)
        # Caps: the venue's holding (fees counted on both sides) at most its absolute cap,
        # and at most its share of the total with fees gone (the lower base, so the true
        # share is never above the row's); each with its excess slack.
        capped = np.flatnonzero(np.isfinite(frame.cap_usd))
        shared = np.flatnonzero(np.array(frame.share_frac) < 1.0)
        share = np.array(frame.share_frac)[shared]
        if len(capped):
            slack = _sparse(
                np.arange(len(capped)), self.ua0 + capped, -1.0, (len(capped), self.n_cols)
            )
            cap = np.array(frame.cap_usd)[capped]
            add(venue_cap[capped] + slack, -np.inf, cap - venue_e0[capped])
        if len(shared):
            m = len(shared)
            extra = _sparse(
                np.repeat(np.arange(m), 2),
                np.column_stack([self.us0 + shared, np.full(m, self.total_col)]).ravel(),
                np.column_stack([-np.ones(m), -share]).ravel(),
                (m, self.n_cols),
            )
            add(venue_cap[shared] + extra, -np.inf, share * total0 - venue_e0[shared])
        self.a = vstack(blocks, format="csr")
        self.lo, self.hi = np.concatenate(lo), np.concatenate(hi)
        self.stage_rows: list[tuple[np.ndarray, float]] = []
        self.warm_routes = np.zeros(0, dtype=np.int64)
        """Routes an earlier relaxation of this model brought in: the next (the fallback's
        next stage) starts with them instead of from none."""

        self.cost = np.zeros(self.n_cols)
        self.cost[:n_r] = cols.cost_x / cols.price + MOVE_COST_FRAC
        self.cost[self.ycols] = cols.cost_y[b]
        self.lower = np.zeros(self.n_cols)
        self.lower[self.total_col] = -np.inf
        self.upper = np.zeros(self.n_cols)
        self.upper[:n_r] = cols.upper_coin * cols.price
        self.upper[self.ycols] = 1.0
        self.upper[self.total_col] = np.inf
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
        start: np.ndarray | None = None,
    ) -> Solved | None:
        """``mode``: "lp" (relaxation), "fixed" (``y`` = ``fixed``), "mip" (stopping at
        ``rel_gap``, at least HiGHS's 1e-4 default here, or at ``abs_gap_usd``) or "sub-mip"
        (the MILP over the routes ``fixed`` marks, every other route closed); None if
        infeasible. ``start``: a plan of the model to start branch and bound from (HiGHS's
        feasibility jump, a search for a first plan, is then skipped)."""
        lower = self.lower
        upper = self.upper + (self.slack_upper if relaxed else 0.0)
        ycols = self.ycols
        options: dict[str, bool | int | float | str] = {"presolve": "on"}
        if mode in {"mip", "sub-mip"}:
            gap = _MIP_REL_GAP if rel_gap is None else max(_MIP_REL_GAP, rel_gap)
            options.update(mip_max_nodes=node_limit, mip_rel_gap=gap)
            if abs_gap_usd is not None:
                options["mip_abs_gap"] = abs_gap_usd
            if start is not None:
                # Feasibility jump only looks for a first plan, and a start is one: at 50
                # venues it was 3-4 ms of every branch and bound over the opened routes, and
                # 17 of the 70 ms of the slowest (it runs again in each of HiGHS's sub-MIPs),
                # and no plan of the bench's or the property tests' snapshots changed (issue 18).
                options["mip_heuristic_run_feasibility_jump"] = False
        if mode in {"fixed", "sub-mip"} and fixed is not None:
            return self._solve_reduced(
                objective, (lower, upper), ycols, fixed, mode=mode, options=options, start=start
            )
        if mode == "lp":
            found = relaxation(self, objective, upper, self.warm_routes)
            if found is not None:
                self.warm_routes = found.routes
                return Solved(found.x, found.bound) if np.isfinite(found.bound) else None
        integrality = np.zeros(self.n_cols)
        if mode == "mip":
            integrality[ycols] = 1
        a, lo, hi = self.rows()
        x = highs.solve(
            objective,
            (lower, upper),
            a,
            (lo, hi),
            integrality=integrality,
            options=options,
            start=start if mode == "mip" else None,
        )
        return None if x is None else Solved(x, float(objective @ x))

    def rows(self) -> tuple[csr_array, np.ndarray, np.ndarray]:
        """The matrix with the stage rows below it, and its row bounds."""
        if not self.stage_rows:
            return self.a, self.lo, self.hi
        weights = np.array([w for w, _ in self.stage_rows])
        limits = np.array([limit for _, limit in self.stage_rows])
        a = vstack([self.a, csr_array(weights)], format="csr")
        lo = np.concatenate([self.lo, np.full(len(limits), -np.inf)])
        return a, lo, np.concatenate([self.hi, limits])

    def _solve_reduced(
        self,
        objective: np.ndarray,
        bounds: tuple[np.ndarray, np.ndarray],
        ycols: np.ndarray,
        pattern: np.ndarray,
        *,
        mode: str,
        options: dict[str, bool | int | float | str],
        start: np.ndarray | None = None,
    ) -> Solved | None:
        """The model over the routes ``pattern`` opens only: a closed route carries nothing
        (its link row says so), so its columns leave the matrix; with ``mode`` "fixed" the
        open routes' ``y`` are the constant 1 and leave it too, their terms moved to the
        row bounds. The same model, a few hundred columns instead of thousands (issue 18).
        The rows left with no column and 0 within their bounds (the closed routes' link
        rows: 8,000 of 8,400 at 50 venues) leave it as well: HiGHS's presolve took 2-3 ms a
        rounding to drop them.
        """
        is_open = pattern > 0.5
        keep = np.ones(self.n_cols, dtype=bool)
        keep[self.binary[~is_open]] = False
        keep[ycols[~is_open]] = False
        y = np.zeros(len(ycols))
        if mode == "fixed":
            keep[ycols] = False
            y[is_open] = 1.0
        rows, lo, hi = self.rows()
        a = rows.tocsc()
        shift = a[:, ycols] @ y
        kept = np.flatnonzero(keep)
        integrality = np.zeros(self.n_cols)
        integrality[ycols] = 1.0
        scale = 1.0
        if mode == "fixed":
            # Scaled to a largest cost of 1 (the same optimum): without the fees' columns the
            # costs left can all be as small as the 1e-7 tie-break, below HiGHS's tolerances.
            scale = max(float(np.abs(objective[kept]).max(initial=0.0)), 1e-300)
        box = (bounds[0][kept], bounds[1][kept])
        part_a = a[:, kept].tocsr()
        lo, hi = lo - shift, hi - shift
        # A row left with no column holds whenever 0 is within its bounds: most of them
        # (the closed routes' link rows) leave too; one that excludes 0 stays for HiGHS.
        live = np.flatnonzero((np.diff(part_a.indptr) > 0) | (lo > 0.0) | (hi < 0.0))
        part = highs.solve(
            objective[kept] / scale,
            box,
            part_a[live],
            (lo[live], hi[live]),
            integrality=integrality[kept],
            options=options,
            start=None if start is None or mode != "sub-mip" else start[kept],
        )
        if part is None:
            return None
        x = np.zeros(self.n_cols)
        x[kept] = part
        x[ycols[~keep[ycols]]] = y[~keep[ycols]]
        return Solved(x, float(objective @ x))
