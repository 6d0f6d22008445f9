"""``run_backtest``: split the paths into chunks, run them (in parallel), assemble the totals.

A task is one chunk of paths for one group of strategies. Chunk ``c`` always
draws from ``SeedSequence([seed, c])``, so every strategy and every grid point
sees the same paths (common random numbers: differences between strategies
are not sampling noise), and the result does not depend on the runner or its
worker count. Tasks run on a :mod:`bot.compute` runner (in this process, a
local Dask cluster or a remote one), the book and the model sent to each
worker once; strategies are split into groups only when there are fewer
chunks than workers, since strategies in one task share the book's revaluation.

The memory a run needs is known before it starts (:func:`run_memory_bytes`):
the chunks in flight (:func:`bot.backtest.engine.chunk_memory_bytes`) plus the
result's per-path totals, into which each chunk's are copied as it finishes. A
run beyond ``max_memory_bytes`` is refused with the figure, instead of running
out of memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.backtest.book import Book
from bot.backtest.engine import (
    N_SAMPLES,
    ChunkInputs,
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
    OptionHedgeSpec,
    PathOutcome,
    StrategyResult,
    StrategySpec,
)
from bot.compute import Failed, Runner, SerialRunner
from bot.pricing.arrays import FloatArray

DEFAULT_CHUNK_PATHS = 20_000
GB = 1e9

Progress = Callable[[int, int], None]
"""Called with (tasks done, tasks in all) after each task."""


@dataclass(frozen=True, slots=True)
class BacktestPlan:
    """A checked run cut into chunk tasks, and how to put their outcomes back together.

    Task ``c * n_groups + g`` is chunk ``c`` for strategy group ``g``. The book
    and the model are not held: they are the run's :class:`ChunkInputs`, sent
    to workers once however many plans a sweep runs.
    """

    model_index: int
    strategies: tuple[StrategySpec, ...]
    groups: tuple[tuple[StrategySpec, ...], ...]
    n_chunks: int
    costs: Costs
    carry: Carry
    rate: float
    steps: int
    seed: int
    chunk_paths: int
    dt_years: float
    tasks: tuple[ChunkTask, ...]
    option_hedge: OptionHedgeSpec | None = None

    @property
    def n_paths(self) -> int:
        """Paths in the run: its last task's first path and its paths."""
        last = self.tasks[-1]
        return last.first_path + last.n_paths

    def merge(self, inputs: ChunkInputs, outcomes: Sequence[ChunkOutcome]) -> BacktestResult:
        """The run's result from its tasks' outcomes, given in task order."""
        assembly = Assembly(self)
        for index, outcome in enumerate(outcomes):
            assembly.add(index, outcome)
        return assembly.result(inputs)


class Assembly:
    """A run's result, filled in task by task as the outcomes arrive (in any order).

    Each strategy's totals are one (fields, paths) block from the start, and a
    chunk's are copied into it as that chunk finishes, so the caller can let
    the chunk's own go: keeping every chunk's totals for a merge at the end held
    them twice, and the merge's copy into fresh pages cost 0.1-0.3 s of a 1.2 s
    run of six strategies at 200,000 paths (bench ``backtest``).
    """

    def __init__(self, plan: BacktestPlan) -> None:
        self.plan = plan
        n = plan.n_paths
        self._blocks = [
            [np.empty((len(OUTCOME_FIELDS), n)) for _ in group] for group in plan.groups
        ]
        self._premium = np.empty(n)
        self._option_cost = None if plan.option_hedge is None else np.empty(n)
        self._sample_hedge: list[FloatArray | None] = [None] * len(plan.groups)
        self._sample_spot = self._sample_delta = np.empty((0, 0))
        self._missing = set(range(len(plan.tasks)))

    def add(self, index: int, outcome: ChunkOutcome) -> None:
        """Task ``index``'s outcome into place (the samples kept from each group's first
        chunk)."""
        plan = self.plan
        task = plan.tasks[index]
        g = index % len(plan.groups)
        where = slice(task.first_path, task.first_path + task.n_paths)
        self._missing.discard(index)
        for j, block in enumerate(self._blocks[g]):
            block[:, where] = outcome.totals[:, j]
        if g == 0:
            self._premium[where] = outcome.premium_usd
            if self._option_cost is not None:
                if outcome.option_hedge_cost_usd is None:
                    raise ValueError(f"task {index}: an option-hedged run's outcome has no cost")
                self._option_cost[where] = outcome.option_hedge_cost_usd
        if task.chunk_index == 0:
            self._sample_hedge[g] = outcome.sample_hedge_coin
            if g == 0:
                self._sample_spot = outcome.sample_spot_usd
                self._sample_delta = outcome.sample_delta_coin

    def result(self, inputs: ChunkInputs) -> BacktestResult:
        """The run's result, once every task has been added."""
        plan = self.plan
        if self._missing:
            raise ValueError(
                f"{len(self._missing)} of {len(plan.tasks)} tasks missing from the run "
                f"(the first: task {min(self._missing)})"
            )
        results = []
        for group, blocks, samples in zip(
            plan.groups, self._blocks, self._sample_hedge, strict=True
        ):
            assert samples is not None  # every task added: each group's first chunk too
            results += [
                StrategyResult(spec, PathOutcome(*block), samples[j])
                for j, (spec, block) in enumerate(zip(group, blocks, strict=True))
            ]
        order = {id(spec): i for i, spec in enumerate(plan.strategies)}
        results.sort(key=lambda r: order[id(r.spec)])
        return BacktestResult(
            book=inputs.book,
            costs=plan.costs,
            carry=plan.carry,
            rate=plan.rate,
            steps=plan.steps,
            seed=plan.seed,
            chunk_paths=plan.chunk_paths,
            horizon_years=inputs.book.horizon_years,
            premium_usd=self._premium,
            strategies=tuple(results),
            time_years=np.arange(plan.steps + 1, dtype=np.float64) * plan.dt_years,
            sample_spot_usd=self._sample_spot,
            sample_delta_coin=self._sample_delta,
            model=inputs.models[plan.model_index],
            option_hedge=plan.option_hedge,
            option_hedge_cost_usd=self._option_cost,
        )


