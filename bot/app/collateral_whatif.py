"""``deltabot collateral what-if``: the collateral optimizer across price shocks and venue caps.

Each scenario moves every coin's price by one of the ``[stress]`` grid's price
moves (vol unchanged) and, beside the unchanged venues, caps one
``[[collateral.venues]]`` venue at ``cap_frac`` of its equity in that state
(a counterparty the desk wants to hold less with). The accounts are the
``[sim]`` book's venues as ``deltabot stress`` values them: equity and
maintenance margin (MM) from the stress kernel at the moved prices, free coin
the venue's ``[[sim.balances]]``, bands, trust, idle costs and routes from
``[collateral]``. The stress kernel models MM only, so initial margin is taken
equal to MM: a donor is then held at its band's target, which is above MM for
any target ratio >= 1.

The solves are tasks on a :mod:`bot.compute` runner, a few scenarios each; a
plan is a function of its snapshot alone (sorted inputs, a node limit, no time
limit), so the figures are the same on every runner and worker count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from bot.app.stress_run import stress_book
from bot.compute import Runner, SerialRunner, run_all
from bot.config import Config
from bot.domain.collateral import (
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    OptimizerSettings,
    optimize,
)
from bot.domain.ids import Currency, VenueId
from bot.domain.stress import grid_of
from bot.domain.timeunits import iso_utc
from bot.engine.collateral_job import DOLLARS

SCENARIOS_PER_TASK: Final = 4
"""Solves per task: each is milliseconds to a second, so a task is several, not one."""


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Every coin's price moved by ``move_frac``; ``capped_venue`` (None: no venue) allowed at
    most ``cap_frac`` of its equity in that state."""

    move_frac: float
    capped_venue: str | None


@dataclass(frozen=True, slots=True)
class PlannedMove:
    """One transfer of a scenario's plan: coin sent, and its USD value at the moved prices."""

    source: str
    destination: str
    asset: str
    amount_coin: float
    amount_usd: float


@dataclass(frozen=True, slots=True)
class WhatIfOutcome:
    """A scenario's plan, summarised: status, cost over the optimizer's horizon (USD), its
    transfers, the floor shortfall left (USD) and the venues that go reducing."""

    scenario: WhatIf
    status: str
    cost_usd: float
    fees_usd: float
    transfers: tuple[PlannedMove, ...]
    shortfall_usd: float
    reducing_venues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    """Every scenario's outcome, in scenario order (moves ascending, uncapped first)."""

    start: str
    cap_frac: float
    outcomes: tuple[WhatIfOutcome, ...]


