"""``deltabot backtest --grid FILE.toml``: a sweep over strategies, params, costs, models, seeds.

The grid file (every table optional; a missing axis is the command line's)::

    seeds = [1, 2]                       # default: [--seed]

    [[strategies]]                       # default: the --strategy options
    name = "band"
    params = { width_down = 0.05 }       # fixed params
    grid = { width_up = [0.02, 0.05] }   # one cell per value; several keys: their product

    [[models]]                           # default: the --model options
    model = "gbm"                        # and any of spot, vol, drift, jump_intensity,
    vol = 0.2                            # jump_mean, jump_std, kappa, theta, xi, rho, csv

    [[costs]]                            # default: --fee, --spread, --slippage, --funding
    fee = 0.0005                         # fractions of notional; funding per 8 h
    spread = 0.0002

Cells run on ``--scheduler`` with the same figures on every runner; ``--out
DIR`` stores each finished group as Parquet and ``--resume`` continues a
killed sweep from it. Prints every cell (mean ± standard error), the
cost-vs-risk frontier and the best cell per ``--risk-budget`` (text, or
``--json``); ``--plot`` draws the frontier. Exit 0, 1 when a group failed
(the others are reported), 2 with one line for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.backtest import Book, Costs, StrategySpec
from bot.backtest.sweep import Row, Sweep, SweepModel, group_key, run_sweep
from bot.backtest.sweep_report import sweep_json, sweep_text
from bot.backtest.sweep_store import SweepStore
from bot.commands.backtest import book_of, compute_config, config_book, model_of, specs_of
from bot.commands.common import compute_of
from bot.compute import open_runner
from bot.ops.progress import RunProgress

_PROG = "deltabot backtest"
_TOP_KEYS = frozenset({"seeds", "strategies", "models", "costs"})
_MODEL_KEYS = frozenset(
    {"model", "spot", "vol", "drift", "jump_intensity", "jump_mean", "jump_std", "kappa",
     "theta", "xi", "rho", "csv"}
)  # fmt: skip
_COST_KEYS = ("fee", "spread", "slippage", "funding")
_STRATEGY_KEYS = frozenset({"name", "params", "grid"})


def run_sweep_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the sweep and print its report (0; 1 if a group failed), or one error line (2)."""
    compute = compute_config(args, environ)
    if compute is None:
        return 2
    try:
        scheduler, workers = compute_of(args, compute)
        sweep = load_sweep(args.grid_file, args, config_book(args, environ) or book_of(args))
        settings = _settings(sweep, args)
        if args.resume and args.out is None:
            raise ValueError("--resume needs --out DIR, the sweep's results directory")
        store = None if args.out is None else SweepStore(args.out, settings, resume=args.resume)
        stored = store.done() if store else set()
        with (
            RunProgress(sys.stderr, "sweep", 1.0, after_s=1.0) as shown,
            open_runner(scheduler, workers=workers, announce=shown.note) as runner,
        ):
            outcome = run_sweep(
                sweep,
                paths=args.paths,
                steps=args.steps,
                carry=args.carry,
                rate=args.rate,
                pricing_vol=args.pricing_vol,
                chunk_paths=args.chunk_paths,
                runner=runner,
                skip=stored,
                on_group=store.write if store else None,
                progress=lambda done, total: shown.update(done / total, f"{done}/{total} groups"),
                max_memory_bytes=args.max_memory_gb * 1e9,
            )
        rows: list[Row] = []
        for group in sweep.groups():
            key = group_key(group)
            if key in stored and store is not None:
                rows += store.read(key)
            else:
                rows += outcome.rows.get(key, [])
    except (ValueError, OSError) as exc:  # a bad book, price file or strategy among them
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the runner's block has cancelled the chunks, stopped the cluster
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
    budgets = list(args.risk_budget)
    if args.json:
        print(json.dumps(sweep_json(rows, outcome.failures, budgets, settings), indent=2))
    else:
        print(sweep_text(rows, outcome.failures, budgets))
    if args.plot and rows:
        from bot.backtest.sweep_plot import write_frontier  # noqa: PLC0415 - matplotlib

        try:
            write_frontier(rows, f"{args.paths:,} paths x {args.steps} steps", args.plot)
        except OSError as exc:
            print(f"{_PROG}: error: cannot write {args.plot}: {exc}", file=sys.stderr)
            return 2
        print(f"\nchart: {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 1 if outcome.failures else 0


def load_sweep(path: Path, args: argparse.Namespace, book: Book) -> Sweep:
    """The sweep the grid file describes, its missing axes from the command line; ValueError
    naming the file and the key for anything wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    _only(path, "the grid file", data, _TOP_KEYS)
    seeds = data.get("seeds", [args.seed])
    if not (isinstance(seeds, list) and seeds and all(_is_int(s) and s >= 0 for s in seeds)):
        raise ValueError(f"{path}: seeds: expected a list of integers >= 0, got {seeds!r}")
    entries = [_strategy_entry(path, i, t) for i, t in enumerate(_tables(path, data, "strategies"))]
    specs = specs_of(entries or args.strategy_entries or [])
    models = [_model(path, i, t, args) for i, t in enumerate(_tables(path, data, "models"))]
    costs = [_costs(path, i, t) for i, t in enumerate(_tables(path, data, "costs"))]
    return Sweep(
        book=book,
        strategies=tuple(specs),
        models=tuple(models) or (SweepModel(args.model, model_of(args)),),
        costs=tuple(costs) or (Costs(args.fee or 0.0, args.spread, args.slippage, args.funding),),
        seeds=tuple(seeds),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _only(path: Path, where: str, table: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(
            f"{path}: {where}: unknown key {unknown[0]!r} (expected one of "
            f"{', '.join(sorted(allowed))})"
        )


def _tables(path: Path, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    tables = data.get(key, [])
    if not (isinstance(tables, list) and all(isinstance(t, dict) for t in tables)):
        raise ValueError(f"{path}: {key}: expected [[{key}]] tables")
    return tables


def _strategy_entry(path: Path, i: int, table: dict[str, Any]) -> list[Any]:
    where = f"strategies[{i}]"
    _only(path, where, table, _STRATEGY_KEYS)
    name, params, grid = table.get("name"), table.get("params", {}), table.get("grid", {})
    if not isinstance(name, str) or not name:
        raise ValueError(f'{path}: {where}: name: expected a strategy name, e.g. "band"')
    if not isinstance(params, dict):
        raise ValueError(f"{path}: {where}: params: expected a table of values")
    if not (isinstance(grid, dict) and all(isinstance(v, list) and v for v in grid.values())):
        raise ValueError(f"{path}: {where}: grid: expected a table of non-empty lists")
    return [name, params, grid]


def _model(path: Path, i: int, table: dict[str, Any], args: argparse.Namespace) -> SweepModel:
    where = f"models[{i}]"
    _only(path, where, table, _MODEL_KEYS)
    values = {**table, **({"csv": Path(table["csv"])} if "csv" in table else {})}
    merged = argparse.Namespace(**{**vars(args), **values})
    try:
        model = model_of(merged)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {where}: {exc}") from None
    label = " ".join(
        [str(merged.model), *(f"{k}={table[k]}" for k in sorted(table) if k != "model")]
    )
    return SweepModel(label, model)


def _costs(path: Path, i: int, table: dict[str, Any]) -> Costs:
    where = f"costs[{i}]"
    _only(path, where, table, frozenset(_COST_KEYS))
    try:
        return Costs(*(float(table.get(k, 0.0)) for k in _COST_KEYS))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {where}: {exc}") from None


def _settings(sweep: Sweep, args: argparse.Namespace) -> dict[str, object]:
    """What makes two sweeps the same sweep (the store's manifest, the JSON's header)."""
    return {
        "book": repr(sweep.book),
        "strategies": [_spec_text(s) for s in sweep.strategies],
        "models": [m.label for m in sweep.models],
        "costs": [repr(c) for c in sweep.costs],
        "seeds": list(sweep.seeds),
        "paths": args.paths,
        "steps": args.steps,
        "chunk_paths": args.chunk_paths,
        "rate": args.rate,
        "carry": args.carry,
        "pricing_vol": args.pricing_vol,
    }


def _spec_text(spec: StrategySpec) -> str:
    return f"{spec.name} {json.dumps(dict(spec.params), sort_keys=True)}"
