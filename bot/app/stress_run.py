"""``deltabot stress``'s run: the ``[sim]`` book across venues, a price × vol grid and scenarios.

The book is the config's ``[[sim.book]]`` marked at ``sim.start`` (the table
``deltabot value`` values); each venue's equity is its ``[[sim.balances]]``
cash plus the marks of its options, as a venue reports equity. The daemon runs
a lighter pass on live snapshots (:func:`bot.domain.stress.light_pass`).
Settings come from a ``[stress]`` table in a file when given, else the
config's. :mod:`bot.app.stress_report` prints the result.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from bot.app.breach_run import BreachInputs, breach_on
from bot.app.sim_book import book_table, venue_equity
from bot.compute import Failed, Runner, SerialRunner
from bot.config import Config, VenueRole
from bot.config.stress import StressConfig, margin_setup
from bot.domain.margin import JumpDiffusion
from bot.domain.position_table import PositionTable
from bot.domain.stress import (
    ScenarioResult,
    StressGrid,
    StressInputs,
    book_liquidation_distance,
    cascade,
    crash,
    custom,
    grid_of,
    join_columns,
    prepare,
    venue_default,
    withdrawal_freeze,
)
from bot.domain.timeunits import iso_utc
from bot.pricing.arrays import FloatArray

GRID_CHUNKS_PER_WORKER = 2
"""Vol-shift column chunks of the grid per worker: enough to even out the workers' load."""
SUMMARY_MOVES = (-0.5, -0.2, -0.1, 0.1, 0.2, 0.5)
"""Price moves the report shows at vol unchanged, whatever the grid's points."""


@dataclass(frozen=True, slots=True)
class BreachFigures:
    """Per venue: liquidation distances (fractions; inf: none) and P(breach within horizon).

    The model is a diffusion at the most volatile ``[[sim.underlyings]]`` vol (a
    stress run has no return history to calibrate jumps on): every underlying
    moves together, as on the grid's price axis.
    """

    venues: tuple[str, ...]
    down_frac: FloatArray
    up_frac: FloatArray
    probability: FloatArray
    horizon_s: float
    n_paths: int
    sigma_frac: float


@dataclass(frozen=True, slots=True)
class StressReport:
    """Everything the command prints: the grid, a vol-unchanged sweep, the scenarios and the
    breach probabilities."""

    start: str
    book: StressInputs
    grid: StressGrid
    sweep: StressGrid
    scenarios: tuple[ScenarioResult, ...]
    breach: BreachFigures


def stress_settings(config: Config, scenarios: Path | None) -> StressConfig:
    """The [stress] table of the ``scenarios`` file if given, else the config's [stress].

    Raises ValueError saying what is wrong with the file.
    """
    if scenarios is None:
        return config.stress
    try:
        data = tomllib.loads(scenarios.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {scenarios}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{scenarios}: not valid TOML: {exc}") from None
    try:
        return StressConfig.model_validate(data.get("stress", {}))
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in ("stress", *e["loc"]))
            + ": "
            + str(e.get("ctx", {}).get("message", e["msg"]))
            for e in exc.errors(include_url=False)
        )
        raise ValueError(f"{scenarios}: {problems}") from None