def whatif_report(
    config: Config,
    *,
    cap_frac: float,
    runner: Runner | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WhatIfReport:
    """Solve the optimizer in every scenario (see the module doc), ``progress`` told (tasks
    done, tasks) after each task; ValueError naming what in the config is missing, or the
    scenarios that failed."""
    if not 0 <= cap_frac <= 1:
        raise ValueError(f"--cap-frac must be in [0, 1], got {cap_frac}")
    scenarios = _snapshots(config, cap_frac)
    chunks = [
        tuple(scenarios[i : i + SCENARIOS_PER_TASK])
        for i in range(0, len(scenarios), SCENARIOS_PER_TASK)
    ]
    done = run_all(
        runner or SerialRunner(),
        _solve_chunk,
        chunks,
        shared=config.collateral.optimizer_settings(),
        describe=lambda i: f"scenarios from move {chunks[i][0][0].move_frac:+g}",
        progress=progress,
    )
    assert config.sim is not None  # _snapshots has checked it
    outcomes = tuple(o for chunk in done for o in chunk)
    return WhatIfReport(iso_utc(config.sim.start_ms), cap_frac, outcomes)


def _snapshots(config: Config, cap_frac: float) -> list[tuple[WhatIf, CollateralSnapshot]]:
    """Every scenario with the optimizer's view of it."""
    _, book = stress_book(config, config.stress)
    sim, coll = config.sim, config.collateral
    assert sim is not None  # stress_book has checked it
    venues = [v for v in book.venues if coll.venue(VenueId(v)) is not None]
    if not venues:
        raise ValueError(
            "no venue of the [sim] book is in [[collateral.venues]]: nothing to plan for"
        )
    moves = config.stress.price_moves()
    grid = grid_of(book, moves, (0.0,), vol_relative=True)
    names = {v.name: v.account for v in config.venues}
    keys = {v: AccountKey(VenueId(v), names[VenueId(v)]) for v in venues}  # all configured
    free: dict[str, dict[Currency, float]] = {v: {} for v in venues}
    for b in sim.balances:
        if b.venue in free:
            asset = Currency(b.currency)
            free[b.venue][asset] = free[b.venue].get(asset, 0.0) + b.amount
    spot = {Currency(u.name): u.spot_usd for u in sim.underlyings}
    trust = coll.trust()
    routes = tuple(
        r
        for r in coll.withdrawal_routes()
        if r.source.venue in venues and r.destination.venue in venues
    )
    out = []
    for i, move in enumerate(moves):
        accounts = tuple(
            AccountCollateral(
                account=keys[v],
                equity_usd=float(grid.equity_usd[i, 0, book.venues.index(v)]),
                initial_margin_usd=float(grid.maintenance_usd[i, 0, book.venues.index(v)]),
                maintenance_margin_usd=float(grid.maintenance_usd[i, 0, book.venues.index(v)]),
                band=coll.band_for(VenueId(v)),
                free_coin=free[v],
                idle_cost_frac_per_year=coll.idle_costs(VenueId(v)),
            )
            for v in venues
        )
        prices = {Currency(c): 1.0 for c in DOLLARS} | {c: p * (1 + move) for c, p in spot.items()}
        base = CollateralSnapshot(sim.start_ms, prices, accounts, trust, routes)
        out.append((WhatIf(move, None), base))
        for account in accounts:
            venue = account.account.venue
            cap = max(0.0, cap_frac * account.equity_usd)
            capped = {**trust, venue: replace(base.trust_of(venue), max_collateral_usd=cap)}
            out.append((WhatIf(move, venue), replace(base, trust=capped)))
    return out


def _solve_chunk(
    settings: OptimizerSettings, chunk: tuple[tuple[WhatIf, CollateralSnapshot], ...]
) -> tuple[WhatIfOutcome, ...]:
    """The optimizer on each scenario of ``chunk`` (a runner's task)."""
    return tuple(_outcome(scenario, snapshot, settings) for scenario, snapshot in chunk)


def _outcome(
    scenario: WhatIf, snapshot: CollateralSnapshot, settings: OptimizerSettings
) -> WhatIfOutcome:
    result = optimize(snapshot, settings)
    moves = tuple(
        PlannedMove(
            str(t.route.source),
            str(t.route.destination),
            str(t.asset),
            t.amount_coin,
            t.amount_usd,
        )
        for t in result.plan.transfers
    )
    return WhatIfOutcome(
        scenario,
        result.status.value,
        result.cost.total_usd,
        result.cost.fees_usd,
        moves,
        math.fsum(s.shortfall_usd for s in result.shortfalls),
        tuple(sorted(result.reducing_venues)),
    )


def whatif_json(report: WhatIfReport) -> dict[str, Any]:
    """The report as JSON-ready values: one object per scenario."""
    scenarios = [asdict(o) for o in report.outcomes]
    return {"start": report.start, "cap_frac": report.cap_frac, "scenarios": scenarios}


def whatif_text(report: WhatIfReport) -> str:
    """One line per scenario, its transfers indented beneath it."""
    lines = [
        f"collateral what-if at {report.start}: every coin's price moved; 'capped' venue held "
        f"to {report.cap_frac:.0%} of its equity",
        f"{'move':>6}  {'capped':<12} {'status':<18} {'cost USD':>12} {'fees USD':>10} "
        f"{'shortfall USD':>14}  reducing",
    ]
    for o in report.outcomes:
        w = o.scenario
        lines.append(
            f"{w.move_frac:>+6.1%}  {w.capped_venue or '-':<12} {o.status:<18} "
            f"{o.cost_usd:>12,.2f} {o.fees_usd:>10,.2f} {o.shortfall_usd:>14,.2f}  "
            f"{', '.join(o.reducing_venues) or '-'}"
        )
        lines += [
            f"        {t.source} -> {t.destination}: {t.amount_coin:,.6g} {t.asset} "
            f"({t.amount_usd:,.2f} USD)"
            for t in o.transfers
        ]
    return "\n".join(lines)
