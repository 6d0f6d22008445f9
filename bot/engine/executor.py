"""The executor: journal-first sends of what a gate approved, their outcomes, and the
post-trade check (docs/architecture.md §1, §5).

Every approved order is journaled PENDING -> SUBMITTED before it is sent and
its outcome journaled as it arrives: accepted (with its fills), rejected, or
UNKNOWN when no answer came, which only venue evidence moves on (nothing is
ever resent). After fills, the traded positions are re-read: one that did not
move as the fills say locks its underlying (persisted) and raises an alert.
An order whose reply was lost is looked up first and its venue-reported fills
counted, so one lost reply costs at most a cycle, never an operator.
Transfers go the same way through the transfer gate. A stop request
(SIGTERM) is honoured between sends: nothing new goes out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import structlog

from bot.domain.alerts import AlertEvent, AlertKind, Severity
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.orders import (
    Accepted,
    Ambiguous,
    Fill,
    OrderState,
    Rejected,
    SendOutcome,
    TimeInForce,
    TransferKind,
    TransferReport,
    TransferRequest,
    TransferState,
)
from bot.domain.reconcile import PositionCheck, position_mismatches
from bot.domain.risk import GateDecision, OrderIntent
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.transfer_risk import (
    TransferIntent,
    TransferLedger,
    TransferSend,
    evaluate_transfers,
)
from bot.engine.context import EngineContext
from bot.engine.reconciler import reconcile_journal

log = structlog.get_logger("deltabot.executor")

_UNRESOLVED = frozenset({OrderState.PENDING, OrderState.SUBMITTED, OrderState.UNKNOWN})


async def send_orders(
    ctx: EngineContext, cycle_id: str, decision: GateDecision, portfolio: PortfolioSnapshot
) -> list[tuple[OrderIntent, SendOutcome]]:
    """Journal-first sends of the approved intents, then the post-trade check."""
    outcomes: list[tuple[OrderIntent, SendOutcome]] = []
    fills: list[Fill] = []
    for intent in decision.approved:
        if ctx.stopping:
            log.info("send_skipped_stopping", client_id=intent.order.client_id)
            break
        outcome = await _send_order(ctx, intent, f"{cycle_id}/{intent.underlying}")
        outcomes.append((intent, outcome))
        if isinstance(outcome, Accepted):
            fills.extend(outcome.fills)
    if fills:
        sent = [i for i, _ in outcomes]
        lost = [i for i, o in outcomes if isinstance(o, Ambiguous)]
        unresolved = await _resolve_lost(ctx, lost, fills) if lost else set()
        await _verify(ctx, portfolio, sent, fills, unresolved)
    return outcomes


async def _resolve_lost(
    ctx: EngineContext, lost: Sequence[OrderIntent], fills: list[Fill]
) -> set[tuple[VenueId, Symbol]]:
    """Look the orders whose answer was lost up before the position check, and add the fills
    the venue reports for them to ``fills``: a lost reply is evidence to find, not a
    mismatch. Returns the instruments where an order is still of unknown outcome."""
    await reconcile_journal(ctx, recheck_not_found=False)
    unresolved: set[tuple[VenueId, Symbol]] = set()
    for intent in lost:
        req = intent.order
        if ctx.journal.orders.get(req.client_id).state in _UNRESOLVED:
            unresolved.add((req.venue, req.symbol))
        fills.extend(ctx.journal.orders.fills_of(req.venue, req.client_id))
    return unresolved


async def _send_order(ctx: EngineContext, intent: OrderIntent, decision_id: str) -> SendOutcome:
    req = intent.order
    journal = ctx.journal
    journal.orders.record_intent(intent, decision_id, ctx.clock_ms())
    journal.orders.mark(req.client_id, OrderState.SUBMITTED, ctx.clock_ms())
    ctx.metrics.order_sent(req.venue, req.symbol, req.side.value)
    outcome = await ctx.venues[req.venue].create_order(req)
    now = ctx.clock_ms()
    if isinstance(outcome, Accepted):
        journal.orders.mark(
            req.client_id,
            outcome.report.state,
            now,
            outcome.report,
            outcome.reason,
            fills=outcome.fills,
        )
        kind = _accepted_kind(outcome)
        if req.tif is TimeInForce.IOC:
            ctx.metrics.ioc_answered(
                req.venue,
                intent.underlying,
                requested_coin=intent.amount_coin,
                filled_coin=intent.amount_coin * outcome.report.filled_amount / req.amount,
            )
    elif isinstance(outcome, Rejected):
        journal.orders.mark(req.client_id, OrderState.REJECTED, now, detail=outcome.reason)
        kind = "rejected"
    else:
        journal.orders.mark(req.client_id, OrderState.UNKNOWN, now, detail=outcome.reason)
        kind = "ambiguous"
    log.info(
        "order_sent",
        client_id=req.client_id,
        venue=req.venue,
        symbol=req.symbol,
        side=req.side.value,
        amount=req.amount,
        limit=req.limit_price,
        outcome=kind,
        reason=outcome.reason,
    )
    ctx.metrics.order_outcome(req.venue, kind)
    return outcome


def _accepted_kind(outcome: Accepted) -> str:
    """The outcome label of an order the venue took: ``canceled`` when it closed with
    nothing filled (an IOC that found no liquidity inside its limit), else ``accepted``."""
    report = outcome.report
    if report.state is OrderState.CANCELED and report.filled_amount == 0:
        return "canceled"
    return "accepted"


async def _verify(
    ctx: EngineContext,
    portfolio: PortfolioSnapshot,
    sent: Sequence[OrderIntent],
    fills: Sequence[Fill],
    unresolved: Collection[tuple[VenueId, Symbol]],
) -> None:
    """Re-read the traded venues: a position that did not move as filled locks its coin.
    An instrument with an order still of unknown outcome cannot be judged: unverified."""
    snaps = {s.venue: s for s in portfolio.venues}
    checks: list[PositionCheck] = []
    for venue_id in sorted({i.order.venue for i in sent}):
        symbols = {i.order.symbol for i in sent if i.order.venue == venue_id}
        ours = {i.order.client_id for i in sent if i.order.venue == venue_id}
        try:
            after = await ctx.venues[venue_id].fetch_positions()
        except Exception as exc:
            log.warning("post_trade_read_failed", venue=venue_id, error=str(exc))
            after = None
        snap = snaps[venue_id]
        for symbol in sorted(symbols):
            if (venue_id, symbol) in unresolved:
                log.warning(
                    "post_trade_unverified",
                    venue=venue_id,
                    symbol=symbol,
                    detail="an order's outcome is still unknown",
                )
                continue
            instrument = snap.instruments[symbol]
            before = sum(p.size for p in snap.positions if p.instrument.symbol == symbol)
            now_size = (
                None
                if after is None
                else sum(p.size for p in after if p.instrument.symbol == symbol)
            )
            mine = tuple(f for f in fills if f.symbol == symbol and f.client_id in ours)
            checks.append(PositionCheck(instrument, before, now_size, mine))
    for mismatch in position_mismatches(checks):
        if mismatch.observed_change is None:
            log.warning("post_trade_unverified", detail=mismatch.detail)
            continue
        now = ctx.clock_ms()
        ctx.journal.state.lock_underlying(mismatch.underlying, mismatch.detail, now)
        log.error(
            "position_mismatch_locked", underlying=mismatch.underlying, detail=mismatch.detail
        )
        ctx.alerts.emit(
            AlertEvent(
                kind=AlertKind.RECONCILE_MISMATCH,
                severity=Severity.CRITICAL,
                key=f"position_mismatch:{mismatch.underlying}",
                message=(
                    f"{mismatch.underlying} locked: the position did not move as our fills say "
                    f"({mismatch.detail})"
                ),
                ts_ms=now,
                fields={"underlying": mismatch.underlying, "detail": mismatch.detail},
            )
        )


def transfer_alert(
    request: TransferRequest, what: str, severity: Severity, now_ms: int
) -> AlertEvent:
    """A collateral transfer sent, landed, failed or stuck, keyed on its id and ``what``."""
    r = request
    return AlertEvent(
        kind=AlertKind.TRANSFER,
        severity=severity,
        key=f"transfer:{r.transfer_id}:{what.split(maxsplit=1)[0]}",
        message=(
            f"transfer {r.transfer_id} {what}: {r.kind.value} {r.amount:g} {r.currency} "
            f"from {r.venue} to {r.destination}"
        ),
        ts_ms=now_ms,
        fields={"transfer_id": r.transfer_id, "venue": r.venue, "state": what},
    )


def _transfer_ledger(
    ctx: EngineContext, prices: Mapping[Currency, float], now_ms: int
) -> TransferLedger:
    """Transfers of the last day at today's prices (the journal keeps coin amounts)."""
    rows = ctx.journal.transfers.since(now_ms - MS_PER_DAY)
    return TransferLedger(
        tuple(
            TransferSend(r.created_ts_ms, r.request.amount * prices.get(r.request.currency, 0.0))
            for r in rows
        )
    )


