"""The journal: the durable truth for our intents (docs/architecture.md §5).

SQLite in WAL mode with ``synchronous=FULL``: a method returns only after its
transaction is committed to disk, so an order journaled by
:meth:`Journal.record_intent` survives a crash that happens while it is being
sent. One journal file per account set, guarded by an exclusive ``flock`` on a
sidecar ``.lock`` file so two daemons never trade the same accounts. Time is a
parameter: the journal never reads the clock.

The parts live beside it: ``journal_schema`` (tables, connection settings),
``journal_lock`` (the lock file), ``journal_transfers`` (transfer records) and
``journal_errors``; import them all from here.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import (
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
from bot.domain.trading_state import INITIAL_STATE, SetBy, TradingMode, TradingState
from bot.journal.errors import JournalError, JournalLockedError
from bot.journal.lock import lock
from bot.journal.plans import PlanJournal, PlanRecord, PlanState
from bot.journal.schema import SCHEMA_VERSION, connect, exists, insert, row_fields
from bot.journal.transfers import TransferJournal, TransferRecord

__all__ = [
    "SCHEMA_VERSION",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "PlanRecord",
    "PlanState",
    "TransferRecord",
]

_ORDER_COLUMNS: Final = (
    "client_id, decision_id, venue, symbol, side, amount, limit_price, tif, post_only, "
    "reduce_only, state, filled_amount, venue_order_id, created_ts_ms, updated_ts_ms"
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
    )
    state, filled, venue_order_id, created, updated = row[10:]
    return OrderRecord(
        request, OrderState(state), decision, created, updated, filled, venue_order_id
    )


class Journal(TransferJournal, PlanJournal):
    """One open journal file; build it with :meth:`open`, close it (or use ``with``).

    The transfer methods come from :class:`~bot.journal.transfers.TransferJournal`,
    the collateral plan methods from :class:`~bot.journal.plans.PlanJournal`.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd: int | None = lock_fd

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Lock, open (creating it if new) and check the journal at ``path``."""
        journal_path = Path(path)
        fd = lock(journal_path)
        return cls._connect(journal_path, fd)

    @classmethod
    def open_control(cls, path: str | os.PathLike[str]) -> Journal:
        """Open an existing journal *beside* a running daemon, for operator commands.

        ``deltabot halt``/``resume``/``status`` must work while the daemon holds
        the lock; SQLite's own locking keeps the writes safe, and the daemon
        reads the trading state at the start of every cycle. Never used to trade.
        """
        journal_path = Path(path)
        if not journal_path.exists():
            raise JournalError(f"no journal at {journal_path}: has the daemon ever run here?")
        return cls._connect(journal_path, os.open(os.devnull, os.O_RDONLY))

    @classmethod
    def _connect(cls, journal_path: Path, fd: int) -> Journal:
        try:
            conn = connect(journal_path)
        except BaseException:
            os.close(fd)
            raise
        return cls(journal_path, conn, fd)

    def close(self) -> None:
        """Close the database and release the lock; closing twice is harmless."""
        if self._lock_fd is None:
            return
        self._conn.close()
        os.close(self._lock_fd)  # closing the descriptor releases the flock
        self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One committed transaction: with synchronous=FULL, on disk when this exits."""
        if self._lock_fd is None:
            raise JournalError(f"journal {self.path} is closed")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- decisions and orders -------------------------------------------------------------

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
        with self._tx() as db:
            if exists(db, "decisions", "decision_id", decision_id):
                raise JournalError(f"decision {decision_id} is already journaled")
            insert(db, "decisions", row)
        return decision_id

    def record_intent(self, intent: OrderIntent, decision_id: str, ts_ms: int) -> OrderRecord:
        """Journal an order as PENDING, committed before returning: only then may it be sent.

        A client id journaled before is refused: it may already be live, and
        nothing is ever sent twice.
        """
        req = intent.order
        with self._tx() as db:
            if exists(db, "orders", "client_id", req.client_id):
                raise JournalError(f"order {req.client_id} is already journaled: never resend")
            if not exists(db, "decisions", "decision_id", decision_id):
                raise JournalError(f"order {req.client_id}: unknown decision {decision_id!r}")
            row = {
                **row_fields(req),
                "decision_id": decision_id,
                "underlying": intent.underlying,
                "notional_usd": intent.notional_usd,
                "state": OrderState.PENDING,
                "created_ts_ms": ts_ms,
                "updated_ts_ms": ts_ms,
            }
            insert(db, "orders", row)
            history = {"client_id": req.client_id, "to_state": OrderState.PENDING, "ts_ms": ts_ms}
            insert(db, "order_states", {**history, "detail": "journaled"})
        return self.order(req.client_id)

    def order(self, client_id: ClientOrderId) -> OrderRecord:
        row = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_id = ?", (client_id,)
        ).fetchone()
        if row is None:
            raise JournalError(f"order {client_id} is not in the journal")
        return _order_record(row)

    def mark(
        self,
        client_id: ClientOrderId,
        new_state: OrderState,
        ts_ms: int,
        report: OrderReport | None = None,
        detail: str = "",
    ) -> OrderRecord:
        """Move an order to ``new_state`` (a legal transition only) and keep the report's facts.

        Repeating the current state records no transition but may raise the filled amount.
        """
        with self._tx() as db:
            current = self.order(client_id)
            check_transition(current.state, new_state)
            if report is not None and (
                report.client_id not in (None, client_id) or report.symbol != current.request.symbol
            ):
                raise JournalError(
                    f"order {client_id} ({current.request.symbol}): report is for "
                    f"{report.client_id} on {report.symbol}"
                )
            filled = max(current.filled_amount, report.filled_amount if report else 0.0)
            db.execute(
                "UPDATE orders SET state = ?, filled_amount = ?, updated_ts_ms = ?, "
                "average_price = COALESCE(?, average_price), "
                "venue_order_id = COALESCE(?, venue_order_id) WHERE client_id = ?",
                (
                    new_state,
                    filled,
                    ts_ms,
                    report.average_price if report else None,
                    report.venue_order_id if report else None,
                    client_id,
                ),
            )
            if new_state is not current.state:
                history = {"client_id": client_id, "from_state": current.state}
                insert(
                    db,
                    "order_states",
                    {**history, "to_state": new_state, "ts_ms": ts_ms, "detail": detail},
                )
        return self.order(client_id)

    def transitions(
        self, client_id: ClientOrderId
    ) -> tuple[tuple[OrderState | None, OrderState, int], ...]:
        """Every recorded ``(from, to, ts_ms)`` of an order, oldest first."""
        rows = self._conn.execute(
            "SELECT from_state, to_state, ts_ms FROM order_states WHERE client_id = ? ORDER BY seq",
            (client_id,),
        ).fetchall()
        return tuple((OrderState(f) if f else None, OrderState(t), ts) for f, t, ts in rows)

    def open_intents(self) -> tuple[OrderRecord, ...]:
        """Orders whose outcome reconciliation must still establish, oldest first."""
        marks = ", ".join("?" * len(OPEN_STATES))
        rows = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE state IN ({marks}) "
            "ORDER BY created_ts_ms, client_id",
            tuple(OPEN_STATES),
        ).fetchall()
        return tuple(_order_record(r) for r in rows)

    def orders_in_state(self, state: OrderState, since_ms: int) -> tuple[OrderRecord, ...]:
        """Orders now in ``state`` that were journaled at or after ``since_ms``, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE state = ? AND created_ts_ms >= ? "
            "ORDER BY created_ts_ms, client_id",
            (state, since_ms),
        ).fetchall()
        return tuple(_order_record(r) for r in rows)

    def in_flight(self) -> dict[tuple[VenueId, Symbol], float]:
        """Signed amount (``amount_unit``, + buys) of open orders that may still fill."""
        totals: dict[tuple[VenueId, Symbol], float] = {}
        for record in self.open_intents():
            fills = self._conn.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM fills WHERE venue = ? AND client_id = ?",
                (record.request.venue, record.request.client_id),
            ).fetchone()[0]
            req = record.request
            remaining = max(0.0, req.amount - max(record.filled_amount, fills))
            key = (req.venue, req.symbol)
            totals[key] = totals.get(key, 0.0) + req.side.sign * remaining
        return totals

    def recent_sends(self, since_ms: int) -> RiskLedger:
        """Every order journaled at or after ``since_ms``, whatever became of it: an order
        the venue later rejected still counted against the caps when it was sent."""
        rows = self._conn.execute(
            "SELECT created_ts_ms, notional_usd FROM orders WHERE created_ts_ms >= ? "
            "ORDER BY created_ts_ms",
            (since_ms,),
        ).fetchall()
        return RiskLedger(tuple(Send(ts, notional) for ts, notional in rows))

    # -- fills ----------------------------------------------------------------------------

    def record_fill(self, fill: Fill, venue: VenueId | None = None) -> bool:
        """Store a fill once (keyed by venue and trade id); False if it was already there.

        ``venue`` defaults to that of the journaled order with the fill's client id.
        """
        with self._tx() as db:
            if venue is None:
                row = db.execute(
                    "SELECT venue FROM orders WHERE client_id = ?", (fill.client_id,)
                ).fetchone()
                if row is None:
                    raise JournalError(
                        f"fill {fill.trade_id}: client id {fill.client_id} is not journaled; "
                        "pass its venue"
                    )
                venue = VenueId(row[0])
            return insert(db, "fills", {"venue": venue, **row_fields(fill)}, or_ignore=True)

    def fills(
        self, venue: VenueId, *, since_ms: int, symbol: Symbol | None = None
    ) -> tuple[Fill, ...]:
        """Fills on ``venue`` (optionally one symbol) with ``ts_ms >= since_ms``, oldest first."""
        rows = self._conn.execute(
            "SELECT trade_id, client_id, venue_order_id, symbol, side, amount, price, fee, "
            "fee_currency, ts_ms FROM fills WHERE venue = ? AND ts_ms >= ? "
            "AND (? IS NULL OR symbol = ?) ORDER BY ts_ms, trade_id",
            (venue, since_ms, symbol, symbol),
        ).fetchall()
        return tuple(
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
            )
            for tid, cid, vid, sym, side, amount, price, fee, fee_ccy, ts in rows
        )

    # -- trading state --------------------------------------------------------------------

    def trading_state(self) -> TradingState:
        """The last state set, or ACTIVE for a journal that never recorded one."""
        row = self._conn.execute(
            "SELECT mode, reason, set_by, ts_ms FROM trading_states ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return INITIAL_STATE
        return TradingState(TradingMode(row[0]), row[1], SetBy(row[2]), row[3])

    def set_trading_state(self, state: TradingState) -> None:
        """Persist ``state`` (decide it with :func:`bot.domain.trading_state.transition`)."""
        with self._tx() as db:
            row = {"mode": state.mode, "reason": state.reason, "set_by": state.set_by}
            insert(db, "trading_states", {**row, "ts_ms": state.ts_ms})

    def last_decisions(self) -> dict[Currency, dict[str, object]]:
        """Per underlying, the newest decision: when, the Greeks it used, target and reason."""
        rows = self._conn.execute(
            "SELECT d.underlying, d.ts_ms, d.greeks_json, d.target_coin, d.reason "
            "FROM decisions d JOIN (SELECT underlying, MAX(ts_ms) AS ts FROM decisions "
            "GROUP BY underlying) n ON d.underlying = n.underlying AND d.ts_ms = n.ts"
        ).fetchall()
        return {
            Currency(u): {
                "ts_ms": ts,
                "greeks": json.loads(greeks),
                "target_hedge_coin": target,
                "reason": reason,
            }
            for u, ts, greeks, target, reason in rows
        }

    # -- locked underlyings -----------------------------------------------------------------

    def lock_underlying(self, underlying: Currency, reason: str, ts_ms: int) -> None:
        """Stop hedging ``underlying`` until an operator resumes (e.g. a position mismatch)."""
        with self._tx() as db:
            insert(db, "locks", {"underlying": underlying, "reason": reason, "ts_ms": ts_ms})

    def locks(self) -> dict[Currency, str]:
        """Locked underlyings and the reason of the first lock of each."""
        rows = self._conn.execute(
            "SELECT underlying, reason FROM locks WHERE cleared_ts_ms IS NULL ORDER BY seq"
        ).fetchall()
        found: dict[Currency, str] = {}
        for underlying, reason in rows:
            found.setdefault(Currency(underlying), reason)
        return found

    def clear_locks(self, ts_ms: int) -> int:
        """Lift every lock (an operator's resume); returns how many were lifted."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE locks SET cleared_ts_ms = ? WHERE cleared_ts_ms IS NULL", (ts_ms,)
            )
        return cursor.rowcount

    def last_send_ms(self) -> dict[Currency, int]:
        """Per underlying, when its newest order was journaled (the strategy's last hedge)."""
        rows = self._conn.execute(
            "SELECT underlying, MAX(created_ts_ms) FROM orders GROUP BY underlying"
        ).fetchall()
        return {Currency(u): ts for u, ts in rows}

    def orders_since(self, since_ms: int) -> tuple[tuple[OrderRecord, Currency, float | None], ...]:
        """Orders journaled at or after ``since_ms`` with their underlying and average price."""
        rows = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS}, underlying, average_price FROM orders "
            "WHERE created_ts_ms >= ? ORDER BY created_ts_ms, client_id",
            (since_ms,),
        ).fetchall()
        return tuple((_order_record(r[:-2]), Currency(r[-2]), r[-1]) for r in rows)
