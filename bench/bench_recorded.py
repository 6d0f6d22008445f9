"""Backtest of a real book over a recorded store: a 30-day, 5-minute BTC chain of 800 options.

The store is generated locally (``bot.chain`` Parquet, 8,640 snapshots x 800
options, and the perpetual's quotes); the run is ``load_market`` (find the
book's 5 legs among the 6.9M option rows, as of each snapshot) plus
``run_chain_backtest`` with two strategies. The baseline, timed in the same
process, is reading the same option rows from the store and nothing else.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench._util import report
from bot.backtest.chain_data import ChainLeg, HedgeSource, load_market
from bot.backtest.chain_run import ChainCosts, run_chain_backtest
from bot.backtest.spec import StrategySpec
from bot.chain import ChainStore, Partition
from bot.chain.schema import column_names
from bot.domain.timeunits import MS_PER_DAY, MS_PER_MINUTE

DAYS = 30
CADENCE_MS = 5 * MS_PER_MINUTE
OPTIONS = 800
START_MS = 1_796_112_000_000
EXPIRIES_MS = [START_MS + d * MS_PER_DAY for d in (40, 70, 100, 130)]
STRIKES = np.linspace(30_000.0, 90_000.0, OPTIONS // (2 * len(EXPIRIES_MS)))
TARGET_S = 10.0


def _write_store(root: Path) -> ChainStore:
    store = ChainStore(root)
    rng = np.random.default_rng(3)
    per_day = MS_PER_DAY // CADENCE_MS
    spot = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 0.6 * np.sqrt(5 / 525_600), DAYS * per_day)))
    grid = np.array(
        [(e, k, c) for e in EXPIRIES_MS for k in STRIKES for c in ("call", "put")], dtype=object
    )
    for day in range(DAYS):
        times = START_MS + (day * per_day + np.arange(per_day)) * CADENCE_MS
        s = np.repeat(spot[day * per_day : (day + 1) * per_day], len(grid))
        n = s.size
        columns: dict[str, object] = {name: np.full(n, np.nan) for name in column_names("options")}
        columns |= {
            "ts_ms": np.repeat(times, len(grid)),
            "instrument": np.tile([f"BTC-{e}-{k:.0f}-{c[0].upper()}" for e, k, c in grid], per_day),
            "expiry_ms": np.tile(grid[:, 0].astype(np.int64), per_day),
            "strike_usd": np.tile(grid[:, 1].astype(float), per_day),
            "option_type": np.tile(grid[:, 2].astype(str), per_day),
            "premium_unit": np.full(n, "coin"),
            "mark_premium": rng.uniform(0.001, 0.2, n),
            "mark_iv": rng.uniform(0.5, 0.7, n),
            "index_usd": s,
            "forward_name": np.full(n, ""),
            "forward_usd": s,
        }
        store.write("options", "deribit", "BTC", pa.table(columns), tag="bench")
        hedges: dict[str, object] = {
            name: np.full(per_day, np.nan) for name in column_names("hedges")
        }
        day_spot = spot[day * per_day : (day + 1) * per_day]
        hedges |= {
            "ts_ms": times,
            "instrument": np.full(per_day, "BTC-PERPETUAL"),
            "mark_usd": day_spot,
            "index_usd": day_spot,
            "bid_usd": day_spot - 0.5,
            "ask_usd": day_spot + 0.5,
            "funding_rate": np.full(per_day, 0.0001),
        }
        store.write("hedges", "deribit", "BTC", pa.table(hedges), tag="bench")
    return store


def run() -> None:
    legs = [
        ChainLeg("deribit", "BTC", c, float(STRIKES[i]), EXPIRIES_MS[j], q)
        for c, i, j, q in (
            ("call", 10, 0, -5.0),
            ("put", 5, 0, 3.0),
            ("call", 12, 1, -2.0),
            ("put", 8, 2, 1.0),
            ("call", 14, 3, -1.0),
        )
    ]
    hedge = HedgeSource("BTC", "deribit", "BTC-PERPETUAL")
    specs = [
        StrategySpec("band", {"width_up": 0.1, "width_down": 0.1}),
        StrategySpec("interval", {"interval_s": 3600.0}),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = _write_store(Path(tmp))
        t0 = time.perf_counter()
        rows = sum(t.num_rows for t in store.read("options", Partition("deribit", "BTC")))
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        market = load_market(store, legs, [hedge], mark="mark")
        run_chain_backtest(legs, market, specs, ChainCosts())
        wall = time.perf_counter() - t0
    snapshots = market.time_ms.size
    report(
        f"30 days x 5 min ({snapshots:,} snapshots x {OPTIONS} options), 2 strategies",
        wall,
        "s",
        f"< {TARGET_S} s",
        wall < TARGET_S,
    )
    report("snapshots x instruments per second", snapshots * OPTIONS / wall, "/s")
    report(f"baseline: read the {rows:,} option rows alone", read_s, "s")
    report("backtest / bare read, time ratio", wall / read_s, "x")