async def send_transfers(
    ctx: EngineContext, intents: Sequence[TransferIntent], prices: Mapping[Currency, float]
) -> list[TransferState]:
    """The transfer gate, then journal-first sends; returns each sent transfer's state.

    A transfer id the journal already has (a plan made again from the same inputs after
    that transfer failed) is never sent again: it is skipped with a warning.
    """
    journal = ctx.journal
    collateral = ctx.config.collateral
    now = ctx.clock_ms()
    fresh = []
    for intent in intents:
        tid = intent.request.transfer_id
        if journal.transfers.has(tid):
            state = journal.transfers.get(tid).state
            log.warning("transfer_already_journaled", transfer_id=tid, state=state.value)
        else:
            fresh.append(intent)
    decision = evaluate_transfers(
        fresh,
        ledger=_transfer_ledger(ctx, prices, now),
        limits=collateral.transfer_limits(),
        whitelist=collateral.whitelist(),
        trading_state=journal.state.trading_state(),
        now_ms=now,
    )
    for denial in decision.denied:
        log.warning(
            "transfer_denied",
            transfer_id=denial.intent.request.transfer_id,
            reason=denial.reason.value,
            detail=denial.detail,
        )
    states = []
    for intent in decision.approved:
        if ctx.stopping:
            break
        req = intent.request
        journal.transfers.record(req, ctx.clock_ms())
        journal.transfers.mark(req.transfer_id, TransferState.SUBMITTED, ctx.clock_ms())
        venue = ctx.venues[req.venue]
        send = (
            venue.withdraw if req.kind is TransferKind.WITHDRAWAL else venue.transfer_to_subaccount
        )
        outcome = await send(req)
        now = ctx.clock_ms()
        if isinstance(outcome, TransferReport):
            state = outcome.state
            journal.transfers.mark(req.transfer_id, state, now, outcome)
        elif isinstance(outcome, Rejected):
            state = TransferState.FAILED
            journal.transfers.mark(req.transfer_id, state, now)
        else:
            state = TransferState.UNKNOWN
            journal.transfers.mark(req.transfer_id, state, now)
        ctx.alerts.emit(
            transfer_alert(
                req,
                f"sent ({state.value})",
                Severity.INFO if state is not TransferState.FAILED else Severity.WARNING,
                now,
            )
        )
        log.info(
            "transfer_sent",
            transfer_id=req.transfer_id,
            venue=req.venue,
            kind=req.kind.value,
            currency=req.currency,
            amount=req.amount,
            destination=req.destination,
            state=state.value,
            reason=getattr(outcome, "reason", ""),
        )
        states.append(state)
    return states
