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
from pathlib import Path

from pydantic import ValidationError

from bot.app.sim_book import book_table, venue_equity
from bot.config import Config, VenueRole
from bot.config.stress import StressConfig, margin_setup
from bot.domain.stress import (
    ScenarioResult,
    StressGrid,
    StressInputs,
    cascade,
    crash,
    custom,
    grid_of,
    prepare,
    venue_default,
    withdrawal_freeze,
)
from bot.domain.timeunits import iso_utc

SUMMARY_MOVES = (-0.5, -0.2, -0.1, 0.1, 0.2, 0.5)
"""Price moves the report shows at vol unchanged, whatever the grid's points."""


@dataclass(frozen=True, slots=True)
class StressReport:
    """Everything the command prints: the grid, a vol-unchanged sweep, the scenarios."""

    start: str
    book: StressInputs
    grid: StressGrid
    sweep: StressGrid
    scenarios: tuple[ScenarioResult, ...]


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


def build_report(config: Config, stress: StressConfig) -> StressReport:
    """Stress the ``[sim]`` book; ValueError says what in the inputs is wrong."""
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
    moves = stress.price_moves()
    grid = grid_of(book, moves, stress.vol_shifts(), vol_relative=stress.vol_relative)
    sweep = grid_of(book, (*moves, *SUMMARY_MOVES), (0.0,), vol_relative=True)
    vols = [u.vol for u in sim.underlyings]
    venues = book.venues
    hedges = stress.cascade_hedge_venues or _hedge_venues(config, venues)
    results = [crash(book, stress.crash_move_frac, stress.crash_vol_mult)]
    results += [
        venue_default(book, v, stress.default_then_move_frac)
        for v in stress.default_venues or venues
    ]
    results += [
        withdrawal_freeze(
            book, v, days=stress.freeze_days, sigmas=stress.freeze_sigmas, annual_vol_frac=vols
        )
        for v in stress.freeze_venues or venues
    ]
    results += [
        cascade(book, h, move_frac=m, further_move_frac=stress.cascade_further_move_frac)
        for h in hedges
        for m in stress.cascade_moves_frac
    ]
    results += [custom(book, s.scenario(book.underlyings)) for s in stress.scenarios]
    return StressReport(iso_utc(sim.start_ms), book, grid, sweep, tuple(results))


def _hedge_venues(config: Config, venues: Sequence[str]) -> tuple[str, ...]:
    """Venues with role hedge but not options (else every hedge venue) that hold positions."""
    hedge = [v for v in config.venues if VenueRole.HEDGE in v.role and v.name in venues]
    only = [v.name for v in hedge if VenueRole.OPTIONS not in v.role]
    return tuple(only or (v.name for v in hedge))
