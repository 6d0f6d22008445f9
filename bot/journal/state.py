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
        with self._db.tx():
            self._db.insert("locks", {"underlying": underlying, "reason": reason, "ts_ms": ts_ms})

    def locks(self) -> dict[Currency, str]:
        """Locked underlyings and the reason of the first lock of each."""
        rows = self._db.query(
            "SELECT underlying, reason FROM locks WHERE cleared_ts_ms IS NULL ORDER BY seq"
        )
        found: dict[Currency, str] = {}
        for underlying, reason in rows:
            found.setdefault(Currency(underlying), reason)
        return found

    def reduce_venue(self, venue: VenueId, reason: str, ts_ms: int) -> None:
        """Only orders that shrink a position may go to ``venue`` until an operator resumes
        (e.g. its margin floor cannot be restored); the other venues trade on."""
        with self._db.tx():
            self._db.insert("venue_reductions", {"venue": venue, "reason": reason, "ts_ms": ts_ms})

    def reducing_venues(self) -> dict[VenueId, str]:
        """Venues restricted to reducing orders, and the reason of the first restriction."""
        rows = self._db.query(
            "SELECT venue, reason FROM venue_reductions WHERE cleared_ts_ms IS NULL ORDER BY seq"
        )
        found: dict[VenueId, str] = {}
        for venue, reason in rows:
            found.setdefault(VenueId(venue), reason)
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
