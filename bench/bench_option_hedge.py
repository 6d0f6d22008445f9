"""Option-hedge proposal: a 500-option whitelist per expiry x 4 expiries (2,000 candidates),
vega breaching in two buckets and gamma on the whole book; the same whitelist of 500 in all.

The baseline, timed in the same process, is the program's LP relaxation (no lots, no
minimums): the ratio is what whole lots and venue minimums cost the solver.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.optimize import linprog

from bench._util import report, times
from bot.domain.option_hedge import Candidates, Figure, Row, contributions, propose
from tests.option_hedge_books import BTC, F, candidates

TARGET_MS = 100.0
EXPIRIES = {7.0: "0-7d", 14.0: "7-30d", 30.0: "7-30d", 60.0: "30-90d"}


def whitelist(per_expiry: int, seed: int) -> Candidates:
    """Calls and puts over strikes 0.6F..1.6F at each expiry, costs and caps varied."""
    rng = np.random.default_rng(seed)
    days = np.repeat(list(EXPIRIES), per_expiry)
    strikes = F * rng.uniform(0.6, 1.6, days.size)
    c = candidates(
        days=days.tolist(),
        strikes=strikes.tolist(),
        buckets=[EXPIRIES[d] for d in days],
        calls=(strikes >= F).tolist(),
    )
    return Candidates(
        **{
            **{k: getattr(c, k) for k in c.__dataclass_fields__},
            "cost_usd": rng.uniform(5.0, 80.0, days.size),
            "max_buy_coin": rng.uniform(0.0, 40.0, days.size),
            "max_sell_coin": rng.uniform(0.0, 40.0, days.size),
        }
    )


ROWS = (
    Row(BTC, "0-7d", Figure.VEGA, -3_000.0, 1_000.0, True),
    Row(BTC, "7-30d", Figure.VEGA, -4_500.0, 1_500.0, True),
    Row(BTC, "30-90d", Figure.VEGA, 800.0, 1_500.0, False),
    Row(BTC, "all", Figure.VEGA, -6_700.0, 3_000.0, True),
    Row(BTC, "all", Figure.GAMMA, -90_000.0, 60_000.0, True),
)


def relaxation(c: Candidates) -> None:
    """The same program as continuous trades (the baseline)."""
    g = contributions(c, ROWS)
    before = np.array([r.before for r in ROWS])
    bound = np.array([r.bound for r in ROWS])
    res = linprog(
        np.concatenate([c.cost_usd, c.cost_usd]),
        A_ub=np.vstack([np.hstack([g, -g]), -np.hstack([g, -g])]),
        b_ub=np.concatenate([bound - before, bound + before]),
        bounds=list(
            zip(
                np.zeros(2 * len(c)), np.concatenate([c.max_buy_coin, c.max_sell_coin]), strict=True
            )
        ),
        method="highs",
    )
    assert res.status == 0, res.message


def run() -> None:
    for per_expiry, label in ((500, "500 per expiry x 4 (2,000)"), (125, "500 in all (125 x 4)")):
        sets = [whitelist(per_expiry, seed) for seed in range(3)]
        feasible = sum(propose(c, ROWS).feasible for c in sets)
        t_ms = np.concatenate([times(partial(propose, c, ROWS), repeat=5) for c in sets]) * 1e3
        base_ms = np.concatenate([times(partial(relaxation, c), repeat=5) for c in sets]) * 1e3
        median, base = float(np.median(t_ms)), float(np.median(base_ms))
        report(f"proposal {label}, median", median, "ms", "< 100 ms", median < TARGET_MS)
        report(f"  p90 ({feasible}/{len(sets)} feasible)", float(np.percentile(t_ms, 90)), "ms")
        report("  LP relaxation (baseline), median", base, "ms")
        report("  ratio proposal / relaxation", median / base, "x")
