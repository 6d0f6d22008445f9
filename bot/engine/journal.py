"""The journal: the durable truth for our intents (ARCHITECTURE §5).

SQLite in WAL mode with ``synchronous=FULL``: a method returns only after its
transaction is committed to disk, so an order journaled by
:meth:`Journal.record_intent` survives a crash that happens while it is being
sent. One journal file per account set, guarded by an exclusive ``flock`` on a
sidecar ``.lock`` file so two daemons never trade the same accounts. Time is a
parameter: the journal never reads the clock.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
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
    TransferId,
    TransferKind,
    TransferReport,
    TransferRequest,
    TransferState,
    check_transition,
)
from bot.domain.reconcile import OPEN_STATES, OrderRecord
from bot.domain.risk import OrderIntent, RiskLedger, Send
from bot.domain.trading_state import INITIAL_STATE, SetBy, TradingMode, TradingState

SCHEMA_VERSION: Final = 1
"""Stored in ``PRAGMA user_version``; a journal with a higher one is refused."""

_OPEN_TRANSFER_STATES: Final = frozenset(
    {
        TransferState.PENDING,
        TransferState.SUBMITTED,
        TransferState.UNKNOWN,
        TransferState.PROCESSING,
    }
)


def _one_of(enum: type[OrderState] | type[TransferState] | type[Side]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


_SCHEMA: Final = f"""
CREATE TABLE decisions (
    decision_id TEXT PRIMARY KEY, cycle_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    underlying TEXT NOT NULL, greeks_json TEXT NOT NULL, inputs_json TEXT NOT NULL,
    target_coin REAL NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE orders (
    client_id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL REFERENCES decisions(decision_id),
    venue TEXT NOT NULL, symbol TEXT NOT NULL, underlying TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ({_one_of(Side)})),
    amount REAL NOT NULL CHECK (amount > 0), limit_price REAL, tif TEXT NOT NULL,
    post_only INTEGER NOT NULL, reduce_only INTEGER NOT NULL,
    notional_usd REAL NOT NULL CHECK (notional_usd > 0),
    state TEXT NOT NULL CHECK (state IN ({_one_of(OrderState)})),
    filled_amount REAL NOT NULL DEFAULT 0, average_price REAL, venue_order_id TEXT,
    created_ts_ms INTEGER NOT NULL, updated_ts_ms INTEGER NOT NULL
);
CREATE INDEX orders_state ON orders(state);
CREATE INDEX orders_created ON orders(created_ts_ms);
CREATE TABLE order_states (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL REFERENCES orders(client_id),
    from_state TEXT, to_state TEXT NOT NULL, ts_ms INTEGER NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE fills (
    venue TEXT NOT NULL, trade_id TEXT NOT NULL, client_id TEXT, venue_order_id TEXT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL CHECK (side IN ({_one_of(Side)})),
    amount REAL NOT NULL, price REAL NOT NULL, fee REAL NOT NULL, fee_currency TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, PRIMARY KEY (venue, trade_id)
);
CREATE INDEX fills_client ON fills(client_id);
CREATE TABLE transfers (
    transfer_id TEXT PRIMARY KEY, decision_id TEXT REFERENCES decisions(decision_id),
    venue TEXT NOT NULL, kind TEXT NOT NULL, currency TEXT NOT NULL,
    amount REAL NOT NULL CHECK (amount > 0), destination TEXT NOT NULL, network TEXT,
    state TEXT NOT NULL CHECK (state IN ({_one_of(TransferState)})),
    venue_transfer_id TEXT, fee REAL, created_ts_ms INTEGER NOT NULL, updated_ts_ms INTEGER NOT NULL
);
CREATE TABLE transfer_states (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer_id TEXT NOT NULL REFERENCES transfers(transfer_id),
    from_state TEXT, to_state TEXT NOT NULL, ts_ms INTEGER NOT NULL
);
CREATE TABLE trading_states (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, mode TEXT NOT NULL, reason TEXT NOT NULL,
    set_by TEXT NOT NULL, ts_ms INTEGER NOT NULL
);
PRAGMA user_version = {SCHEMA_VERSION};
"""

_ORDER_COLUMNS: Final = (
    "client_id, decision_id, venue, symbol, side, amount, limit_price, tif, post_only, "
    "reduce_only, state, filled_amount, venue_order_id, created_ts_ms, updated_ts_ms"
)
_TRANSFER_COLUMNS: Final = (
    "transfer_id, venue, kind, currency, amount, destination, network, state, "
    "venue_transfer_id, created_ts_ms, updated_ts_ms"
)


class JournalError(RuntimeError):
    """The journal cannot do what was asked; the message says why."""


class JournalLockedError(JournalError):
    """Another process holds the journal's lock."""


@dataclass(frozen=True, slots=True)
class TransferRecord:
    request: TransferRequest
    state: TransferState
    created_ts_ms: int
    updated_ts_ms: int
    venue_transfer_id: str | None = None


def _lock(path: Path) -> int:
    """Hold an exclusive ``flock`` on ``<journal>.lock`` and write our pid into it."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise JournalLockedError(
            f"journal {path} is in use by pid {holder} (lock file {lock_path}): "
            "only one deltabot may run per journal; stop it first"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        conn.close()
        raise JournalError(f"journal {path}: cannot switch to WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    if version == 0 and tables == 0:
        conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
    elif version == 0:
        conn.close()
        raise JournalError(f"{path} is an SQLite file but not a deltabot journal")
    elif version > SCHEMA_VERSION:
        conn.close()
        raise JournalError(
            f"journal {path} has schema version {version}, newer than this deltabot understands "
            f"({SCHEMA_VERSION}): upgrade deltabot, never downgrade a journal"
        )
    return conn


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


def _transfer_record(row: Sequence[Any]) -> TransferRecord:
    tid, venue, kind, currency, amount, destination, network, state, vtid, created, updated = row
    request = TransferRequest(
        TransferId(tid),
        VenueId(venue),
        TransferKind(kind),
        Currency(currency),
        amount,
        destination,
        network,
    )
    return TransferRecord(request, TransferState(state), created, updated, vtid)


def _fields(value: OrderRequest | Fill | TransferRequest) -> dict[str, object]:
    return {f.name: getattr(value, f.name) for f in fields(value)}


def _insert(
    db: sqlite3.Connection, table: str, values: Mapping[str, object], *, or_ignore: bool = False
) -> bool:
    """Insert one row of ``column: value`` (names from code, never from input); False if
    ``or_ignore`` skipped it as a duplicate."""
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    columns, marks = ", ".join(values), ", ".join("?" * len(values))
    cursor = db.execute(f"{verb} INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))
    return cursor.rowcount == 1


def _exists(db: sqlite3.Connection, table: str, column: str, key: str | None) -> bool:
    return db.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (key,)).fetchone() is not None


class Journal:
    """One open journal file; build it with :meth:`open`, close it (or use ``with``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd: int | None = lock_fd

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Lock, open (creating it if new) and check the journal at ``path``."""
        journal_path = Path(path)
        fd = _lock(journal_path)
        try:
            conn = _connect(journal_path)
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
            if _exists(db, "decisions", "decision_id", decision_id):
                raise JournalError(f"decision {decision_id} is already journaled")
            _insert(db, "decisions", row)
        return decision_id

    def record_intent(self, intent: OrderIntent, decision_id: str, ts_ms: int) -> OrderRecord:
        """Journal an order as PENDING, committed before returning: only then may it be sent.

        A client id journaled before is refused: it may already be live, and
        nothing is ever sent twice.
        """
        req = intent.order
        with self._tx() as db:
            if _exists(db, "orders", "client_id", req.client_id):
                raise JournalError(f"order {req.client_id} is already journaled: never resend")
            if not _exists(db, "decisions", "decision_id", decision_id):
                raise JournalError(f"order {req.client_id}: unknown decision {decision_id!r}")
            row = {
                **_fields(req),
                "decision_id": decision_id,
                "underlying": intent.underlying,
                "notional_usd": intent.notional_usd,
                "state": OrderState.PENDING,
                "created_ts_ms": ts_ms,
                "updated_ts_ms": ts_ms,
            }
            _insert(db, "orders", row)
            history = {"client_id": req.client_id, "to_state": OrderState.PENDING, "ts_ms": ts_ms}
            _insert(db, "order_states", {**history, "detail": "journaled"})
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
                _insert(
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
            return _insert(db, "fills", {"venue": venue, **_fields(fill)}, or_ignore=True)

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
            _insert(db, "trading_states", {**row, "ts_ms": state.ts_ms})

    # -- transfers ------------------------------------------------------------------------

    def record_transfer(
        self, request: TransferRequest, ts_ms: int, decision_id: str | None = None
    ) -> TransferRecord:
        """Journal a transfer as PENDING before it is sent; a known id is refused."""
        with self._tx() as db:
            if _exists(db, "transfers", "transfer_id", request.transfer_id):
                raise JournalError(f"transfer {request.transfer_id} is already journaled")
            row = {
                **_fields(request),
                "decision_id": decision_id,
                "state": TransferState.PENDING,
                "created_ts_ms": ts_ms,
                "updated_ts_ms": ts_ms,
            }
            _insert(db, "transfers", row)
            history = {"transfer_id": request.transfer_id, "to_state": TransferState.PENDING}
            _insert(db, "transfer_states", {**history, "ts_ms": ts_ms})
        return self.transfer(request.transfer_id)

    def transfer(self, transfer_id: TransferId) -> TransferRecord:
        row = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE transfer_id = ?", (transfer_id,)
        ).fetchone()
        if row is None:
            raise JournalError(f"transfer {transfer_id} is not in the journal")
        return _transfer_record(row)

    def mark_transfer(
        self,
        transfer_id: TransferId,
        new_state: TransferState,
        ts_ms: int,
        report: TransferReport | None = None,
    ) -> TransferRecord:
        """Move a transfer on; a finished one (completed, failed, canceled) never changes."""
        with self._tx() as db:
            current = self.transfer(transfer_id)
            finished = current.state not in _OPEN_TRANSFER_STATES
            if finished and new_state is not current.state:
                raise JournalError(
                    f"transfer {transfer_id} is {current.state.value}: cannot become "
                    f"{new_state.value}"
                )
            db.execute(
                "UPDATE transfers SET state = ?, updated_ts_ms = ?, "
                "venue_transfer_id = COALESCE(?, venue_transfer_id), fee = COALESCE(?, fee) "
                "WHERE transfer_id = ?",
                (
                    new_state,
                    ts_ms,
                    report.venue_transfer_id if report else None,
                    report.fee if report else None,
                    transfer_id,
                ),
            )
            if new_state is not current.state:
                history = {"transfer_id": transfer_id, "from_state": current.state}
                _insert(db, "transfer_states", {**history, "to_state": new_state, "ts_ms": ts_ms})
        return self.transfer(transfer_id)

    def open_transfers(self) -> tuple[TransferRecord, ...]:
        """Transfers not yet completed, failed or canceled, oldest first."""
        marks = ", ".join("?" * len(_OPEN_TRANSFER_STATES))
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE state IN ({marks}) "
            "ORDER BY created_ts_ms, transfer_id",
            tuple(_OPEN_TRANSFER_STATES),
        ).fetchall()
        return tuple(_transfer_record(r) for r in rows)
