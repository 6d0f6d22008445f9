"""The option-hedge proposal job: hard greek-limit breaches become journaled proposals.

Every ``[options_hedge] interval_s`` (when enabled) the job expires overdue
proposals, then for each underlying that the last cycle found past a hard
``[greek_limits]`` limit and that has no live proposal, it reads the chain of
the venue holding that underlying's options, builds the whitelist
(:mod:`bot.domain.option_hedge_chain`), solves (:func:`bot.domain.option_hedge.propose`)
and journals the answer PROPOSED with the Greeks before and after. An
infeasible one is journaled INFEASIBLE with its explanation (once per distinct
explanation), which ``options-hedge plan`` shows.

:func:`execute_approved` sends each APPROVED, unexpired proposal: its legs as
IOC limits off the mark IV (:mod:`bot.domain.option_hedge_orders`), past the
same risk gate as the delta hedges (with its option premium caps), journal-first
through the same executor (a decision per proposal, then PENDING -> SUBMITTED
-> outcome per order). The residual delta is the next hedge cycle's. Both run
under the daemon's job lock: they write the journal.
"""

from __future__ import annotations

import math

import structlog

from bot.domain.greek_limits import LimitLevel
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit
from bot.domain.option_hedge import document, propose, rows_of
from bot.domain.option_hedge_chain import chain_candidates
from bot.domain.option_hedge_orders import Leg, leg_intents
from bot.domain.risk import evaluate
from bot.domain.snapshot import VenueSnapshot
from bot.domain.timeunits import MS_PER_DAY
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle import report_denials
from bot.engine.executor import send_orders
from bot.engine.greek_limits import plan_checks
from bot.journal import ProposalRecord

log = structlog.get_logger("deltabot.options_hedge")


async def propose_option_hedges(ctx: EngineContext, latest: LatestRead) -> tuple[str, ...]:
    """Journal a proposal per hard-breached underlying without a live one; their ids."""
    cfg = ctx.config
    result, portfolio = latest.cycle, latest.portfolio
    now = ctx.clock_ms()
    proposals = ctx.journal.option_proposals
    proposals.expire(now)
    if result is None or result.plan is None or portfolio is None:
        return ()
    checks = plan_checks(result.plan, cfg.greek_limits)
    breached = dict.fromkeys(c.limit.underlying for c in checks if c.level is LimitLevel.HARD)
    made = []
    for u in breached:
        if proposals.open_for(u, now) is not None:
            continue
        snap = _options_venue(portfolio.venues, u)
        if snap is None:
            log.warning("option_hedge_no_options_venue", underlying=u)
            continue
        try:
            chain = await ctx.venues[snap.venue].fetch_option_chain(u)
        except Exception as exc:  # the next look tries again
            log.warning("option_chain_unreadable", venue=snap.venue, error=str(exc))
            continue
        candidates = chain_candidates(
            snap.instruments,
            chain,
            underlying=u,
            now_ms=now,
            held_coin=_held_coin(snap),
            settings=cfg.options_hedge.whitelist(),
            edges_days=cfg.greek_limits.bucket_edges_days,
        )
        rows = rows_of([c for c in checks if c.limit.underlying == u])
        found = propose(candidates, rows, max_premium_usd=cfg.options_hedge.max_premium_usd)
        pid = f"oh-{u}-{now}"
        if not found.feasible:
            log.warning("option_hedge_infeasible", underlying=u, why=list(found.why))
            proposals.infeasible(
                pid,
                ts_ms=now,
                underlying=u,
                document={**document(snap.venue, u, candidates, found), "why": list(found.why)},
            )
            continue
        proposals.propose(
            pid,
            ts_ms=now,
            underlying=u,
            expires_ts_ms=now + round(cfg.options_hedge.expiry_s * 1000),
            document=document(snap.venue, u, candidates, found),
        )
        log.info("option_hedge_proposed", proposal=pid, cost_usd=round(found.cost_usd, 2))
        made.append(pid)
    return tuple(made)


