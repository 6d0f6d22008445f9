"""What ``/health`` and ``deltabot status`` judge: the engine gathers, the rules judge.

:func:`health_of` collects the values each component needs (the last cycle,
the journal's trading state, locks and UNKNOWN orders, the venues' margin)
and hands them to :mod:`bot.domain.health_rules`. :func:`band_views` is the
one place a cycle's plan, gate decision and sends become each routed
underlying's standing against its band; the cycle stores it in its result so
the streaks and the heartbeat read the same thing. Cheap, no network I/O:
safe on the daemon's event loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.domain import health_rules as rules
from bot.domain.freshness import skew_problem, stale_problem
from bot.domain.health import Component, Health
from bot.domain.health_rules import BandState, BandView
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import OrderState, SendOutcome
from bot.domain.risk import GateDecision, OrderIntent
from bot.domain.snapshot import maintenance_ratio
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle_result import CycleResult
from bot.engine.greek_limits import greek_components
from bot.engine.plan import CyclePlan
from bot.journal import Journal

STALE_CYCLES = 3
"""A daemon whose last cycle is older than this many hedge intervals is unhealthy..."""
WALL_GRACE_S = 10.0
"""...plus this many wall seconds: a slow cycle on a busy machine is late by wall time,
which an accelerated clock (the demo's runs at x1440) multiplies by its speed."""

_NOTHING_COIN = 1e-12
"""Less than this in flight is nothing (float dust of fills summed against amounts)."""


def band_views(
    routed: Sequence[Currency],
    plan: CyclePlan,
    decision: GateDecision | None,
    outcomes: Sequence[tuple[OrderIntent, SendOutcome]],
) -> tuple[BandView, ...]:
    """Each routed underlying's standing after this cycle (see :class:`BandState`).

    Outside the band means the plan made an order for it: the strategy asked
    for a change of at least a lot. It is worked when one of those orders was
    sent, or an earlier one is still in flight; otherwise it is not worked,
    and ``why`` carries the gate's reasons (or the unusable route).
    """
    decisions = {d.underlying: d for d in plan.decisions}
    denied = () if decision is None else decision.denied
    views = []
    for u in dict.fromkeys(routed):
        d = decisions.get(u)
        if d is None:
            continue
        made = any(i.underlying == u for i in plan.intents)
        sent = sum(1 for i, _ in outcomes if i.underlying == u)
        state, why = BandState.NOT_WORKED, ""
        if not d.routed:
            why = "; ".join(plan.problems) or "no usable hedge route"
        elif sent:
            state, why = BandState.WORKED, f"{sent} order(s) sent"
        elif made:
            why = "; ".join(dict.fromkeys(x.message for x in denied if x.intent.underlying == u))
            why = why or "no order sent"
        elif abs(d.in_flight_coin) > _NOTHING_COIN:
            state, why = BandState.WORKED, f"{d.in_flight_coin:+.4f} coin in flight"
        else:
            state = BandState.INSIDE
        total = d.book_delta_coin + d.hedge_coin
        change = d.new_hedge_coin - d.hedge_coin
        views.append(BandView(u, state, total, d.target_delta_coin, change, why))
    return tuple(views)


def health_of(
    ctx: EngineContext,
    latest: LatestRead,
    now_ms: int,
    streams: tuple[Mapping[VenueId, float], int] | None = None,
) -> Health:
    """Every health component's verdict on the latest cycle (see :mod:`bot.domain.health`);
    ``streams`` (the stale streams' silences, how many venues stream) adds ``streams``."""
    cfg = ctx.config
    journal = ctx.journal
    state = journal.state.trading_state()
    result = latest.cycle
    age_s = None if result is None else (now_ms - result.started_ms) / 1000
    components = [
        rules.trading(state),
        rules.last_cycle(
            age_s,
            None if result is None else result.error,
            0.0 if result is None else result.duration_s,
            STALE_CYCLES * cfg.daemon.hedge_interval_s + WALL_GRACE_S * ctx.clock_speed,
        ),
        *_read_components(ctx, result),
        *_band_components(ctx, latest),
        rules.locks(journal.state.locks()),
        rules.unknown_orders(unknown_ages_s(journal, now_ms), cfg.risk.unknown_resolution_s),
        *_margin_components(ctx, latest),
        *greek_components(None if result is None else result.plan, cfg.greek_limits),
        rules.risk_gate(
            latest.health.gate_cycles, latest.health.denials, cfg.health.gate_failing_cycles
        ),
    ]
    if streams is not None and streams[1]:
        components.append(rules.streams(*streams))
    return Health(tuple(components), state.mode.value, age_s)


def unknown_ages_s(journal: Journal, now_ms: int) -> dict[str, float]:
    """Each order now UNKNOWN with its age in seconds at ``now_ms`` (the daemon's clock, which
    stamped it)."""
    return {
        r.request.client_id: (now_ms - r.created_ts_ms) / 1000
        for r in journal.orders.in_state(OrderState.UNKNOWN, 0)
    }


def _read_components(ctx: EngineContext, result: CycleResult | None) -> list[Component]:
    """The venues' readability, the last plan's input age (judged when its read returned,
    not at ``now``: between cycles every input ages, which is the interval's business) and
    the venue clocks."""
    risk = ctx.config.risk
    stale = None
    if result is not None and result.plan is not None:
        plan = result.plan
        stale = stale_problem(plan.inputs, plan.valuation_ts_ms, risk.max_input_age_ms)
    clocks = (
        []
        if result is None or result.portfolio is None
        else [(s.venue, s.clock) for s in result.portfolio.venues]
    )
    skews = [
        problem
        for venue, clock in clocks
        if clock is not None
        and (problem := skew_problem(venue, clock, risk.max_clock_skew_ms)) is not None
    ]
    read = None if result is None else result.portfolio is not None
    return [
        rules.venues(read, None if result is None else result.read_error, len(ctx.venues)),
        rules.inputs(stale),
        rules.venue_clocks(skews),
    ]


def _band_components(ctx: EngineContext, latest: LatestRead) -> list[Component]:
    """``band:<U>`` for each underlying the last planned cycle saw against its band."""
    memory = latest.health
    failing = ctx.config.health.band_failing_cycles
    return [rules.band(v, memory.band_cycles.get(v.underlying, 0), failing) for v in memory.bands]


def _margin_components(ctx: EngineContext, latest: LatestRead) -> list[Component]:
    """``margin:<VENUE>`` against the floor of the venue's ``[collateral]`` band."""
    cfg = ctx.config
    if latest.portfolio is None:
        return []
    return [
        rules.margin(
            snap.venue,
            {f"{b.account}/{b.currency}": maintenance_ratio(b) for b in snap.balances},
            cfg.collateral.band_for(snap.venue).floor,
            cfg.health.margin_near_frac,
        )
        for snap in latest.portfolio.venues
    ]
