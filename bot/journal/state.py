"""The operator's switches: the trading state, the underlyings the engine stopped hedging and
the venues where it may only reduce.

A halt marker beside the journal (:mod:`bot.journal.marker`) overrides the
trading state recorded in it: it halts even a journal that cannot be read."""

from __future__ import annotations

from pathlib import Path

from bot.domain.ids import Currency, VenueId
from bot.domain.trading_state import INITIAL_STATE, SetBy, TradingMode, TradingState
from bot.journal.db import Db
from bot.journal.marker import read_halt_marker


class StateStore:
    """The ``trading_states``, ``locks`` and ``venue_reductions`` tables, and the halt marker
    beside the journal at ``journal_path``."""

    def __init__(self, db: Db, journal_path: Path) -> None:
        self._db = db
        self._journal_path = journal_path

    def trading_state(self) -> TradingState:
        """The halt marker's HALTED if there is one, else the last state set, or ACTIVE for a
        journal that never recorded one."""
        marked = read_halt_marker(self._journal_path)
        if marked is not None:
            return marked
        row = self._db.one(
            "SELECT mode, reason, set_by, ts_ms FROM trading_states ORDER BY seq DESC LIMIT 1"
        )
        if row is None:
            return INITIAL_STATE
        return TradingState(TradingMode(row[0]), row[1], SetBy(row[2]), row[3])

    def set_trading_state(self, state: TradingState) -> None:
        """Persist ``state`` (decide it with :func:`bot.domain.trading_state.transition`)."""
        row = {"mode": state.mode, "reason": state.reason, "set_by": state.set_by}
        with self._db.tx():
            self._db.insert("trading_states", {**row, "ts_ms": state.ts_ms})

    def lock_underlying(self, underlying: Currency, reason: str, ts_ms: int) -> None:
        """Stop hedging ``underlying`` until an operator resumes (e.g. a position mismatch)."""
        self._restrict("locks", "underlying", underlying, reason, ts_ms)

    def locks(self) -> dict[Currency, str]:
        """Locked underlyings and the reason of the first lock of each."""
        return {Currency(u): r for u, r in self._active("locks", "underlying").items()}

    def reduce_venue(self, venue: VenueId, reason: str, ts_ms: int) -> None:
        """Only orders that shrink a position may go to ``venue`` until an operator resumes
        (e.g. its margin floor cannot be restored); the other venues trade on."""
        self._restrict("venue_reductions", "venue", venue, reason, ts_ms)

    def reducing_venues(self) -> dict[VenueId, str]:
        """Venues restricted to reducing orders, and the reason of the first restriction."""
        return {VenueId(v): r for v, r in self._active("venue_reductions", "venue").items()}

    def _restrict(self, table: str, column: str, key: str, reason: str, ts_ms: int) -> None:
        """Record one restriction until an operator's resume clears it (names from code)."""
        with self._db.tx():
            self._db.insert(table, {column: key, "reason": reason, "ts_ms": ts_ms})

    def _active(self, table: str, column: str) -> dict[str, str]:
        """Restricted keys not yet cleared, each with the reason of its first restriction."""
        rows = self._db.query(
            f"SELECT {column}, reason FROM {table} WHERE cleared_ts_ms IS NULL ORDER BY seq"
        )
        found: dict[str, str] = {}
        for key, reason in rows:
            found.setdefault(key, reason)
        return found

    def clear_locks(self, ts_ms: int) -> int:
        """Lift every lock of an underlying and every venue restriction (an operator's
        resume); returns how many were lifted."""
        with self._db.tx():
            return sum(
                self._db.execute(
                    f"UPDATE {table} SET cleared_ts_ms = ? WHERE cleared_ts_ms IS NULL", (ts_ms,)
                )
                for table in ("locks", "venue_reductions")
            )
