"""The journal file: broken files refused by name, damage found while open, the halt marker."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.domain.trading_state import SetBy, TradingMode, TradingState
from bot.journal import (
    Journal,
    JournalError,
    JournalFileError,
    halt_marker_path,
    remove_halt_marker,
    write_halt_marker,
)
from bot.journal.db import Db
from tests.broken_journals import BROKEN, DAMAGE, sound_journal


@pytest.mark.parametrize("opener", ["open", "open_control"])
@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_file_is_refused_naming_it_and_what_is_wrong(
    tmp_path: Path, kind: str, opener: str
) -> None:
    """The daemon's open and an operator's open refuse each broken file by path and problem,
    never blocking on a FIFO and leaving no lock held."""
    path = tmp_path / "journal.sqlite"
    make, problem = BROKEN[kind]
    make(path)
    with pytest.raises(JournalFileError) as refused:
        getattr(Journal, opener)(path)
    message = str(refused.value)
    assert message.startswith(f"journal {path} "), message
    assert problem in message
    assert "\n" not in message
    Journal.open(tmp_path / "other.sqlite").close()  # nothing else held


def test_a_journal_in_a_missing_directory_names_its_lock_file(tmp_path: Path) -> None:
    """A journal path in a directory that does not exist: a JournalError naming the lock file,
    not a raw FileNotFoundError (``deltabot demo --journal`` into a missing directory)."""
    path = tmp_path / "missing" / "journal.sqlite"
    with pytest.raises(JournalError, match=f"cannot create its lock file {path}.lock: No such"):
        Journal.open(path)


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_check_finds_a_journal_replaced_truncated_or_overwritten_while_open(
    tmp_path: Path, kind: str
) -> None:
    """check() passes a sound open journal and names the file and the damage done to it."""
    path = tmp_path / "journal.sqlite"
    sound_journal(path, locks=50)
    with Journal.open(path) as journal:
        journal.check()
        damage, problem = DAMAGE[kind]
        damage(path)
        with pytest.raises(JournalFileError, match=f"^journal {path} ") as found:
            journal.check()
    assert problem in str(found.value)


def test_an_sqlite_error_on_a_query_or_a_write_names_the_file(tmp_path: Path) -> None:
    """An SQLite error on the open connection, in a read or in a transaction, is a
    JournalFileError naming the file and the problem, not a raw sqlite3 error."""
    path = tmp_path / "journal.sqlite"
    BROKEN["random_bytes"][0](path)
    db = Db(path, sqlite3.connect(path, isolation_level=None))
    expected = f"^journal {path} is not an SQLite database \\(SQLite: file is not a database\\)$"
    with pytest.raises(JournalFileError, match=expected):
        db.query("SELECT 1 FROM orders")
    with pytest.raises(JournalFileError, match=expected), db.tx():
        db.insert("locks", {"underlying": "BTC", "reason": "test", "ts_ms": 1})
    db.close()


def test_the_halt_marker_overrides_the_journal_until_removed(tmp_path: Path) -> None:
    """A halt marker beside the journal is its trading state (HALTED, its reason and author)
    until it is removed; then the journal's own state shows again."""
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        marker = write_halt_marker(path, "journal unreadable", SetBy.OPERATOR, 7)
        assert marker == halt_marker_path(path) == tmp_path / "journal.sqlite.halt"
        assert json.loads(marker.read_text())["reason"] == "journal unreadable"
        assert journal.state.trading_state() == TradingState(
            TradingMode.HALTED, "journal unreadable", SetBy.OPERATOR, 7
        )
        assert remove_halt_marker(path) == marker
        assert remove_halt_marker(path) is None
        assert journal.state.trading_state().mode is TradingMode.ACTIVE


def test_an_unreadable_halt_marker_still_halts(tmp_path: Path) -> None:
    """A marker that is not the JSON we write halts all the same, saying so."""
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        halt_marker_path(path).write_text("halt!")
        state = journal.state.trading_state()
    assert state.mode is TradingMode.HALTED
    assert f"halt marker {halt_marker_path(path)} cannot be read" in state.reason
