"""A sweep: strategies × params × costs × models × seeds, one table row per cell.

A *group* is one (model, costs, seed): its strategies hedge the same paths
(common random numbers), so it is one :func:`bot.backtest.runner.plan_backtest`
run. A group is one task on the runner: a worker runs its chunks one after the
other (memory stays bounded by the chunk size) and returns the group's rows,
not its per-path totals; the sweep itself (the book and every model) is sent
to each worker once. A group's rows are handed to ``on_group`` as soon as it
finishes, so a caller can store them as it goes (:mod:`bot.backtest.sweep_store`)
and a resumed sweep skips the groups already done (``skip``). A group that
raises is reported with its parameters; the other groups complete.

A row is flat (strings, ints and floats), so the same row comes out of a
fresh run and out of a Parquet file: the figures of :func:`bot.backtest.report.summarize`
with the percentiles and the attribution as columns of their own, the mean
cost's standard error, and the cell's parameters (``params``, ``model`` and
``costs`` as JSON text).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.backtest.book import Book
from bot.backtest.engine import ChunkInputs, ChunkOutcome, simulate_chunk
from bot.backtest.paths import PathModel
from bot.backtest.report import summarize
from bot.backtest.runner import DEFAULT_CHUNK_PATHS, BacktestPlan, Progress, plan_backtest
from bot.backtest.spec import Carry, Costs, StrategySpec
from bot.compute import Failed, Runner

Row = dict[str, str | int | float]
"""One cell's figures and parameters."""


@dataclass(frozen=True, slots=True)
class SweepModel:
    """A price model and how the grid file wrote it (its JSON text names it in rows)."""

    label: str
    model: PathModel


@dataclass(frozen=True, slots=True)
class Sweep:
    """The grid's axes; the cells are their product, in this order."""

    book: Book
    strategies: tuple[StrategySpec, ...]
    models: tuple[SweepModel, ...]
    costs: tuple[Costs, ...]
    seeds: tuple[int, ...]

    def groups(self) -> list[tuple[int, int, int]]:
        """(model, costs, seed) indexes of each group, models outermost."""
        return [
            (m, c, s)
            for m in range(len(self.models))
            for c in range(len(self.costs))
            for s in range(len(self.seeds))
        ]

    def inputs(self) -> ChunkInputs:
        """What every chunk of every group shares: the book and the models."""
        return ChunkInputs(self.book, tuple(m.model for m in self.models))

    @property
    def n_cells(self) -> int:
        return len(self.strategies) * len(self.models) * len(self.costs) * len(self.seeds)


def group_key(group: tuple[int, int, int]) -> str:
    """A group's name in the store: ``m0-c1-s2``."""
    m, c, s = group
    return f"m{m}-c{c}-s{s}"


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """The rows of the groups run now, by group key, and each failed group's message."""

    rows: dict[str, list[Row]]
    failures: dict[str, str]


def run_sweep(
    sweep: Sweep,
    *,
    paths: int,
    steps: int,
    carry: Carry = "financed",
    rate: float = 0.0,
    pricing_vol: float | None = None,
    chunk_paths: int = DEFAULT_CHUNK_PATHS,
    runner: Runner,
    skip: Collection[str] = (),
    on_group: Callable[[str, list[Row]], None] | None = None,
    progress: Progress | None = None,
    max_memory_bytes: float | None = None,
) -> SweepOutcome:
    """Run every group of ``sweep`` not in ``skip`` on ``runner``; see the module doc.

    Raises ValueError for inputs no cell could run with (checked before any chunk runs).
    """
    if not (sweep.strategies and sweep.models and sweep.costs and sweep.seeds):
        raise ValueError("a grid needs at least one strategy, model, cost level and seed")
    plans: dict[str, BacktestPlan] = {}
    todo = [g for g in sweep.groups() if group_key(g) not in skip]
    at_once = max(1, min(runner.workers, len(todo)))
    for m, c, s in todo:
        plans[group_key((m, c, s))] = plan_backtest(
            sweep.book,
            sweep.models[m].model,
            sweep.strategies,
            sweep.costs[c],
            paths=paths,
            steps=steps,
            seed=sweep.seeds[s],
            carry=carry,
            rate=rate,
            pricing_vol=pricing_vol,
            chunk_paths=chunk_paths,
            # A group runs its chunks one after the other on one worker; the workers share
            # the memory, so each group gets its share of the limit.
            max_memory_bytes=None if max_memory_bytes is None else max_memory_bytes / at_once,
            model_index=m,
        )
    items = list(plans.items())
    rows: dict[str, list[Row]] = {}
    failures: dict[str, str] = {}
    for n, finished in enumerate(runner.run(_group_rows, items, shared=sweep), start=1):
        key = items[finished.index][0]
        if isinstance(finished, Failed):
            failures[key] = f"{_describe(sweep, key)}: {finished.error}"
        else:
            rows[key] = finished.value
            if on_group:
                on_group(key, rows[key])
        if progress:
            progress(n, len(items))
    return SweepOutcome(rows, failures)


def _describe(sweep: Sweep, key: str) -> str:
    m, c, s = (int(part[1:]) for part in key.split("-"))
    return (
        f"model {sweep.models[m].label}, costs {_costs_json(sweep.costs[c])}, "
        f"seed {sweep.seeds[s]}, strategies " + ", ".join(spec.display for spec in sweep.strategies)
    )


def _costs_json(costs: Costs) -> str:
    return json.dumps(
        {
            "fee_frac": costs.fee_frac,
            "spread_frac": costs.spread_frac,
            "slippage_frac": costs.slippage_frac,
            "funding_per_8h": costs.funding_per_8h,
        },
        sort_keys=True,
    )


def _group_rows(sweep: Sweep, item: tuple[str, BacktestPlan]) -> list[Row]:
    """One group's chunks, one after the other, and its rows (a runner's task): a worker
    returns a group's figures, not its per-path totals."""
    key, plan = item
    inputs = sweep.inputs()
    return group_rows(sweep, key, plan, [simulate_chunk(inputs, t) for t in plan.tasks])


def group_rows(
    sweep: Sweep, key: str, plan: BacktestPlan, outcomes: Sequence[ChunkOutcome]
) -> list[Row]:
    """One row per strategy of a finished group, in the sweep's strategy order."""
    m, c, s = (int(part[1:]) for part in key.split("-"))
    result = plan.merge(sweep.inputs(), outcomes)
    out = []
    for j, strategy in enumerate(result.strategies):
        row: Row = {
            "group": key,
            "strategy_index": j,
            "model": sweep.models[m].label,
            "costs": _costs_json(sweep.costs[c]),
            "seed": sweep.seeds[s],
            "name": strategy.spec.name,
            "params": json.dumps(dict(strategy.spec.params), sort_keys=True),
        }
        row.update(_flat(summarize(result, strategy)))
        cost = strategy.paths.cost_usd
        row["costs_usd_mean_se"] = float(np.std(cost) / math.sqrt(cost.size))
        out.append(row)
    return out


def _flat(summary: Mapping[str, object]) -> Row:
    row: Row = {}
    for name, value in summary.items():
        if isinstance(value, dict):
            prefix = "attribution_" if name == "attribution_usd_mean" else ""
            suffix = "_usd_mean" if prefix else "_usd"
            row.update({f"{prefix}{k}{suffix}": float(v) for k, v in value.items()})
        elif isinstance(value, str | int | float):
            row[name] = value
    return row