def run_backtest(
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
    runner: Runner | None = None,
    progress: Progress | None = None,
    max_memory_bytes: float | None = None,
    option_hedge: OptionHedgeSpec | None = None,
) -> BacktestResult:
    """Hedge ``book`` along ``paths`` paths of ``model`` with each strategy; see the package doc.

    ``steps`` rebalancing intervals span the book's last expiry; ``rate`` (per
    year, continuous) prices the options and, with ``carry = "financed"``,
    accrues on cash. ``pricing_vol`` defaults to the model's own vol (a CSV
    needs one or an ``iv`` column). The chunks run on ``runner`` (default: in
    this process), with the same result on any runner. Raises ValueError (or
    StrategyError, a ValueError) for bad inputs, for a run that would need
    more than ``max_memory_bytes`` (None: no limit), and for a chunk that fails.
    With ``option_hedge`` every path runs the option-hedge loop, proposals
    auto-approved (:class:`~bot.backtest.spec.OptionHedgeSpec`); the same seed
    without it draws the same paths, so the two runs compare path by path.
    """
    runner = runner or SerialRunner()
    plan = plan_backtest(
        book,
        model,
        strategies,
        costs,
        paths=paths,
        steps=steps,
        seed=seed,
        carry=carry,
        rate=rate,
        pricing_vol=pricing_vol,
        chunk_paths=chunk_paths,
        workers=runner.workers,
        max_memory_bytes=max_memory_bytes,
        option_hedge=option_hedge,
    )
    inputs = ChunkInputs(book, (model,))
    assembly = Assembly(plan)
    failures = []
    for n, finished in enumerate(runner.run(simulate_chunk, plan.tasks, shared=inputs), start=1):
        if isinstance(finished, Failed):
            failures.append(f"chunk {plan.tasks[finished.index].chunk_index}: {finished.error}")
        else:
            assembly.add(finished.index, finished.value)
        del finished  # the chunk's totals are in the assembly: let them go before the next
        if progress:
            progress(n, len(plan.tasks))
    if failures:
        raise ValueError(
            f"{len(failures)} of {len(plan.tasks)} tasks failed: " + "; ".join(failures)
        )
    return assembly.result(inputs)


def plan_backtest(  # noqa: C901 - every input's check in one place, before any chunk runs
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
    max_memory_bytes: float | None = None,
    model_index: int = 0,
    option_hedge: OptionHedgeSpec | None = None,
) -> BacktestPlan:
    """:func:`run_backtest`'s inputs checked and cut into tasks for ``workers`` workers.

    ``model_index`` is ``model``'s place in the :class:`ChunkInputs` the tasks
    will run against (a sweep runs several models on one set of inputs).
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
    groups = tuple(tuple(strategies[g::n_groups]) for g in range(n_groups))
    tasks = tuple(
        ChunkTask(
            model_index,
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
            option_hedge,
        )
        for c, first in enumerate(starts)
        for group in groups
    )
    return BacktestPlan(
        model_index, tuple(strategies), groups, len(starts), costs, carry, rate, steps, seed,
        chunk_paths, dt, tasks, option_hedge,
    )  # fmt: skip


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
    strategy group's share of the strategies), the result's per-path totals and premiums
    (each chunk's are copied in as it finishes, then let go), and its time grid and samples."""
    n_chunks = -(-paths // chunk_paths)
    tasks = n_chunks * n_groups
    at_once = 1 if workers == 1 or tasks == 1 else min(workers, tasks)
    in_flight = at_once * chunk_memory_bytes(
        model, min(chunk_paths, paths), steps, -(-n_strategies // n_groups)
    )
    totals = (len(OUTCOME_FIELDS) * n_strategies + 2) * paths
    result = (steps + 1) * (1 + N_SAMPLES * (2 + n_strategies))
    return in_flight + 8 * (totals + result)
