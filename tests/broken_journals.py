"""Broken and damaged journal files shared by the journal tests: how to make each kind, and
what deltabot says about it."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

from bot.domain.ids import Currency
from bot.journal import Journal

Make = Callable[[Path], None]


def sound_journal(path: Path, locks: int = 0) -> bytes:
    """A closed journal with ``locks`` rows in it (80 KB empty), and its bytes."""
    with Journal.open(path) as journal:
        for i in range(locks):
            journal.state.lock_underlying(Currency("BTC"), "x" * 200, i)
    return path.read_bytes()


def _sound_beside(path: Path, locks: int = 0) -> bytes:
    return sound_journal(path.with_name("sound.sqlite"), locks)


def _truncated(path: Path) -> None:
    data = _sound_beside(path)
    path.write_bytes(data[: len(data) // 2])


def _bad_header(path: Path) -> None:
    path.write_bytes(b"not a database!!" + _sound_beside(path)[16:])


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(11).randbytes(80 * 1024))


def _damaged_page(path: Path) -> None:
    """A table page overwritten: a plain read may not notice, the open's checks do."""
    data = bytearray(_sound_beside(path, locks=300))
    last_page = len(data) - 4096
    data[last_page + 8 : last_page + 100] = b"\xff" * 92
    path.write_bytes(bytes(data))


BROKEN: dict[str, tuple[Make, str]] = {
    "truncated": (_truncated, "is corrupt or truncated"),
    "bad_header": (_bad_header, "is not an SQLite database"),
    "random_bytes": (_random_bytes, "is not an SQLite database"),
    "directory": (Path.mkdir, "is a directory, not a journal file"),
    "fifo": (os.mkfifo, "is a FIFO (named pipe), not a journal file"),
    "empty": (lambda p: p.write_bytes(b""), "is empty (0 bytes: truncated?)"),
    "damaged_page": (_damaged_page, "is corrupt"),
}
"""A journal path holding no usable journal, and what every open says about it."""


def _replaced(path: Path) -> None:
    other = path.with_name("other.sqlite")
    sound_journal(other)  # a sound journal, only another file
    os.replace(other, path)


def _shrunk(path: Path) -> None:
    os.truncate(path, 100)


def _overwritten(path: Path) -> None:
    with path.open("r+b") as f:
        f.write(random.Random(5).randbytes(4096))


DAMAGE: dict[str, tuple[Make, str]] = {
    "replaced": (_replaced, "was replaced while open (inode "),
    "removed": (Path.unlink, "was removed while open"),
    "shrunk": (_shrunk, " bytes while open (truncated?)"),
    "overwritten": (_overwritten, "no longer starts with SQLite's header (overwritten?)"),
}
"""Damage done to an open journal's file, and what ``Journal.check`` says about it."""
