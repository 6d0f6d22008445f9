"""Each built-in strategy kernel on 200,000 books (one HedgeState call)."""

from __future__ import annotations

from functools import partial

import numpy as np

from bench._util import report, times
from strategies.base import HedgeState
from strategies.registry import BUILTINS, load_strategy

N = 200_000
PARAMS: dict[str, dict[str, object]] = {
    "interval": {"interval_s": 3600.0},
    "band": {"width_up": 0.05, "width_down": 0.05},
    "whalley_wilmott": {"risk_aversion": 1.0},
    "zakamouline": {"risk_aversion": 1.0},
}


def _state(rng: np.random.Generator) -> HedgeState:
    return HedgeState.from_arrays(
        spot_usd=rng.uniform(90.0, 110.0, N),
        net_delta_coin=rng.uniform(-1.0, 0.0, N),
        gamma_coin_per_usd=-rng.uniform(0.0, 0.1, N),
        vanna_coin_per_vol=rng.normal(0.0, 0.1, N),
        hedge_coin=rng.uniform(0.0, 1.0, N),
        sigma=rng.uniform(0.1, 1.0, N),
        tau_years=rng.uniform(0.01, 0.5, N),
        rate=0.05,
        cost_frac=5e-4,
        time_since_hedge_s=rng.uniform(0.0, 7200.0, N),
    )


def run() -> None:
    state = _state(np.random.default_rng(0))
    for name in BUILTINS:
        kernel = load_strategy(name, PARAMS[name])
        ms = 1e3 * float(np.median(times(partial(kernel.target_hedge, state))))
        report(f"{name} on {N:,} books", ms, "ms/call")
