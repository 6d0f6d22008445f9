"""Writing files so that a crash never leaves a half-written one behind."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from pathlib import Path
from typing import Any

PRIVATE_MODE = 0o600
"""Only the owner reads it: the default, for what the daemon keeps to itself."""
SHARED_MODE = 0o666
"""What any new file asks for (the umask then takes its bits away, 0644 under umask 022):
for what is meant to be shared, such as a chart."""


def write_atomically(
    path: str | os.PathLike[str], data: bytes, *, mode: int = PRIVATE_MODE
) -> None:
    """Write ``data`` into ``path``: a temp file beside it, fsync, rename, fsync the directory.

    The rename is atomic on POSIX, so readers see the old file or the new one,
    never a torn file, and the directory's fsync makes the rename survive a power
    cut. The temp file is created with ``mode`` and the kernel applies the
    process's umask to it, as to any new file (reading the umask would need
    ``os.umask``, which races with other threads). On any error the temp file
    is removed and the OSError propagates.
    """
    target = Path(path)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def save_png_atomically(fig: Any, path: str | os.PathLike[str]) -> None:
    """Render matplotlib ``fig`` as PNG into ``path`` atomically, readable as a new file
    is (0644 under umask 022): charts are made to be shared."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    write_atomically(path, png.getvalue(), mode=SHARED_MODE)
