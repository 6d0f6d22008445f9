"""The open journal file: one connection and its lock, with a store per kind of record.

SQLite in WAL mode with ``synchronous=FULL``: a write returns only after its
transaction is committed to disk, so an order journaled by
:meth:`~bot.journal.orders.OrderStore.record_intent` survives a crash that
happens while it is being sent. One journal file per account set, guarded by an
exclusive ``flock`` on a sidecar ``.lock`` file so two daemons never trade the
same accounts. Time is a parameter: the journal never reads the clock.

A file that cannot be a journal (a directory, a FIFO, an empty, foreign,
corrupt or truncated file) is refused at open with a
:class:`~bot.journal.errors.JournalFileError` naming it and the problem;
:meth:`Journal.check` finds one replaced, truncated or damaged while open.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Self

from bot.journal.actions import ActionStore
from bot.journal.alerts import AlertStore
from bot.journal.db import Db
from bot.journal.errors import JournalMissingError
from bot.journal.external import ExternalChangeStore
from bot.journal.file import FileIdentity, check_type, identity, same_file
from bot.journal.lock import lock
from bot.journal.option_proposals import ProposalStore
from bot.journal.orders import OrderStore
from bot.journal.paper import PaperStore
from bot.journal.plans import PlanStore
from bot.journal.pnl import PnlStore
from bot.journal.schema import connect
from bot.journal.state import StateStore
from bot.journal.transfers import TransferStore


class Journal:
    """One open journal file; build it with :meth:`open`, close it (or use ``with``).

    Its records are reached through one store per kind: :attr:`orders`
    (decisions, orders, fills), :attr:`transfers`, :attr:`plans` (collateral
    plans), :attr:`state` (trading state, locked underlyings, reducing venues),
    :attr:`external` (positions that moved with no order of ours), :attr:`pnl` (each
    cycle's equity, read back with the decisions and fills for P&L attribution),
    :attr:`actions` (what operators did from the dashboard), :attr:`alerts` (every
    alert raised, with its delivery) and :attr:`option_proposals` (option-hedge
    proposals and their approval).
    """

    def __init__(self, path: Path, db: Db, lock_fd: int) -> None:
        self.path = path
        self._db = db
        self._lock_fd: int | None = lock_fd
        self._identity: FileIdentity = identity(path)
        self.orders = OrderStore(db)
        self.transfers = TransferStore(db)
        self.plans = PlanStore(db)
        self.state = StateStore(db, path)
        self.external = ExternalChangeStore(db)
        self.pnl = PnlStore(db)
        self.actions = ActionStore(db)
        self.alerts = AlertStore(db)
        self.option_proposals = ProposalStore(db)
        self.paper = PaperStore(db)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Lock, open (creating it if new) and check the journal at ``path``."""
        journal_path = Path(path)
        check_type(journal_path)
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
        if check_type(journal_path) is None:
            raise JournalMissingError(f"no journal at {journal_path}")
        return cls._connect(journal_path, os.open(os.devnull, os.O_RDONLY))

    @classmethod
    def _connect(cls, journal_path: Path, fd: int) -> Journal:
        try:
            conn = connect(journal_path)
        except BaseException:
            os.close(fd)
            raise
        return cls(journal_path, Db(journal_path, conn), fd)

    def check(self) -> None:
        """JournalFileError unless the file at :attr:`path` is still the one opened, no
        smaller, with SQLite's header, and passes ``PRAGMA quick_check``."""
        self._identity = same_file(self.path, self._identity)
        self._db.quick_check()

    def close(self) -> None:
        """Close the database and release the lock; closing twice is harmless."""
        if self._lock_fd is None:
            return
        self._db.close()
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
