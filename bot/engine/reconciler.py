"""Bring the journal's open orders up to date with venue evidence (the I/O half of reconcile).

Runs at start-up, at the head of every hedge cycle and on its own schedule;
the scheduled run also looks up, for a day, the orders the venue said it did
not know (NOT_FOUND), because a venue's index can lag.
It asks each venue about every open order by client id and reads our fills,
then applies :func:`bot.domain.reconcile.reconcile`'s verdicts. A failed
lookup is no evidence (the order stays where it is); nothing is ever resent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from bot.domain.alerts import AlertEvent, AlertKind, Severity
from bot.domain.ids import ClientOrderId, Symbol, VenueId
from bot.domain.orders import Fill, OrderReport, OrderState
from bot.domain.reconcile import OrderRecord, Resolution, VenueEvidence, reconcile
from bot.domain.timeunits import MS_PER_DAY
from bot.engine.context import EngineContext
from bot.journal import Journal
from bot.venues.base import Venue

log = structlog.get_logger("deltabot.reconcile")

FILL_LOOKBACK_MS = 60_000
"""Fills are read from this long before the oldest open order (venue clocks drift)."""
NOT_FOUND_RECHECK_MS = MS_PER_DAY
"""How long an order the venue said it did not know is still looked up: a venue's index
can lag, and late evidence (it did fill) must still reach the journal."""


@dataclass(frozen=True, slots=True)
class ReconcileSummary:
    """How many open orders were checked, moved, and how many lookups failed."""

    checked: int
    moved: int
    failed_lookups: int
    new_fills: int
    alerts: tuple[AlertEvent, ...] = ()
    """Orders still UNKNOWN past their window, conflicts and late evidence, to tell a person."""


@dataclass(slots=True)
class _Evidence:
    """What the venues said about our open orders in one reconciliation."""

    reports: dict[ClientOrderId, OrderReport] = field(default_factory=dict)
    not_found: set[ClientOrderId] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    failed: int = 0
    new_fills: int = 0


async def reconcile_open_orders(
    journal: Journal,
    venues: Mapping[VenueId, Venue],
    *,
    now_ms: Callable[[], int],
    unknown_grace_ms: int,
    resolution_window_ms: int,
    recheck_not_found: bool = False,
) -> ReconcileSummary:
    """Look every open order (and, if asked, recent NOT_FOUND ones) up on its venue and
    journal what the evidence proves."""
    records = journal.orders.open()
    if recheck_not_found:
        records += journal.orders.in_state(OrderState.NOT_FOUND, now_ms() - NOT_FOUND_RECHECK_MS)
    if not records:
        return ReconcileSummary(0, 0, 0, 0)
    found = _Evidence()
    by_venue: dict[VenueId, list[OrderRecord]] = {}
    for record in records:
        by_venue.setdefault(record.request.venue, []).append(record)
    for venue_id, mine in by_venue.items():
        venue = venues.get(venue_id)
        if venue is None:
            log.warning("reconcile_unknown_venue", venue=venue_id, orders=len(mine))
            found.failed += len(mine)
            continue
        await _gather(journal, venue_id, venue, mine, found)
    evidence = VenueEvidence(found.reports, frozenset(found.not_found), tuple(found.fills))
    now = now_ms()
    resolutions = reconcile(
        records,
        evidence,
        now_ms=now,
        unknown_grace_ms=unknown_grace_ms,
        resolution_window_ms=resolution_window_ms,
    )
    moved, alerts = _apply(journal, resolutions, now)
    return ReconcileSummary(len(records), moved, found.failed, found.new_fills, alerts)


def _alert(kind: AlertKind, res: Resolution, what: str, now_ms: int) -> AlertEvent:
    return AlertEvent(
        kind=kind,
        severity=Severity.CRITICAL,
        key=f"{kind.value}:{res.client_id}",
        message=f"order {res.client_id}: {what}: {res.reason}",
        ts_ms=now_ms,
        fields={"client_id": res.client_id, "reason": res.reason},
    )


def _apply(
    journal: Journal, resolutions: Sequence[Resolution], now_ms: int
) -> tuple[int, tuple[AlertEvent, ...]]:
    """Journal each resolution's steps; returns how many orders moved, and the alerts."""
    moved = 0
    alerts: list[AlertEvent] = []
    for res in resolutions:
        for step in res.steps:
            journal.orders.mark(res.client_id, step, now_ms, res.report, detail=res.reason)
        if res.timed_out:
            log.error("order_unknown_past_window", client_id=res.client_id, reason=res.reason)
            alerts.append(_alert(AlertKind.UNKNOWN_ORDER, res, "unknown past its window", now_ms))
        if res.late:  # the next cycle hedges the position as the venue now shows it
            log.error("late_evidence_after_not_found", client_id=res.client_id, reason=res.reason)
            alerts.append(_alert(AlertKind.RECONCILE_MISMATCH, res, "late evidence", now_ms))
        if res.steps:
            moved += 1
            log.info(
                "order_reconciled",
                client_id=res.client_id,
                state=res.steps[-1].value,
                filled=res.filled_amount,
                reason=res.reason,
            )
        elif res.reason.startswith("conflict"):
            log.error("order_conflict", client_id=res.client_id, reason=res.reason)
            alerts.append(_alert(AlertKind.RECONCILE_MISMATCH, res, "conflict", now_ms))
    return moved, tuple(alerts)


