"""``run_backtest``: split the paths into chunks, run them (in parallel), merge the totals.

A task is one chunk of paths for one group of strategies. Chunk ``c`` always
draws from ``SeedSequence([seed, c])``, so every strategy and every grid point
sees the same paths (common random numbers: differences between strategies
are not sampling noise), and the result does not depend on the worker count.
Tasks run in a ``ProcessPoolExecutor`` with at most ``os.cpu_count()``
workers; strategies are split into groups only when there are fewer chunks
than workers, since strategies in one task share the book's revaluation.

The memory a run needs is known before it starts (:func:`run_memory_bytes`):
the chunks in flight (:func:`bot.backtest.engine.chunk_memory_bytes`) plus the
per-path totals kept for the report. A run beyond ``max_memory_bytes`` is
refused with the figure, instead of running out of memory.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from bot.backtest.book import Book
from bot.backtest.engine import (
    N_SAMPLES,
    ChunkOutcome,
    ChunkTask,
    chunk_memory_bytes,
    simulate_chunk,
)
from bot.backtest.paths import PathModel
from bot.backtest.spec import (
    OUTCOME_FIELDS,
    BacktestResult,
    Carry,
    Costs,
    PathOutcome,
    StrategyResult,
    StrategySpec,
)
from bot.ops.threads import bound_native_threads

DEFAULT_CHUNK_PATHS = 20_000
GB = 1e9

Progress = Callable[[int, int], None]
"""Called with (tasks done, tasks in all) after each task."""


def run_backtest(  # noqa: C901 - chunks, workers and strategies in one place, so a chunk's seed and order are plain to see
    book: Book,
    model: PathModel,
    strategies: Sequence[StrategySpec],
    costs: Costs | None = None,
    *,
    paths: int,
    steps: int,
    seed: int,
    carry: Carry = "financed",
    rate: float = 0.0,
    pricing_vol: float | None = None,
    chunk_paths: int = DEFAULT_CHUNK_PATHS,
    workers: int = 1,
    progress: Progress | None = None,
    max_memory_bytes: float | None = None,
) -> BacktestResult:
    """Hedge ``book`` along ``paths`` paths of ``model`` with each strategy; see the package doc.

    ``steps`` rebalancing intervals span the book's last expiry; ``rate`` (per
    year, continuous) prices the options and, with ``carry = "financed"``,
    accrues on cash. ``pricing_vol`` defaults to the model's own vol (a CSV
    needs one or an ``iv`` column). ``workers`` > 1 runs chunks in processes.
    Raises ValueError (or StrategyError, a ValueError) for bad inputs, and for a
    run that would need more than ``max_memory_bytes`` (None: no limit).
    """
    costs = costs or Costs()
    if not strategies:
        raise ValueError("give at least one strategy")
    for spec in strategies:
        spec.build()  # fail here, with the strategy's own message, not inside a worker
    if paths < 1 or steps < 1 or chunk_paths < 1 or workers < 1:
        raise ValueError("paths, steps, chunk_paths and workers must be >= 1")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if max_memory_bytes is not None and not max_memory_bytes > 0:
        raise ValueError(f"the memory limit must be > 0, got {max_memory_bytes / GB:g} GB")
    if carry not in ("financed", "none"):
        raise ValueError(f"carry must be 'financed' or 'none', got {carry!r}")
    if not math.isfinite(rate):
        raise ValueError(f"rate must be finite, got {rate}")
    vol = pricing_vol if pricing_vol is not None else model.natural_vol
    if vol is not None and not (math.isfinite(vol) and vol > 0):
        raise ValueError(f"pricing vol must be > 0, got {vol}")
    horizon = book.horizon_years
    dt = horizon / steps
    available = model.available_paths(steps, dt)
    if available is not None:
        if available == 0:
            raise ValueError(f"the price history is shorter than the horizon ({horizon} years)")
        paths = min(paths, available)

    starts = range(0, paths, chunk_paths)
    workers = min(workers, os.cpu_count() or 1)
    n_groups = max(1, min(len(strategies), math.ceil(workers / len(starts))))
    need = run_memory_bytes(
        model,
        paths=paths,
        steps=steps,
        chunk_paths=chunk_paths,
        n_strategies=len(strategies),
        n_groups=n_groups,
        workers=workers,
    )
    if max_memory_bytes is not None and need > max_memory_bytes:
        raise ValueError(
            f"this run needs about {need / GB:,.1f} GB of memory ({paths:,} paths of "
            f"{steps + 1:,} prices, in chunks of {min(chunk_paths, paths):,}, "
            f"{len(strategies)} strateg{'y' if len(strategies) == 1 else 'ies'}), more than "
            f"the {max_memory_bytes / GB:,.1f} GB allowed: fewer paths or steps, smaller "
            "chunks or fewer workers need less"
        )
    groups = [tuple(strategies[g::n_groups]) for g in range(n_groups)]
    tasks = [
        ChunkTask(
            book,
            model,
            group,
            costs,
            carry,
            rate,
            vol,
            steps,
            dt,
            seed,
            c,
            first,
            min(chunk_paths, paths - first),
            N_SAMPLES if c == 0 else 0,
        )
        for c, first in enumerate(starts)
        for group in groups
    ]
    outcomes = _run_tasks(tasks, workers, progress)

    def merged(g: int, j: int) -> PathOutcome:
        parts = [outcomes[c * n_groups + g].outcome(j) for c in range(len(starts))]
        return PathOutcome(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in OUTCOME_FIELDS)
        )

    first = [outcomes[g] for g in range(n_groups)]
    results = [
        StrategyResult(spec, merged(g, j), first[g].sample_hedge_coin[j])
        for g, group in enumerate(groups)
        for j, spec in enumerate(group)
    ]
    order = {id(spec): i for i, spec in enumerate(strategies)}
    results.sort(key=lambda r: order[id(r.spec)])
    return BacktestResult(
        book=book,
        costs=costs,
        carry=carry,
        rate=rate,
        steps=steps,
        seed=seed,
        chunk_paths=chunk_paths,
        horizon_years=horizon,
        premium_usd=np.concatenate(
            [outcomes[c * n_groups].premium_usd for c in range(len(starts))]
        ),
        strategies=tuple(results),
        time_years=np.arange(steps + 1, dtype=np.float64) * dt,
        sample_spot_usd=first[0].sample_spot_usd,
        sample_delta_coin=first[0].sample_delta_coin,
        model=model,
    )


def run_memory_bytes(
    model: PathModel,
    *,
    paths: int,
    steps: int,
    chunk_paths: int,
    n_strategies: int,
    n_groups: int,
    workers: int,
) -> int:
    """Bytes a run needs at its peak: the chunks in flight at once (one per worker, each
    strategy group's share of the strategies), the per-path totals of every chunk and their
    merge for the result, and the result's time grid and samples."""
    n_chunks = -(-paths // chunk_paths)
    tasks = n_chunks * n_groups
    at_once = 1 if workers == 1 or tasks == 1 else min(workers, tasks)
    in_flight = at_once * chunk_memory_bytes(
        model, min(chunk_paths, paths), steps, -(-n_strategies // n_groups)
    )
    totals = 2 * len(OUTCOME_FIELDS) * n_strategies * paths + (n_groups + 1) * paths
    result = (steps + 1) * (1 + N_SAMPLES * (2 + n_strategies))
    return in_flight + 8 * (totals + result)


def _run_tasks(
    tasks: list[ChunkTask], workers: int, progress: Progress | None
) -> list[ChunkOutcome]:
    """Outcomes in task order; in this process when one worker (or one task) suffices."""
    done: list[ChunkOutcome] = []
    if workers == 1 or len(tasks) == 1:
        for task in tasks:
            done.append(simulate_chunk(task))
            if progress:
                progress(len(done), len(tasks))
        return done
    # One native (BLAS/OpenMP) thread per worker: the workers already fill the cores.
    with ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), initializer=bound_native_threads, initargs=(1,)
    ) as pool:
        futures = [pool.submit(simulate_chunk, task) for task in tasks]
        for i, future in enumerate(futures, start=1):
            done.append(future.result())
            if progress:
                progress(i, len(tasks))
    return done
