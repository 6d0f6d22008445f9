"""Decisions, orders and fills: why each hedge was chosen, what was sent, what traded.

An order is journaled PENDING, committed before it may be sent, and moves on
only by the transitions :func:`bot.domain.orders.check_transition` allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import (
    TERMINAL_STATES,
    Fill,
    OrderReport,
    OrderRequest,
    OrderState,
    Side,
    TimeInForce,
    check_transition,
)
from bot.domain.reconcile import OPEN_STATES, OrderRecord
from bot.domain.risk import OrderIntent, RiskLedger, Send
from bot.journal.db import Db
from bot.journal.errors import JournalError
from bot.journal.machine import StateMachine
from bot.journal.schema import row_fields

_ORDER_COLUMNS: Final = (
    "client_id, decision_id, venue, symbol, side, amount, limit_price, tif, post_only, "
    "reduce_only, state, filled_amount, venue_order_id, created_ts_ms, updated_ts_ms, limit_iv"
)


def _order_record(row: Sequence[Any]) -> OrderRecord:
    (cid, decision, venue, symbol, side, amount, limit_price, tif, post_only, reduce_only) = row[
        :10
    ]
    request = OrderRequest(
        ClientOrderId(cid),
        VenueId(venue),
        Symbol(symbol),
        Side(side),
        amount,
        limit_price,
        TimeInForce(tif),
        bool(post_only),
        bool(reduce_only),
        row[15],
    )
    state, filled, venue_order_id, created, updated = row[10:15]
    return OrderRecord(
        request, OrderState(state), decision, created, updated, filled, venue_order_id
    )


def _legal(_client_id: str, current: OrderState, new: OrderState) -> None:
    check_transition(current, new)


class OrderStore:
    """The ``decisions``, ``orders``, ``order_states`` and ``fills`` tables."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._machine = StateMachine[OrderRecord, OrderState](
            db,
            noun="order",
            table="orders",
            history="order_states",
            key="client_id",
            columns=_ORDER_COLUMNS,
            read=_order_record,
            states=OrderState,
            open_states=OPEN_STATES,
            rule=_legal,
        )

    # -- decisions ------------------------------------------------------------------------

    def record_decision(
        self,
        cycle_id: str,
        underlying: Currency,
        ts_ms: int,
        *,
        greeks: Mapping[str, float],
        inputs: Mapping[str, object],
        target_coin: float,
        reason: str,
    ) -> str:
        """Record why a cycle chose ``target_coin`` for ``underlying``; returns the decision id."""
        decision_id = f"{cycle_id}/{underlying}"
        row = {
            "decision_id": decision_id,
            "cycle_id": cycle_id,
            "ts_ms": ts_ms,
            "underlying": underlying,
            "greeks_json": json.dumps(dict(greeks), sort_keys=True),
            "inputs_json": json.dumps(dict(inputs), sort_keys=True, default=str),
            "target_coin": target_coin,
            "reason": reason,
        }
        with self._db.tx():
            if self._db.exists("decisions", "decision_id", decision_id):
                raise JournalError(f"decision {decision_id} is already journaled")
            self._db.insert("decisions", row)
        return decision_id

    def last_decisions(self) -> dict[Currency, dict[str, object]]:
        """Per underlying, the newest decision: when, the Greeks it used, target and reason."""
        rows = self._db.query(
            "SELECT d.underlying, d.ts_ms, d.greeks_json, d.target_coin, d.reason "
            "FROM decisions d JOIN (SELECT underlying, MAX(ts_ms) AS ts FROM decisions "
            "GROUP BY underlying) n ON d.underlying = n.underlying AND d.ts_ms = n.ts"
        )
        return {
            Currency(u): {
                "ts_ms": ts,
                "greeks": json.loads(greeks),
                "target_hedge_coin": target,
                "reason": reason,
            }
            for u, ts, greeks, target, reason in rows
        }

    def decision(self, decision_id: str) -> dict[str, object] | None:
        """One decision: when, the Greeks it used, its target and reason (None: unknown)."""
        row = self._db.one(
            "SELECT ts_ms, greeks_json, target_coin, reason FROM decisions WHERE decision_id = ?",
            (decision_id,),
        )
        if row is None:
            return None
        ts, greeks, target, reason = row
        return {
            "ts_ms": ts,
            "greeks": json.loads(greeks),
            "target_hedge_coin": target,
            "reason": reason,
        }

    # -- orders ---------------------------------------------------------------------------

    def record_intent(self, intent: OrderIntent, decision_id: str, ts_ms: int) -> OrderRecord:
        """Journal an order as PENDING, committed before returning: only then may it be sent.

        A client id journaled before is refused: it may already be live, and
        nothing is ever sent twice.
        """
        req = intent.order

        def known_decision() -> None:
            if not self._db.exists("decisions", "decision_id", decision_id):
                raise JournalError(f"order {req.client_id}: unknown decision {decision_id!r}")

        fields = {
            **row_fields(req),
            "decision_id": decision_id,
            "underlying": intent.underlying,
            "notional_usd": intent.notional_usd,
            "premium_usd": intent.premium_usd,
        }
        return self._machine.record(
            req.client_id,
            fields,
            OrderState.PENDING,
            ts_ms,
            check=known_decision,
            detail="journaled",
        )

    def get(self, client_id: ClientOrderId) -> OrderRecord:
        return self._machine.get(client_id)

    def mark(
        self,
        client_id: ClientOrderId,
        new_state: OrderState,
        ts_ms: int,
        report: OrderReport | None = None,
        detail: str = "",
        *,
        fills: Sequence[Fill] = (),
    ) -> OrderRecord:
        """Move an order to ``new_state`` (a legal transition only) and keep the report's facts.

        Repeating the current state records no transition but may raise the filled amount.
        ``fills`` (of this order) are stored in the same transaction as the move, so an
        order is never journaled FILLED without the fills that filled it.
        """

        def changes(current: OrderRecord) -> dict[str, object]:
            if report is None:
                return {}
            if report.client_id not in (None, client_id) or report.symbol != current.request.symbol:
                raise JournalError(
                    f"order {client_id} ({current.request.symbol}): report is for "
                    f"{report.client_id} on {report.symbol}"
                )
            return {
                "filled_amount": max(current.filled_amount, report.filled_amount),
                "average_price": report.average_price,
                "venue_order_id": report.venue_order_id,
            }

        def store_fills(current: OrderRecord) -> None:
            for fill in fills:
                if fill.client_id not in (None, client_id):
                    raise JournalError(
                        f"order {client_id}: fill {fill.trade_id} is for {fill.client_id}"
                    )
                self._insert_fill(fill, current.request.venue)

        return self._machine.mark(
            client_id, new_state, ts_ms, changes, then=store_fills, detail=detail
        )

    def missing_fills(self) -> tuple[OrderRecord, ...]:
        """Finished orders whose journaled fills sum to less than their filled amount (a
        crash between the two writes of an older deltabot): start-up repairs them."""
        terminal = ", ".join("?" * len(TERMINAL_STATES))
        return self._machine.where(
            f"state IN ({terminal}) AND filled_amount > 0 AND filled_amount > "
            "(SELECT COALESCE(SUM(f.amount), 0) FROM fills f "
            "WHERE f.venue = orders.venue AND f.client_id = orders.client_id) + 1e-9",
            tuple(TERMINAL_STATES),
        )

    def transitions(
        self, client_id: ClientOrderId
    ) -> tuple[tuple[OrderState | None, OrderState, int], ...]:
        """Every recorded ``(from, to, ts_ms)`` of an order, oldest first."""
        return self._machine.transitions(client_id)

    def open(self) -> tuple[OrderRecord, ...]:
        """Orders whose outcome reconciliation must still establish, oldest first."""
        return self._machine.open()

    def in_state(self, state: OrderState, since_ms: int) -> tuple[OrderRecord, ...]:
        """Orders now in ``state`` that were journaled at or after ``since_ms``, oldest first."""
        return self._machine.where("state = ? AND created_ts_ms >= ?", (state, since_ms))

    def since(self, since_ms: int) -> tuple[tuple[OrderRecord, Currency, float | None], ...]:
        """Orders journaled at or after ``since_ms`` with their underlying and average price."""
        rows = self._machine.rows(
            "created_ts_ms >= ?", (since_ms,), extra="underlying, average_price"
        )
        return tuple((_order_record(r[:-2]), Currency(r[-2]), r[-1]) for r in rows)

    def latest(self, limit: int) -> tuple[tuple[OrderRecord, Currency, float | None], ...]:
        """The ``limit`` orders journaled last, as :meth:`since` gives them, oldest first."""
        rows = self._machine.rows(
            "client_id IN (SELECT client_id FROM orders ORDER BY created_ts_ms DESC LIMIT ?)",
            (limit,),
            extra="underlying, average_price",
        )
        return tuple((_order_record(r[:-2]), Currency(r[-2]), r[-1]) for r in rows)

    def in_flight(self) -> dict[tuple[VenueId, Symbol], float]:
        """Signed amount (``amount_unit``, + buys) of open orders that may still fill."""
        totals: dict[tuple[VenueId, Symbol], float] = {}
        for record in self.open():
            req = record.request
            [(fills,)] = self._db.query(
                "SELECT COALESCE(SUM(amount), 0) FROM fills WHERE venue = ? AND client_id = ?",
                (req.venue, req.client_id),
            )
            remaining = max(0.0, req.amount - max(record.filled_amount, fills))
            key = (req.venue, req.symbol)
            totals[key] = totals.get(key, 0.0) + req.side.sign * remaining
        return totals

    def recent_sends(self, since_ms: int) -> RiskLedger:
        """Every order journaled at or after ``since_ms``, whatever became of it: an order
        the venue later rejected still counted against the caps when it was sent."""
        rows = self._db.query(
            "SELECT created_ts_ms, notional_usd, premium_usd FROM orders "
            "WHERE created_ts_ms >= ? ORDER BY created_ts_ms",
            (since_ms,),
        )
        return RiskLedger(tuple(Send(ts, notional, premium) for ts, notional, premium in rows))

    def last_send_ms(self) -> dict[Currency, int]:
        """Per underlying, when its newest order was journaled (the strategy's last hedge)."""
        rows = self._db.query(
            "SELECT underlying, MAX(created_ts_ms) FROM orders GROUP BY underlying"
        )
        return {Currency(u): ts for u, ts in rows}

    # -- fills ----------------------------------------------------------------------------

    def record_fill(self, fill: Fill, venue: VenueId | None = None) -> bool:
        """Store a fill once (keyed by venue and trade id); False if it was already there.

        ``venue`` defaults to that of the journaled order with the fill's client id.
        """
        with self._db.tx():
            if venue is None:
                sql = "SELECT venue FROM orders WHERE client_id = ?"
                row = self._db.one(sql, (fill.client_id,))
                if row is None:
                    raise JournalError(
                        f"fill {fill.trade_id}: client id {fill.client_id} is not journaled; "
                        "pass its venue"
                    )
                venue = VenueId(row[0])
            return self._insert_fill(fill, venue)

    def _insert_fill(self, fill: Fill, venue: VenueId) -> bool:
        return self._db.insert("fills", {"venue": venue, **row_fields(fill)}, or_ignore=True)

    def fills(
        self, venue: VenueId, *, since_ms: int, symbol: Symbol | None = None
    ) -> tuple[Fill, ...]:
        """Fills on ``venue`` (optionally one symbol) with ``ts_ms >= since_ms``, oldest first."""
        return self._fills(
            "venue = ? AND ts_ms >= ? AND (? IS NULL OR symbol = ?)",
            (venue, since_ms, symbol, symbol),
        )

    def our_fills(self, venue: VenueId, *, since_ms: int) -> tuple[Fill, ...]:
        """Fills on ``venue`` with ``ts_ms >= since_ms`` of orders we journaled (a venue's
        trade list may also hold trades of orders that are not ours), oldest first."""
        return self._fills(
            "venue = ? AND ts_ms >= ? AND client_id IN "
            "(SELECT client_id FROM orders WHERE venue = ?)",
            (venue, since_ms, venue),
        )

    def fills_between(self, since_ms: int, until_ms: int) -> tuple[tuple[VenueId, Fill], ...]:
        """Every venue's fills with ``since_ms <= ts_ms < until_ms``, with their venue,
        oldest first."""
        return self._venue_fills("ts_ms >= ? AND ts_ms < ?", (since_ms, until_ms))

    def fills_of(self, venue: VenueId, client_id: ClientOrderId) -> tuple[Fill, ...]:
        """The fills journaled for one order, oldest first."""
        return self._fills("venue = ? AND client_id = ?", (venue, client_id))

    def _fills(self, condition: str, params: Sequence[object]) -> tuple[Fill, ...]:
        return tuple(fill for _, fill in self._venue_fills(condition, params))

    def _venue_fills(
        self, condition: str, params: Sequence[object]
    ) -> tuple[tuple[VenueId, Fill], ...]:
        rows = self._db.query(
            "SELECT venue, trade_id, client_id, venue_order_id, symbol, side, amount, price, fee, "
            f"fee_currency, ts_ms FROM fills WHERE {condition} ORDER BY ts_ms, trade_id",
            params,
        )
        return tuple(
            (
                VenueId(venue),
                Fill(
                    tid,
                    ClientOrderId(cid) if cid else None,
                    vid,
                    Symbol(sym),
                    Side(side),
                    amount,
                    price,
                    fee,
                    Currency(fee_ccy),
                    ts,
                ),
            )
            for venue, tid, cid, vid, sym, side, amount, price, fee, fee_ccy, ts in rows
        )