async def _gather(
    journal: Journal,
    venue_id: VenueId,
    venue: Venue,
    mine: Sequence[OrderRecord],
    found: _Evidence,
) -> None:
    """Ask one venue about each of ``mine`` by client id, and read our fills there (journaled
    as they arrive). A failed read is no evidence, never a verdict."""
    for record in mine:
        cid, symbol = record.request.client_id, record.request.symbol
        try:
            report = await venue.find_order(cid, symbol)
        except Exception as exc:
            found.failed += 1
            log.warning("order_lookup_failed", venue=venue_id, client_id=cid, error=str(exc))
            continue
        if report is None:
            found.not_found.add(cid)
        else:
            found.reports[cid] = report
    symbols: list[Symbol] = sorted({r.request.symbol for r in mine})
    since = min(r.created_ts_ms for r in mine) - FILL_LOOKBACK_MS
    try:
        fills = await venue.fetch_fills(since, symbols)
    except Exception as exc:
        found.failed += 1
        log.warning("fill_read_failed", venue=venue_id, error=str(exc))
        return
    for fill in fills:
        found.new_fills += journal.orders.record_fill(fill, venue_id)
    found.fills.extend(fills)


async def repair_missing_fills(journal: Journal, venues: Mapping[VenueId, Venue]) -> int:
    """Book the venue's trades of finished orders whose journaled fills fall short of their
    filled amount; returns how many fills were added. An order still short afterwards is
    logged as an error: its fills are not where the venue shows our trades."""
    broken = journal.orders.missing_fills()
    added = 0
    for venue_id in sorted({r.request.venue for r in broken}):
        mine = [r for r in broken if r.request.venue == venue_id]
        venue = venues.get(venue_id)
        if venue is None:
            continue
        since = min(r.created_ts_ms for r in mine) - FILL_LOOKBACK_MS
        try:
            fills = await venue.fetch_fills(since, sorted({r.request.symbol for r in mine}))
        except Exception as exc:  # no evidence this time; the next run tries again
            log.warning("fill_repair_read_failed", venue=venue_id, error=str(exc))
            continue
        ids = {r.request.client_id for r in mine}
        added += sum(journal.orders.record_fill(f, venue_id) for f in fills if f.client_id in ids)
    for record in journal.orders.missing_fills():
        log.error(
            "fills_missing",
            client_id=record.request.client_id,
            filled_amount=record.filled_amount,
            detail="the venue's trades do not account for the journaled filled amount",
        )
    if added:
        log.warning("fills_repaired", added=added)
    return added


async def reconcile_journal(ctx: EngineContext, recheck_not_found: bool = True) -> ReconcileSummary:
    """Reconcile open orders now; the start-up and scheduled runs also recheck NOT_FOUND and
    repair finished orders whose fills are missing."""
    if recheck_not_found:
        await repair_missing_fills(ctx.journal, ctx.venues)
    summary = await reconcile_open_orders(
        ctx.journal,
        ctx.venues,
        now_ms=ctx.clock_ms,
        unknown_grace_ms=ctx.config.risk.unknown_grace_ms,
        resolution_window_ms=ctx.config.risk.unknown_resolution_ms,
        recheck_not_found=recheck_not_found,
    )
    for alert in summary.alerts:
        ctx.alerts.emit(alert)
    if summary.checked:
        log.info(
            "reconciled",
            checked=summary.checked,
            moved=summary.moved,
            failed_lookups=summary.failed_lookups,
            new_fills=summary.new_fills,
        )
    return summary
