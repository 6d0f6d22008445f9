"""The scheduled collateral job: plan transfers between venues and send them like orders.

Each run (``[collateral] mode`` plan or auto):

1. transfers in flight are tracked on their source venue until the venue says
   they are done (for a withdrawal: the deposit has landed);
2. the last portfolio read becomes a :class:`CollateralSnapshot` (equity and
   margins in USD at the venues' index prices, free coin per currency, bands,
   trust, routes, and the in-flight transfers at their destinations);
3. the optimizer plans; a floor it cannot restore restricts that venue to
   reducing orders (automation may only escalate; an operator's resume lifts it);
4. mode ``auto`` sends the plan; mode ``plan`` journals it as PROPOSED for
   ``deltabot collateral approve ID`` and sends plans already APPROVED.

Sending is journal-first, as for orders: the transfer gate (caps, whitelist,
HALTED) judges the batch, each approved transfer is journaled PENDING with its
idempotency id before it is sent, and its outcome is journaled as it arrives.
An unanswered send stays UNKNOWN; nothing is resent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import structlog

from bot.config import Config
from bot.config.collateral import CollateralMode
from bot.domain.alerts import Severity
from bot.domain.collateral import (
    AccountCollateral,
    AccountKey,
    CollateralSnapshot,
    InFlightTransfer,
    PlanResult,
    optimize,
)
from bot.domain.ids import Currency
from bot.domain.orders import TransferKind, TransferState
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.timeunits import MS_PER_DAY, MS_PER_MINUTE, MS_PER_SECOND
from bot.domain.transfer_risk import (
    TransferIntent,
)
from bot.engine.context import EngineContext, LatestRead
from bot.engine.executor import send_transfers, transfer_alert
from bot.journal import PlanState, TransferRecord
from bot.ops.heap import frozen_heap

log = structlog.get_logger("deltabot.collateral")

DOLLARS = frozenset({"USD", "USDC", "USDT"})
_FINAL = {
    TransferState.COMPLETED: ("landed", Severity.INFO),
    TransferState.FAILED: ("failed", Severity.WARNING),
    TransferState.CANCELED: ("canceled", Severity.WARNING),
}
"""How a transfer's end is told (the alert's word and severity)."""


def prices_usd(portfolio: PortfolioSnapshot) -> dict[Currency, float]:
    """USD price of every currency the venues hold: the index for coins, 1 for dollars."""
    prices = {Currency(c): 1.0 for c in DOLLARS}
    for snap in portfolio.venues:
        prices.update(snap.index_usd)
    return prices


def collateral_snapshot(
    portfolio: PortfolioSnapshot, config: Config, in_flight: Sequence[InFlightTransfer]
) -> CollateralSnapshot:
    """The optimizer's view of every venue account named in ``[[collateral.venues]]``."""
    coll = config.collateral
    prices = prices_usd(portfolio)
    accounts = {v.name: v.account for v in config.venues}
    out: list[AccountCollateral] = []
    for snap in portfolio.venues:
        if coll.venue(snap.venue) is None:
            continue
        priced = [b for b in snap.balances if b.currency in prices]
        margin = [b for b in priced if b.margin]
        # A holding the venue does not count as margin adds no equity here, and a
        # currency held only so is worth nothing as collateral when it lands here.
        inert = {b.currency for b in priced} - {b.currency for b in margin}
        out.append(
            AccountCollateral(
                account=AccountKey(snap.venue, accounts[snap.venue]),
                equity_usd=math.fsum(b.equity * prices[b.currency] for b in margin),
                initial_margin_usd=math.fsum(b.initial_margin * prices[b.currency] for b in margin),
                maintenance_margin_usd=math.fsum(
                    b.maintenance_margin * prices[b.currency] for b in margin
                ),
                band=coll.band_for(snap.venue),
                free_coin={b.currency: max(0.0, b.available) for b in priced},
                haircut_frac={c: 0.0 for c in inert},
                idle_cost_frac_per_year=coll.idle_costs(snap.venue),
            )
        )
    return CollateralSnapshot(
        ts_ms=portfolio.valuation_ts_ms,
        prices_usd={c: p for c, p in prices.items() if p > 0},
        accounts=tuple(out),
        trust={v: t for v, t in coll.trust().items() if v in {a.account.venue for a in out}},
        routes=coll.withdrawal_routes(),
        in_flight=tuple(in_flight),
    )


def _in_flight(ctx: EngineContext, records: Sequence[TransferRecord]) -> list[InFlightTransfer]:
    """Open withdrawals at their destination account, credited net of the route's fee."""
    routes = {(r.source.venue, r.address): r for r in ctx.config.collateral.withdrawal_routes()}
    accounts = {v.name: v.account for v in ctx.config.venues}
    out = []
    for rec in records:
        req = rec.request  # sub-account transfers are instant: only withdrawals fly
        route = routes.get((req.venue, req.destination))
        if route is not None and route.destination.venue in accounts:
            credited = max(0.0, req.amount - route.fee_coin)
            out.append(InFlightTransfer(route.destination, req.currency, credited))
    return [t for t in out if t.amount_coin > 0]


