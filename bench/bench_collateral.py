"""Collateral optimizer: 10 and 50 venues x 4 assets, every venue pair whitelisted both ways.

Targets (issue 18): median < 50 ms at 10 venues; p99 <= 100 ms at 50 venues on
feasible snapshots and <= 1 s when floors are unreachable, each over 40 random
snapshots timed once (a p99 over five seeds had hidden plans of 10-130 s: 7 of 40
feasible snapshots ran branch and bound over every route). Each plan's optimality
gap (its cost above the LP bound) is printed beside the allowance it was taken at.
Baselines timed in this process: the LP relaxation by column generation against
HiGHS on the whole matrix, and the rounding stage over the opened routes against
the whole matrix. Plans are timed with the heap frozen, as the collateral job runs
them.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from bench._util import report, times
from bot.domain import highs
from bot.domain.collateral import (
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    MarginBand,
    PlanStatus,
    Route,
    TrustSettings,
    optimize,
)
from bot.domain.collateral.columns import relaxation
from bot.domain.collateral.frame import build_frame
from bot.domain.collateral.lp import LpModel
from bot.domain.collateral.model import DEFAULT_SETTINGS
from bot.domain.ids import Currency, VenueId
from bot.domain.timeunits import MS_PER_DAY
from bot.ops.heap import frozen_heap

TARGET_MS = 50.0
SEEDS_50 = 40
"""Random snapshots per case at 50 venues: the p99 of fewer is their maximum."""
T0_MS = 1_700_000_000_000
PRICES_USD = {"BTC": 60_000.0, "ETH": 3_000.0, "USDC": 1.0, "USDT": 1.0}
FEES_COIN = {"BTC": 0.0002, "ETH": 0.002, "USDC": 1.0, "USDT": 1.0}
MINS_COIN = {"BTC": 0.001, "ETH": 0.01, "USDC": 10.0, "USDT": 10.0}


def scenario(n_venues: int, seed: int, *, starved: bool = False) -> CollateralSnapshot:
    """``n_venues`` venues (one account each) holding 4 assets; some below floor, some above
    ceiling, trust scores and caps varied. ``starved`` drains the donors so floors fail."""
    rng = np.random.default_rng(seed)
    band = MarginBand(floor=1.5, target=2.5, ceiling=4.0)
    accounts, trust, routes = [], {}, []
    for v in range(n_venues):
        key = AccountKey(VenueId(f"venue-{v:02d}"), "main")
        mm = float(rng.uniform(0.5e6, 3e6))
        ratio = float(rng.choice([1.1, 1.3, 2.0, 3.0, 5.0, 8.0]))
        equity = ratio * mm
        spare_frac = 0.02 if starved else 0.6
        weights = rng.dirichlet(np.ones(4))
        free = {
            Currency(a): spare_frac * equity * w / PRICES_USD[a]
            for a, w in zip(PRICES_USD, weights, strict=True)
        }
        accounts.append(
            AccountCollateral(
                key,
                equity,
                1.3 * mm,
                mm,
                band,
                free,
                idle_cost_frac_per_year={Currency("USDC"): 0.05, Currency("USDT"): 0.05},
            )
        )
        trust[key.venue] = TrustSettings(
            score=float(rng.uniform(0.5, 1.0)),
            max_share_frac=0.4,
            max_collateral_usd=40e6,
            attestation_ts_ms=T0_MS - int(rng.integers(1, 90)) * MS_PER_DAY,
            max_attestation_age_ms=60 * MS_PER_DAY,
        )
    for src in accounts:
        for dst in accounts:
            if src.account.venue == dst.account.venue:
                continue
            for a in PRICES_USD:
                routes.append(
                    Route(
                        src.account,
                        dst.account,
                        Currency(a),
                        fee_coin=FEES_COIN[a],
                        min_coin=MINS_COIN[a],
                        delay_ms=1_800_000,
                        address=f"addr-{dst.account.venue}-{a}",
                    )
                )
    prices = {Currency(a): p for a, p in PRICES_USD.items()}
    return CollateralSnapshot(T0_MS, prices, tuple(accounts), trust, tuple(routes))


def _section(n_venues: int, seeds: int, repeat: int, *, starved_seeds: int) -> None:
    for label, starved in (("feasible", False), ("floors unreachable", True)):
        count = starved_seeds if starved else seeds
        snaps = [scenario(n_venues, seed, starved=starved) for seed in range(count)]
        rounds = 1 if starved and n_venues > 10 else repeat
        optimize(snaps[0])  # warm-up: scipy's and HiGHS's first call
        results, t_ms = [], []
        for snap in snaps:  # each plan timed as it is made
            for _ in range(rounds):
                t0 = time.perf_counter()
                with frozen_heap():  # as the daemon's collateral job runs it
                    result = optimize(snap)
                t_ms.append((time.perf_counter() - t0) * 1e3)
            results.append(result)
        statuses = sorted({r.status.value for r in results})
        median, p99 = float(np.median(t_ms)), float(np.percentile(t_ms, 99))
        what = f"optimizer {n_venues} venues x 4 assets, {label}"
        if n_venues == 10:
            # The target is for the usual case; the fallback (lexicographic stages) as is.
            ok, target = (None, "") if starved else (median < TARGET_MS, "< 50 ms")
            report(f"{what}, median", median, "ms", target, ok)
        else:
            report(f"{what}, median", median, "ms")
            limit = 1_000.0 if starved else 100.0
            report(f"  p99 ({', '.join(statuses)})", p99, "ms", f"<= {limit:,.0f} ms", p99 <= limit)
        report("  p90", float(np.percentile(t_ms, 90)), "ms")
        worst = max(results, key=lambda r: r.gap_usd)
        report("  largest optimality gap reported in a plan", worst.gap_usd, "USD")
        if not starved:
            assert all(r.status is not PlanStatus.FLOOR_UNREACHABLE for r in results)


def _fixed_stage(n_venues: int, seed: int) -> None:
    """The rounding stage (every y fixed to the routes the LP used) solved over the opened
    routes only, against the whole matrix with y fixed by its bounds (the former way), in
    this process; both must reach the same cost."""
    lp = LpModel(build_frame(scenario(n_venues, seed), DEFAULT_SETTINGS))
    bound = lp.solve(lp.cost, relaxed=False, mode="lp")
    assert bound is not None
    pattern = lp.used(bound.x)
    ycols = lp.ycols
    lower, upper = lp.lower.copy(), lp.upper.copy()
    lower[ycols] = upper[ycols] = pattern

    def whole() -> float:
        rows = LinearConstraint(lp.a, lp.lo, lp.hi)
        res = milp(lp.cost, bounds=Bounds(lower, upper), constraints=[rows])
        return float(res.fun)

    def reduced() -> float:
        solved = lp.solve(lp.cost, relaxed=False, mode="fixed", fixed=pattern)
        assert solved is not None
        return solved.objective

    t_whole = float(np.median(times(whole, repeat=5)))
    t_reduced = float(np.median(times(reduced, repeat=5)))
    assert abs(whole() - reduced()) <= 1e-6 * max(1.0, abs(whole()))
    what = f"rounding stage, {n_venues} venues, opened routes only"
    report(f"{what} (whole matrix {t_whole * 1e3:.1f} ms)", t_reduced * 1e3, "ms")
    report("  speed-up over the whole matrix", t_whole / t_reduced, "x")


def _relaxation_stage(n_venues: int, seed: int) -> None:
    """The LP relaxation by column generation (routes brought in as they price out) against
    HiGHS on the whole matrix, in this process; both must reach the same bound."""
    lp = LpModel(build_frame(scenario(n_venues, seed), DEFAULT_SETTINGS))

    def whole() -> float:
        x = highs.solve(
            lp.cost,
            (lp.lower, lp.upper),
            lp.a,
            (lp.lo, lp.hi),
            integrality=np.zeros(lp.n_cols),
            options={"presolve": "on"},
        )
        assert x is not None
        return float(lp.cost @ x)

    brought: list[int] = []

    def generated() -> float:
        # From no route, as a plan's first relaxation.
        found = relaxation(lp, lp.cost, lp.upper, np.zeros(0, dtype=np.int64))
        assert found is not None
        brought.append(len(found.routes))
        return found.bound

    t_whole = float(np.median(times(whole, repeat=5)))
    t_generated = float(np.median(times(generated, repeat=5)))
    gap = whole() - generated()
    assert (
        -1e-6 * abs(whole())
        <= gap
        <= 1e-7 * float(lp.upper[: lp.n_routes].sum()) + 1e-6 * abs(whole())
    )
    what = f"LP relaxation, {n_venues} venues, by column generation"
    report(f"{what} (whole matrix {t_whole * 1e3:.1f} ms)", t_generated * 1e3, "ms")
    report("  speed-up over the whole matrix", t_whole / t_generated, "x")
    report(f"  routes brought in (of the frame's {lp.n_routes:,})", brought[-1], "routes")
    report("  bound below the whole matrix's optimum (duals' round-off)", gap, "USD")


def run() -> None:
    _relaxation_stage(50, seed=0)
    _fixed_stage(50, seed=0)
    _section(10, seeds=5, repeat=5, starved_seeds=5)
    # Unreachable floors at 50 venues take seconds a plan (issue 18): three, timed once.
    _section(50, seeds=SEEDS_50, repeat=1, starved_seeds=SEEDS_50)
