"""Vectorised backtest: 200,000 GBM paths x 80 re-hedges, and a 4-point grid in parallel."""

from __future__ import annotations

import os
import resource
import time

from bench._util import peak_rss_mib, report
from bot.backtest import GBM, Book, OptionLeg, StrategySpec, run_backtest
from bot.backtest.runner import DEFAULT_CHUNK_PATHS
from bot.compute import open_runner

BOOK = Book((OptionLeg(True, 100.0, 1.0 / 12.0, -1.0),))
MODEL = GBM(100.0, 0.2, 0.05)
BAND = StrategySpec("band", {"width_up": 0.05, "width_down": 0.05})
GRID = [StrategySpec("band", {"width_up": w, "width_down": w}) for w in (0.02, 0.05, 0.1, 0.2)]
TARGET_S = 5.0


def _wall_s(paths: int, specs: list[StrategySpec], workers: int) -> float:
    """Wall time of one run: in this process for one worker, else on a local Dask cluster
    (its start-up included, as a command pays it)."""
    t0 = time.perf_counter()
    with open_runner("serial" if workers == 1 else "local", workers=workers) as runner:
        run_backtest(BOOK, MODEL, specs, paths=paths, steps=80, seed=1, rate=0.05, runner=runner)
    return time.perf_counter() - t0


def run() -> None:
    cores = os.cpu_count() or 1
    report("chunk size", DEFAULT_CHUNK_PATHS, "paths")
    report("workers (os.cpu_count())", cores, "")
    wall = _wall_s(200_000, [BAND], cores)
    report("200,000 paths x 80 steps, band, wall", wall, "s", f"<= {TARGET_S} s", wall <= TARGET_S)
    single = _wall_s(200_000, [BAND], 1)
    report("the same, one worker (in process)", single, "s")
    report("peak RSS, parent", peak_rss_mib(), "MiB")
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    report("peak RSS, largest worker", child, "MiB")
    sequential = _wall_s(40_000, GRID, 1)
    parallel = _wall_s(40_000, GRID, cores)
    report("grid of 4 bands, 40,000 paths x 80, sequential", sequential, "s")
    report(f"grid of 4 bands, 40,000 paths x 80, {cores} workers", parallel, "s")
    report("speed-up, sequential / parallel", sequential / parallel, "x")
