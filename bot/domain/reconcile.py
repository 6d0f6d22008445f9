"""Reconciliation: what venue evidence says happened to the journal's open orders.

The journal is the truth for our intents, the venue for what became of them
(docs/architecture.md §5). Without evidence nothing moves except toward UNKNOWN: a
timeout is never a rejection. "No such order" counts only after a grace
period, because a venue may take a moment to index a fresh order. An order
with no evidence at all (every lookup failed) is given up as NOT_FOUND once
its resolution window is over, so no intent stays UNKNOWN for ever; late
evidence still moves a NOT_FOUND order on. Nothing here ever proposes a resend.

The post-trade check compares each instrument's position change with the
journaled fills, in the instrument's own amount unit (USD for a Deribit inverse
perp, whose coin value moves with the mark even without a trade).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.domain.ids import ClientOrderId, Currency, Symbol
from bot.domain.instruments import Instrument
from bot.domain.orders import Fill, OrderReport, OrderRequest, OrderState, can_transition
from bot.domain.snapshot import VenueSnapshot

_S = OrderState
OPEN_STATES: Final = frozenset({_S.PENDING, _S.SUBMITTED, _S.UNKNOWN, _S.ACCEPTED, _S.PARTIAL})
"""States whose outcome reconciliation must still establish; their remainder is in flight."""
_FULL_TOLERANCE: Final = 1e-9
"""Relative shortfall of the filled amount that still counts as completely filled."""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One journaled order and what the journal knows of it (``filled_amount`` in amount unit)."""

    request: OrderRequest
    state: OrderState
    decision_id: str
    created_ts_ms: int
    updated_ts_ms: int
    filled_amount: float = 0.0
    venue_order_id: str | None = None

    @property
    def remaining_amount(self) -> float:
        """Unsigned amount that may still fill: zero once the order is closed or not found."""
        if self.state not in OPEN_STATES:
            return 0.0
        return max(0.0, self.request.amount - self.filled_amount)


