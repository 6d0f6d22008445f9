"""The journal's one connection, shared by every store: committed transactions and reads.

Table and column names come from code only, never from input, which is why the
helpers may format them into SQL. Every SQLite error becomes a
:class:`~bot.journal.errors.JournalFileError` naming the file and the problem.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.journal.errors import JournalError
from bot.journal.file import file_error, quick_check

Row = tuple[Any, ...]


class Db:
    """One open journal connection; :class:`bot.journal.Journal` opens and closes it."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self._path = path
        self._conn = conn
        self._closed = False

    def close(self) -> None:
        self._conn.close()
        self._closed = True

    @contextmanager
    def _sqlite(self) -> Iterator[None]:
        """Turn an SQLite error into a JournalFileError naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise file_error(self._path, exc) from exc

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One committed transaction: with synchronous=FULL, on disk when this exits."""
        if self._closed:
            raise JournalError(f"journal {self._path} is closed")
        with self._sqlite():
            self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:  # SQLite rolls back by itself after some errors
                with self._sqlite():
                    self._conn.execute("ROLLBACK")
            raise
        with self._sqlite():
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        with self._sqlite():
            return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        with self._sqlite():
            row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a write (inside :meth:`tx`); returns how many rows it changed."""
        with self._sqlite():
            return self._conn.execute(sql, params).rowcount

    def quick_check(self) -> None:
        """JournalFileError if ``PRAGMA quick_check`` finds the database damaged."""
        with self._sqlite():
            quick_check(self._path, self._conn)

    def insert(self, table: str, values: Mapping[str, object], *, or_ignore: bool = False) -> bool:
        """Insert one row of ``column: value``; False if ``or_ignore`` skipped a duplicate."""
        verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
        columns, marks = ", ".join(values), ", ".join("?" * len(values))
        sql = f"{verb} INTO {table} ({columns}) VALUES ({marks})"
        return self.execute(sql, tuple(values.values())) == 1

    def exists(self, table: str, column: str, key: str | None) -> bool:
        """Whether ``table`` has a row whose ``column`` equals ``key``."""
        return self.one(f"SELECT 1 FROM {table} WHERE {column} = ?", (key,)) is not None
