"""Positions that moved with no order of ours (a manual trade, a liquidation, another bot)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.ids import Currency, Symbol, VenueId
from bot.journal.db import Db


@dataclass(frozen=True, slots=True)
class ExternalChange:
    """One unexplained move of ``symbol``'s position on ``venue``: ``change`` in the
    instrument's amount unit, ``change_usd`` its value at the index when it was seen."""

    venue: VenueId
    symbol: Symbol
    underlying: Currency
    change: float
    change_usd: float
    ts_ms: int


class ExternalChangeStore:
    """The ``external_changes`` table."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, change: ExternalChange) -> None:
        row = {
            "venue": change.venue,
            "symbol": change.symbol,
            "underlying": change.underlying,
            "change": change.change,
            "change_usd": change.change_usd,
            "ts_ms": change.ts_ms,
        }
        with self._db.tx():
            self._db.insert("external_changes", row)

    def since(self, since_ms: int) -> tuple[ExternalChange, ...]:
        """Changes seen at or after ``since_ms``, oldest first."""
        rows = self._db.query(
            "SELECT venue, symbol, underlying, change, change_usd, ts_ms FROM external_changes "
            "WHERE ts_ms >= ? ORDER BY seq",
            (since_ms,),
        )
        return tuple(
            ExternalChange(VenueId(v), Symbol(s), Currency(u), c, usd, ts)
            for v, s, u, c, usd, ts in rows
        )