def build_report(
    config: Config, stress: StressConfig, runner: Runner | None = None
) -> StressReport:
    """Stress the ``[sim]`` book; ValueError says what in the inputs is wrong.

    The grid (in chunks of vol-shift columns) and each scenario are tasks on
    ``runner`` (default: this process), the prepared book sent to each worker
    once; the report is the same on every runner.
    """
    runner = runner or SerialRunner()
    table, book = stress_book(config, stress)
    sim = config.sim
    assert sim is not None  # stress_book has checked it
    moves = stress.price_moves()
    shifts = np.asarray(stress.vol_shifts(), dtype=np.float64)
    n_parts = max(1, min(shifts.size, GRID_CHUNKS_PER_WORKER * runner.workers))
    jobs: list[Job] = [
        partial(grid_of, price_moves_frac=moves, vol_shifts=part, vol_relative=stress.vol_relative)
        for part in np.array_split(shifts, n_parts)
    ]
    vols = [u.vol for u in sim.underlyings]
    venues = book.venues
    hedges = stress.cascade_hedge_venues or _hedge_venues(config, venues)
    jobs.append(partial(crash, move_frac=stress.crash_move_frac, vol_mult=stress.crash_vol_mult))
    jobs += [
        partial(venue_default, venue=v, then_move_frac=stress.default_then_move_frac)
        for v in stress.default_venues or venues
    ]
    jobs += [
        partial(
            withdrawal_freeze,
            venue=v,
            days=stress.freeze_days,
            sigmas=stress.freeze_sigmas,
            annual_vol_frac=vols,
        )
        for v in stress.freeze_venues or venues
    ]
    jobs += [
        partial(
            cascade, hedge_venue=h, move_frac=m, further_move_frac=stress.cascade_further_move_frac
        )
        for h in hedges
        for m in stress.cascade_moves_frac
    ]
    jobs += [partial(custom, spec=s.scenario(book.underlyings)) for s in stress.scenarios]
    done: list[object] = [None] * len(jobs)
    for finished in runner.run(_apply, jobs, shared=book):
        if isinstance(finished, Failed):
            if finished.kind == "ValueError":  # bad input: its own message names it
                raise ValueError(finished.message)
            job = jobs[finished.index]
            raise ValueError(f"{job.func.__name__}({_kwargs_text(job)}) failed: {finished.error}")
        done[finished.index] = finished.value
    grid = join_columns([g for g in done[:n_parts] if isinstance(g, StressGrid)])
    results = [r for r in done[n_parts:] if isinstance(r, ScenarioResult)]
    sweep = grid_of(book, (*moves, *SUMMARY_MOVES), (0.0,), vol_relative=True)
    breach = _breach(config, table, book, valuation_ts_ms=sim.start_ms, vols=vols, runner=runner)
    return StressReport(iso_utc(sim.start_ms), book, grid, sweep, tuple(results), breach)


def stress_book(config: Config, stress: StressConfig) -> tuple[PositionTable, StressInputs]:
    """The ``[sim]`` book's table and its stress inputs at ``sim.start``; ValueError if the
    config has no ``[sim]`` book."""
    sim = config.sim
    if sim is None or not sim.book:
        raise ValueError("the config has no [sim] book to stress: add [[sim.book]] entries")
    table = book_table(sim)
    coin, usd = venue_equity(sim, table, table.venues)
    book = prepare(
        table,
        forward_usd=table.underlying_usd,
        valuation_ts_ms=sim.start_ms,
        equity_coin=coin,
        equity_usd=usd,
        margin=margin_setup(config.margin),
        vol_floor_frac=stress.vol_floor_frac,
    )
    return table, book


def _breach(
    config: Config,
    table: PositionTable,
    book: StressInputs,
    *,
    valuation_ts_ms: int,
    vols: Sequence[float],
    runner: Runner,
) -> BreachFigures:
    """Each venue's liquidation distances and its breach probability over [margin]'s horizon,
    the Monte Carlo in chunks on ``runner``."""
    setup, margin = book.margin, config.margin
    dist = book_liquidation_distance(
        table, book, setup, valuation_ts_ms=valuation_ts_ms, annual_vol_frac=vols
    )
    sigma = max(vols)
    inputs = BreachInputs(
        dist.down_frac,
        dist.up_frac,
        JumpDiffusion(sigma_frac=sigma),
        margin.breach_horizon_years,
        margin.breach_steps,
        margin.breach_seed,
    )
    probability = breach_on(runner, inputs, n_paths=margin.breach_paths)
    return BreachFigures(
        book.venues,
        dist.down_frac,
        dist.up_frac,
        probability,
        margin.breach_horizon_s,
        margin.breach_paths,
        sigma,
    )


Job = partial[StressGrid] | partial[ScenarioResult]
"""A grid chunk or a scenario, waiting for the prepared book."""


def _apply(book: StressInputs, job: Job) -> StressGrid | ScenarioResult:
    """Run one job on the book (a runner's task)."""
    return job(book)


def _kwargs_text(job: Job) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in job.keywords.items() if k != "price_moves_frac")


def _hedge_venues(config: Config, venues: Sequence[str]) -> tuple[str, ...]:
    """Venues with role hedge but not options (else every hedge venue) that hold positions."""
    hedge = [v for v in config.venues if VenueRole.HEDGE in v.role and v.name in venues]
    only = [v.name for v in hedge if VenueRole.OPTIONS not in v.role]
    return tuple(only or (v.name for v in hedge))
