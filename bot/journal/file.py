"""The journal file itself: what it is before SQLite opens it, whether it is still the file
that was opened, and what an SQLite error on it means.

SQLite would block for ever reading a FIFO and describes a directory or a
foreign file in its own words, so the file's type is checked before it is
opened, and every SQLite error becomes a :class:`JournalFileError` that names
the file and the problem. While the daemon runs, :func:`same_file` and
:func:`quick_check` notice a journal replaced, truncated, overwritten or
corrupted under it (:meth:`bot.journal.Journal.check`).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.journal.errors import JournalFileError

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)

_SQLITE_PROBLEMS: Final = {
    "SQLITE_NOTADB": "is not an SQLite database",
    "SQLITE_CORRUPT": "is corrupt or truncated",
    "SQLITE_CANTOPEN": "cannot be opened (a missing directory, or no permission?)",
    "SQLITE_READONLY": "cannot be written (read-only, or moved or deleted while open)",
    "SQLITE_BUSY": "stayed locked by another process",
    "SQLITE_IOERR": "cannot be read or written (I/O error)",
    "SQLITE_FULL": "cannot grow: the disk is full",
    "SQLITE_PERM": "may not be accessed (permission denied)",
}
"""What an SQLite primary error code says about the file."""


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """The file a journal path named when it was opened, and its size at the last check."""

    device: int
    inode: int
    size: int


def check_type(path: Path) -> os.stat_result | None:
    """``path``'s status, or None if nothing is there; JournalFileError if it is anything
    but a non-empty regular file (checked without opening it: a FIFO would block)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalFileError(f"journal {path} cannot be examined: {exc.strerror}") from exc
    if not stat.S_ISREG(status.st_mode):
        kind = next((k for is_kind, k in _KINDS if is_kind(status.st_mode)), "not a regular file")
        raise JournalFileError(f"journal {path} is {kind}, not a journal file")
    if status.st_size == 0:
        raise JournalFileError(f"journal {path} is empty (0 bytes: truncated?)")
    return status


def identity(path: Path) -> FileIdentity:
    """The identity of the (open) journal file at ``path`` now."""
    status = path.stat()
    return FileIdentity(status.st_dev, status.st_ino, status.st_size)


def same_file(path: Path, opened: FileIdentity) -> FileIdentity:
    """``path``'s identity now; JournalFileError unless it is still the file opened as
    ``opened``, no smaller (nothing deletes from a journal) and with SQLite's header."""
    try:
        now = identity(path)
    except FileNotFoundError:
        raise JournalFileError(f"journal {path} was removed while open") from None
    except OSError as exc:
        raise JournalFileError(f"journal {path} cannot be examined: {exc.strerror}") from exc
    if (now.device, now.inode) != (opened.device, opened.inode):
        raise JournalFileError(
            f"journal {path} was replaced while open (inode {opened.inode} is now {now.inode})"
        )
    if now.size < opened.size:
        raise JournalFileError(
            f"journal {path} shrank from {opened.size} to {now.size} bytes while open (truncated?)"
        )
    with path.open("rb") as f:  # the same inode: still the regular file opened
        header = f.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise JournalFileError(
            f"journal {path} no longer starts with SQLite's header (overwritten?)"
        )
    return now


def quick_check(path: Path, conn: sqlite3.Connection) -> None:
    """JournalFileError naming the first problem ``PRAGMA quick_check`` finds, if any."""
    rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if rows == ["ok"]:
        return
    lines = [line for row in rows for line in row.splitlines() if not line.startswith("***")]
    raise JournalFileError(
        f"journal {path} is corrupt: {lines[0]} (PRAGMA quick_check found {len(lines)} problem(s))"
    )


def file_error(path: Path, exc: sqlite3.Error) -> JournalFileError:
    """What an SQLite error on the journal means, as an error naming the file."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    problem = _SQLITE_PROBLEMS.get("_".join(name.split("_")[:2]), "failed")
    return JournalFileError(f"journal {path} {problem} (SQLite: {exc})")
