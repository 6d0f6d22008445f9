"""The operator's switches: the trading state and the underlyings the engine stopped hedging."""

from __future__ import annotations

from bot.domain.ids import Currency
from bot.domain.trading_state import INITIAL_STATE, SetBy, TradingMode, TradingState
from bot.journal.db import Db


class StateStore:
    """The ``trading_states`` and ``locks`` tables."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def trading_state(self) -> TradingState:
        """The last state set, or ACTIVE for a journal that never recorded one."""
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

    def clear_locks(self, ts_ms: int) -> int:
        """Lift every lock (an operator's resume); returns how many were lifted."""
        with self._db.tx():
            return self._db.execute(
                "UPDATE locks SET cleared_ts_ms = ? WHERE cleared_ts_ms IS NULL", (ts_ms,)
            )