@dataclass(frozen=True, slots=True)
class VenueEvidence:
    """What the venue answered: reports found by client id, ids it definitely does not know
    (a "no such order" answer, not a failed lookup), and trades."""

    reports: Mapping[ClientOrderId, OrderReport] = field(default_factory=dict)
    not_found: frozenset[ClientOrderId] = frozenset()
    fills: tuple[Fill, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """The states to record for one order, in order (empty: it stays as it is), and why."""

    client_id: ClientOrderId
    steps: tuple[OrderState, ...]
    filled_amount: float
    report: OrderReport | None
    reason: str
    timed_out: bool = False
    """Given up as NOT_FOUND for want of any evidence within the resolution window."""
    late: bool = False
    """Evidence for an order already given up as NOT_FOUND: the book moved behind our back."""


def _filled(record: OrderRecord, report: OrderReport | None, fills: Iterable[Fill]) -> float:
    venue_ids = {record.venue_order_id, report.venue_order_id if report else None} - {None}
    ours = {
        f.trade_id: f.amount
        for f in fills
        if f.symbol == record.request.symbol
        and (f.client_id == record.request.client_id or f.venue_order_id in venue_ids)
    }
    reported = report.filled_amount if report else 0.0
    return max(record.filled_amount, reported, math.fsum(ours.values()))


def _target(
    record: OrderRecord, report: OrderReport | None, filled: float, not_found_ok: bool
) -> tuple[OrderState | None, str]:
    """The state the evidence supports (None: no evidence) and a reason."""
    full = filled >= record.request.amount * (1 - _FULL_TOLERANCE)
    if report is not None:
        state = report.state
        if full:
            return _S.FILLED, f"venue report {report.venue_order_id}: filled {filled:g}"
        if filled > 0 and state is _S.ACCEPTED:
            state = _S.PARTIAL
        elif filled > 0 and state is _S.REJECTED:
            state = _S.CANCELED  # closed, yet trades prove some of it executed
        return state, f"venue report {report.venue_order_id}: {state.value}, filled {filled:g}"
    if filled > 0:
        return (_S.FILLED if full else _S.PARTIAL), f"trades show {filled:g} filled"
    if not_found_ok:
        return _S.NOT_FOUND, "venue has no such order after the grace period"
    return None, "no venue evidence"


def _path(current: OrderState, target: OrderState) -> tuple[OrderState, ...] | None:
    """Legal steps from ``current`` to ``target`` (an unanswered send passes UNKNOWN)."""
    if target is current:
        return ()
    if can_transition(current, target):
        return (target,)
    if current in (_S.PENDING, _S.SUBMITTED) and can_transition(_S.UNKNOWN, target):
        return (_S.UNKNOWN, target)
    return None


def resolve(
    record: OrderRecord,
    evidence: VenueEvidence,
    *,
    now_ms: int,
    unknown_grace_ms: int,
    resolution_window_ms: int,
) -> Resolution:
    """What ``evidence`` says about one journaled order.

    Example: an order sent at 0 whose lookups all fail stays UNKNOWN at 299,999 ms
    and becomes NOT_FOUND at 300,000 ms with a 300,000 ms resolution window.
    """
    cid = record.request.client_id
    report = evidence.reports.get(cid)
    if report is not None and report.symbol != record.request.symbol:
        conflict = f"conflict: venue report is for {report.symbol}, not {record.request.symbol}"
        return Resolution(cid, (), record.filled_amount, None, conflict)
    filled = _filled(record, report, evidence.fills)
    grace_over = now_ms - record.created_ts_ms >= unknown_grace_ms
    target, reason = _target(record, report, filled, cid in evidence.not_found and grace_over)
    if target is None:
        unanswered = record.state in (_S.PENDING, _S.SUBMITTED)
        age_ms = now_ms - record.created_ts_ms
        if (unanswered or record.state is _S.UNKNOWN) and age_ms >= resolution_window_ms:
            given_up = (
                f"no venue evidence {age_ms} ms after sending (resolution window "
                f"{resolution_window_ms} ms): NOT_FOUND, late evidence still applies"
            )
            to_not_found = (_S.UNKNOWN, _S.NOT_FOUND) if unanswered else (_S.NOT_FOUND,)
            return Resolution(cid, to_not_found, filled, None, given_up, timed_out=True)
        steps: tuple[OrderState, ...] = (_S.UNKNOWN,) if unanswered else ()
        return Resolution(cid, steps, filled, None, reason)
    if record.state.is_terminal:
        return Resolution(cid, (), record.filled_amount, None, f"already {record.state.value}")
    path = _path(record.state, target)
    if path is None:
        conflict = f"conflict: {reason}, but the journal has {record.state.value}; left as is"
        return Resolution(cid, (), record.filled_amount, None, conflict)
    late = record.state is _S.NOT_FOUND and bool(path)
    return Resolution(cid, path, filled, report, reason, late=late)


def reconcile(
    records: Iterable[OrderRecord],
    evidence: VenueEvidence,
    *,
    now_ms: int,
    unknown_grace_ms: int,
    resolution_window_ms: int,
) -> tuple[Resolution, ...]:
    """:func:`resolve` for every record; a record with nothing new is still listed."""
    if not 0 <= unknown_grace_ms <= resolution_window_ms:
        raise ValueError(
            f"need 0 <= unknown_grace_ms ({unknown_grace_ms}) <= resolution_window_ms "
            f"({resolution_window_ms})"
        )
    return tuple(
        resolve(
            r,
            evidence,
            now_ms=now_ms,
            unknown_grace_ms=unknown_grace_ms,
            resolution_window_ms=resolution_window_ms,
        )
        for r in records
    )


@dataclass(frozen=True, slots=True)
class PositionCheck:
    """Venue position of one instrument read before and after trading (``amount_unit``,
    None: the read failed or came back empty), and the journaled fills between the reads."""

    instrument: Instrument
    before_size: float | None
    after_size: float | None
    fills: tuple[Fill, ...] = ()


@dataclass(frozen=True, slots=True)
class PositionMismatch:
    """A position that did not move as our fills say: the engine locks the underlying."""

    underlying: Currency
    symbol: Symbol
    expected_change: float
    observed_change: float | None
    detail: str


def position_mismatches(
    checks: Iterable[PositionCheck], *, tolerance_lots: float = 0.5
) -> tuple[PositionMismatch, ...]:
    """Every instrument whose position change differs from its fills by more than
    ``tolerance_lots`` lots; an unreadable position is a mismatch too (unknown is not flat)."""
    if not (math.isfinite(tolerance_lots) and tolerance_lots >= 0):
        raise ValueError(f"tolerance_lots must be a finite number >= 0, got {tolerance_lots!r}")
    found: list[PositionMismatch] = []
    for check in checks:
        inst = check.instrument
        trades = {f.trade_id: f for f in check.fills if f.symbol == inst.symbol}
        expected = math.fsum(f.side.sign * f.amount for f in trades.values())
        unit = inst.amount_unit.value
        if check.before_size is None or check.after_size is None:
            detail = f"{inst.symbol}: position unreadable, expected a change of {expected:g} {unit}"
            found.append(PositionMismatch(inst.underlying, inst.symbol, expected, None, detail))
            continue
        observed = check.after_size - check.before_size
        if not abs(observed - expected) <= tolerance_lots * inst.lot_size:
            detail = (
                f"{inst.symbol}: position moved {observed:g} {unit}, "
                f"journaled fills say {expected:g} {unit}"
            )
            found.append(PositionMismatch(inst.underlying, inst.symbol, expected, observed, detail))
    return tuple(found)


def external_changes(
    before: VenueSnapshot,
    after: VenueSnapshot,
    fills: Iterable[Fill],
    busy: Collection[Symbol],
) -> tuple[PositionMismatch, ...]:
    """Positions of one venue that moved between two reads by more than our ``fills`` in
    between explain: a manual trade, a liquidation, another bot.
    ``busy`` lists instruments with an order of ours still of open outcome (not judged);
    a position that expired in between is no change.

    Example: a perp at -60,000 USD, our fills of -5,000 USD, then -75,000 USD: an external
    change of -10,000 USD.
    """
    sizes: dict[Symbol, list[float]] = {}
    instruments: dict[Symbol, Instrument] = {}
    for i, snap in enumerate((before, after)):
        for pos in snap.positions:
            sym = pos.instrument.symbol
            sizes.setdefault(sym, [0.0, 0.0])[i] += pos.size
            instruments.setdefault(sym, pos.instrument)
    ours: dict[Symbol, list[Fill]] = {}
    for fill in fills:
        ours.setdefault(fill.symbol, []).append(fill)
    checks = [
        PositionCheck(instruments[sym], old, new, tuple(ours.get(sym, ())))
        for sym, (old, new) in sorted(sizes.items())
        if sym not in busy and not _expired_by(instruments[sym], after.ts_ms)
    ]
    return position_mismatches(checks)


def _expired_by(instrument: Instrument, ts_ms: int) -> bool:
    return instrument.expiry_ms is not None and instrument.expiry_ms <= ts_ms
