"""The journal's single-instance lock: two daemons must never trade the same accounts."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bot.journal.errors import JournalError, JournalLockedError


def lock(path: Path) -> int:
    """Hold an exclusive ``flock`` on ``<journal>.lock`` and write our pid into it.

    Returns the descriptor; closing it releases the lock. JournalError naming the lock
    file if it cannot be created (e.g. the journal's directory does not exist).
    """
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise JournalError(
            f"journal {path}: cannot create its lock file {lock_path}: {exc.strerror}"
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise JournalLockedError(
            f"journal {path} is in use by pid {holder} (lock file {lock_path}): "
            "only one deltabot may run per journal; stop it first"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd
