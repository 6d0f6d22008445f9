"""The option-hedge proposal job: hard greek-limit breaches become journaled proposals.

Every ``[options_hedge] interval_s`` (when enabled) the job expires overdue
proposals, then for each underlying that the last cycle found past a hard
``[greek_limits]`` limit and that has no live proposal, it reads the chain of
the venue holding that underlying's options, builds the whitelist
(:mod:`bot.domain.option_hedge_chain`), solves (:func:`bot.domain.option_hedge.propose`)
and journals the answer PROPOSED with the Greeks before and after. An
infeasible one is logged with its explanation; nothing is journaled for it.
It runs under the daemon's job lock: it writes the journal.
"""

from __future__ import annotations

import structlog

from bot.domain.greek_limits import LimitLevel
from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import AmountUnit
from bot.domain.option_hedge import document, propose, rows_of
from bot.domain.option_hedge_chain import chain_candidates
from bot.domain.snapshot import VenueSnapshot
from bot.engine.context import EngineContext, LatestRead
from bot.engine.greek_limits import plan_checks

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
        if not found.feasible:
            log.warning("option_hedge_infeasible", underlying=u, why=list(found.why))
            continue
        pid = f"oh-{u}-{now}"
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