async def track_transfers(ctx: EngineContext) -> None:
    """Move open transfers on with what their source venue reports (by venue transfer id).

    A transfer still PENDING was never sent: SUBMITTED is journaled before any send,
    and no send runs beside this job, so the process died between the two writes. It is
    CANCELED, or it would count as in flight for ever.
    """
    journal = ctx.journal
    stuck_ms = round(ctx.config.alerts.transfer_stuck_s * MS_PER_SECOND)
    for rec in journal.transfers.open():
        req = rec.request
        now = ctx.clock_ms()
        if rec.state is not TransferState.PENDING and now - rec.created_ts_ms > stuck_ms:
            age_min = (now - rec.created_ts_ms) / MS_PER_MINUTE
            what = f"stuck ({rec.state.value} for {age_min:.0f} min)"
            ctx.alerts.emit(transfer_alert(req, what, Severity.WARNING, now))
        if rec.state is TransferState.PENDING:
            journal.transfers.mark(req.transfer_id, TransferState.CANCELED, ctx.clock_ms())
            log.warning("transfer_never_sent", transfer_id=req.transfer_id, venue=req.venue)
            continue
        venue = ctx.venues.get(req.venue)
        if venue is None or req.kind is not TransferKind.WITHDRAWAL:
            continue
        try:
            reports = await venue.withdrawal_status(req.currency, rec.created_ts_ms - MS_PER_DAY)
        except Exception as exc:  # no evidence this time
            log.warning("transfer_status_unreadable", transfer_id=req.transfer_id, error=str(exc))
            continue
        mine = [
            r
            for r in reports
            if r.transfer_id == req.transfer_id
            or (rec.venue_transfer_id and r.venue_transfer_id == rec.venue_transfer_id)
        ]
        if mine and mine[-1].state is not rec.state:
            state = mine[-1].state
            journal.transfers.mark(req.transfer_id, state, ctx.clock_ms(), mine[-1])
            log.info("transfer_moved", transfer_id=req.transfer_id, state=state.value)
            if state in _FINAL:
                what, severity = _FINAL[state]
                ctx.alerts.emit(transfer_alert(req, what, severity, ctx.clock_ms()))


def _escalate(ctx: EngineContext, result: PlanResult) -> None:
    """A floor the optimizer cannot restore: that venue takes only reducing orders until an
    operator resumes; the other venues trade on (automation only escalates)."""
    already = ctx.journal.state.reducing_venues()
    venues = sorted(v for v in result.reducing_venues if v not in already)
    if not venues:
        return
    detail = "; ".join(s.message for s in result.shortfalls)
    for venue in venues:
        reason = f"collateral floor unreachable at {venue} ({detail})"
        ctx.journal.state.reduce_venue(venue, reason, ctx.clock_ms())
    log.error("collateral_floor_unreachable", venues=venues, detail=detail)


async def run_collateral(ctx: EngineContext, latest: LatestRead) -> PlanResult | None:
    """One collateral run (module docstring); None when the mode is off or nothing was read."""
    coll = ctx.config.collateral
    portfolio = latest.portfolio
    if coll.mode is CollateralMode.OFF or portfolio is None:
        return None
    await track_transfers(ctx)
    journal = ctx.journal
    prices = prices_usd(portfolio)
    snapshot = collateral_snapshot(portfolio, ctx.config, _in_flight(ctx, journal.transfers.open()))
    with frozen_heap():  # the snapshot's routes stay out of the collector's passes
        result = optimize(snapshot, coll.optimizer_settings())
    _escalate(ctx, result)
    intents = [TransferIntent.from_planned(t) for t in result.plan.transfers]
    if coll.mode is CollateralMode.AUTO:
        if intents:
            await send_transfers(ctx, intents, prices)
        return result
    if intents:
        summary = f"{result.status.value}: " + "; ".join(
            f"{t.route.source.venue} -> {t.route.destination.venue} {t.amount_coin:g} {t.asset}"
            for t in result.plan.transfers
        )
        if journal.plans.propose(result.plan.plan_id, snapshot.ts_ms, intents, summary):
            log.warning("collateral_plan_proposed", plan_id=result.plan.plan_id, plan=summary)
    for approved in journal.plans.in_state(PlanState.APPROVED):
        # A crash after some of a plan's transfers were journaled leaves it APPROVED: those
        # may be out already; send_transfers skips every id the journal has.
        await send_transfers(ctx, approved.intents, prices)
        journal.plans.mark(approved.plan_id, PlanState.EXECUTED, ctx.clock_ms())
    return result
