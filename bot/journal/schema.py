"""The journal's tables and connection settings, and how a record maps onto a row.

The DDL's CHECK constraints are built from the domain enums so the database
refuses a state or side the code does not know.
"""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import Final

from bot.domain.orders import Fill, OrderRequest, OrderState, Side, TransferRequest, TransferState
from bot.journal.errors import JournalFileError
from bot.journal.file import file_error, quick_check
from bot.journal.option_proposals import ProposalState

SCHEMA_VERSION: Final = 12
"""Stored in ``PRAGMA user_version``; a journal with a higher one is refused.

Version 2 added ``locks`` (underlyings the engine stopped hedging), version 3
``collateral_plans`` (plans awaiting or given an operator's approval), version 4
``venue_reductions`` (venues where only reducing orders may go), version 5
``external_changes`` (positions that moved with no order of ours), version 6
``equities`` (each cycle's coin equity per underlying, for P&L attribution), version 7
``operator_actions`` (who did what from the dashboard, and why), version 8 ``alerts``
(every alert raised, with its delivery per channel), version 9 ``equities.linear_usd``
(the USD equity of USD-settled accounts per underlying) and ``funding`` (funding payments
as the venues report them, once each), version 10 ``option_proposals`` (option-hedge
proposals awaiting, given or past an operator's approval) and ``orders.limit_iv`` (an
option order's limit as an implied vol), version 11 ``paper_book`` and ``paper_cash``
(a paper venue's positions and cash, so a shadow book survives a restart), version 12
``orders.premium_usd`` (the option premium an order moves at its limit, for the risk
gate's premium caps); an older journal is migrated in place when opened."""


def _one_of(
    enum: type[OrderState] | type[TransferState] | type[Side] | type[ProposalState],
) -> str:
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
"""
_LOCKS: Final = """
CREATE TABLE locks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, underlying TEXT NOT NULL, reason TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, cleared_ts_ms INTEGER
);
"""
_PLANS: Final = """
CREATE TABLE collateral_plans (
    plan_id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, status TEXT NOT NULL,
    status_ts_ms INTEGER NOT NULL, plan_json TEXT NOT NULL
);
"""
_VENUE_REDUCTIONS: Final = """
CREATE TABLE venue_reductions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, reason TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, cleared_ts_ms INTEGER
);
"""
_EXTERNAL_CHANGES: Final = """
CREATE TABLE external_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, symbol TEXT NOT NULL,
    underlying TEXT NOT NULL, change REAL NOT NULL, change_usd REAL NOT NULL,
    ts_ms INTEGER NOT NULL
);
"""
_EQUITIES: Final = """
CREATE TABLE equities (
    decision_id TEXT PRIMARY KEY REFERENCES decisions(decision_id),
    equity_coin REAL NOT NULL
);
CREATE INDEX decisions_ts ON decisions(ts_ms);
CREATE INDEX fills_ts ON fills(ts_ms);
"""
_OPERATOR_ACTIONS: Final = """
CREATE TABLE operator_actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL, outcome TEXT NOT NULL
);
"""
_ALERTS: Final = """
CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    severity TEXT NOT NULL, key TEXT NOT NULL, message TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 1), resolved INTEGER NOT NULL,
    fields_json TEXT NOT NULL, delivery_json TEXT NOT NULL
);
CREATE INDEX alerts_ts ON alerts(ts_ms);
"""
_FUNDING: Final = """
ALTER TABLE equities ADD COLUMN linear_usd REAL NOT NULL DEFAULT 0;
CREATE TABLE funding (
    venue TEXT NOT NULL, payment_id TEXT NOT NULL, symbol TEXT NOT NULL,
    underlying TEXT NOT NULL, ts_ms INTEGER NOT NULL, amount REAL NOT NULL,
    currency TEXT NOT NULL, PRIMARY KEY (venue, payment_id)
);
CREATE INDEX funding_ts ON funding(ts_ms);
"""
_OPTION_PROPOSALS: Final = f"""
CREATE TABLE option_proposals (
    proposal_id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, underlying TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({_one_of(ProposalState)})),
    status_ts_ms INTEGER NOT NULL, expires_ts_ms INTEGER NOT NULL, proposal_json TEXT NOT NULL
);
CREATE INDEX option_proposals_underlying ON option_proposals(underlying, ts_ms);
ALTER TABLE orders ADD COLUMN limit_iv REAL;
"""
_PAPER: Final = """
CREATE TABLE paper_book (
    venue TEXT NOT NULL, symbol TEXT NOT NULL, size REAL NOT NULL, basis REAL NOT NULL,
    PRIMARY KEY (venue, symbol)
);
CREATE TABLE paper_cash (
    venue TEXT NOT NULL, currency TEXT NOT NULL, amount REAL NOT NULL,
    PRIMARY KEY (venue, currency)
);
"""
_ORDER_PREMIUM: Final = """
ALTER TABLE orders ADD COLUMN premium_usd REAL NOT NULL DEFAULT 0 CHECK (premium_usd >= 0);
"""
_MIGRATIONS: Final = {
    1: _LOCKS,
    2: _PLANS,
    3: _VENUE_REDUCTIONS,
    4: _EXTERNAL_CHANGES,
    5: _EQUITIES,
    6: _OPERATOR_ACTIONS,
    7: _ALERTS,
    8: _FUNDING,
    9: _OPTION_PROPOSALS,
    10: _PAPER,
    11: _ORDER_PREMIUM,
}
"""DDL that takes a journal from version ``key`` to ``key + 1``."""


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with synchronous=FULL and foreign keys on, creating the
    schema in a new file; JournalFileError for a non-journal, a corrupt one (``PRAGMA
    quick_check``), one from a newer deltabot, or any SQLite error on it."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise file_error(path, exc) from exc
    try:
        _prepare(path, conn)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise file_error(path, exc) from exc
        raise
    return conn


def _prepare(path: Path, conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise JournalFileError(f"journal {path}: cannot switch to WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")  # an operator command may write beside the daemon
    conn.execute("PRAGMA foreign_keys=ON")
    quick_check(path, conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    if version == 0 and tables == 0:
        ddl = _SCHEMA + "".join(_MIGRATIONS.values())
        conn.executescript(f"BEGIN IMMEDIATE;{ddl}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")
    elif version == 0:
        raise JournalFileError(f"journal {path} is an SQLite database but not a deltabot journal")
    elif version > SCHEMA_VERSION:
        raise JournalFileError(
            f"journal {path} has schema version {version}, newer than this deltabot understands "
            f"({SCHEMA_VERSION}): upgrade deltabot, never downgrade a journal"
        )
    for old in range(version, SCHEMA_VERSION) if version else ():
        conn.executescript(
            f"BEGIN IMMEDIATE;{_MIGRATIONS[old]}PRAGMA user_version = {old + 1};COMMIT;"
        )


def row_fields(value: OrderRequest | Fill | TransferRequest) -> dict[str, object]:
    """A dataclass's fields as ``column: value``: the tables use the same names."""
    return {f.name: getattr(value, f.name) for f in fields(value)}
