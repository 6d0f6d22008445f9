"""The ``paper_book`` and ``paper_cash`` tables: each paper venue's positions and cash, so a
shadow paper daemon picks up where it stopped (its fills are in ``fills`` already)."""

from __future__ import annotations

from bot.domain.ids import Currency, Symbol
from bot.domain.paper_book import PaperBook
from bot.journal.db import Db


class PaperStore:
    """Save and load one paper venue's :class:`PaperBook`."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def save(self, venue: str, book: PaperBook) -> None:
        """Replace what the journal holds for ``venue`` with ``book``, in one transaction."""
        with self._db.tx():
            self._db.execute("DELETE FROM paper_book WHERE venue = ?", (venue,))
            self._db.execute("DELETE FROM paper_cash WHERE venue = ?", (venue,))
            for symbol, (size, basis) in book.holdings.items():
                row = {"venue": venue, "symbol": symbol, "size": size, "basis": basis}
                self._db.insert("paper_book", row)
            for currency, amount in book.cash.items():
                self._db.insert(
                    "paper_cash", {"venue": venue, "currency": currency, "amount": amount}
                )

    def load(self, venue: str) -> PaperBook | None:
        """What ``venue`` held when last saved; None if it never was."""
        cash = self._db.query("SELECT currency, amount FROM paper_cash WHERE venue = ?", (venue,))
        held = self._db.query(
            "SELECT symbol, size, basis FROM paper_book WHERE venue = ?", (venue,)
        )
        if not cash and not held:
            return None
        return PaperBook(
            {Currency(c): float(a) for c, a in cash},
            {Symbol(s): (float(size), float(basis)) for s, size, basis in held},
        )