async def execute_approved(ctx: EngineContext, latest: LatestRead) -> tuple[str, ...]:
    """Send every approved, unexpired proposal (module docstring); the ids executed."""
    proposals = ctx.journal.option_proposals
    now = ctx.clock_ms()
    proposals.expire(now)
    result, portfolio = latest.cycle, latest.portfolio
    if result is None or result.plan is None or portfolio is None:
        return ()
    done = []
    for record in proposals.approved(now):
        if await _execute(ctx, latest, record, now):
            done.append(record.proposal_id)
    return tuple(done)


async def _execute(
    ctx: EngineContext, latest: LatestRead, record: ProposalRecord, now: int
) -> bool:
    """One proposal through the caps, the gate and the executor; False if refused."""
    cfg, journal = ctx.config, ctx.journal
    portfolio = latest.portfolio
    plan = None if latest.cycle is None else latest.cycle.plan
    if portfolio is None or plan is None:
        return False
    doc = record.document
    venue = VenueId(str(doc["venue"]))
    u = Currency(record.underlying)
    legs = [Leg(Symbol(x["symbol"]), float(x["amount_coin"])) for x in doc["legs"]]
    oh = cfg.options_hedge
    snap = next((s for s in portfolio.venues if s.venue == venue), None)
    if snap is None or venue not in ctx.venues:
        log.warning("option_hedge_refused", proposal=record.proposal_id, why=f"{venue} not read")
        return False
    try:
        marks = await ctx.venues[venue].fetch_marks([leg.symbol for leg in legs])
        intents = leg_intents(
            record.proposal_id,
            venue,
            u,
            legs,
            instruments=snap.instruments,
            marks=marks,
            held_coin=_held_coin(snap),
            now_ms=now,
            iv_tolerance=oh.iv_tolerance_volpt / 100.0,
        )
    except Exception as exc:  # unpriceable now: it stays approved until it expires
        log.warning("option_hedge_refused", proposal=record.proposal_id, why=str(exc))
        return False
    decision = evaluate(
        intents,
        state=journal.orders.recent_sends(now - MS_PER_DAY),
        limits=cfg.risk.limits(),
        now_ms=now,
        inputs=plan.inputs,
        trading_state=journal.state.trading_state(),
        locked=frozenset(journal.state.locks()),
        reducing_venues=frozenset(journal.state.reducing_venues()),
    )
    if decision.denied:
        report_denials(ctx, decision)
        why = [d.message for d in decision.denied]
        log.warning("option_hedge_denied", proposal=record.proposal_id, why=why)
        return False
    index = next((d.index_usd for d in plan.decisions if d.underlying == u), math.nan)
    journal.orders.record_decision(
        record.proposal_id,
        u,
        now,
        greeks={
            "index_usd": index,
            **{f"{r['bucket']}_{r['figure']}_before": float(r["before"]) for r in doc["rows"]},
            **{f"{r['bucket']}_{r['figure']}_after": float(r["after"]) for r in doc["rows"]},
        },
        inputs={"proposal_id": record.proposal_id, "cost_usd": doc["cost_usd"]},
        target_coin=0.0,
        reason=f"option hedge {record.proposal_id} approved",
    )
    await send_orders(ctx, record.proposal_id, decision, portfolio)
    journal.option_proposals.executed(record.proposal_id, ctx.clock_ms())
    log.info("option_hedge_executed", proposal=record.proposal_id, orders=len(intents))
    return True


def _options_venue(venues: tuple[VenueSnapshot, ...], u: Currency) -> VenueSnapshot | None:
    """The first venue listing options on ``u``: the one whose chain is whitelisted."""
    return next(
        (
            s
            for s in venues
            if any(i.is_option and i.underlying == u for i in s.instruments.values())
        ),
        None,
    )


def _held_coin(snap: VenueSnapshot) -> dict[Symbol, float]:
    """Option positions in coin (options are counted in coin on every venue we trade)."""
    return {
        p.instrument.symbol: p.size
        for p in snap.positions
        if p.instrument.is_option and p.instrument.amount_unit is AmountUnit.COIN
    }
