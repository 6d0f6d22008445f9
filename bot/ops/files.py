"""Writing files so that a crash never leaves a half-written one behind."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` into ``path``: a temp file beside it, fsync, rename, fsync the directory.

    The rename is atomic on POSIX, so readers see the old file or the new one,
    never a torn file, and the directory's fsync makes the rename survive a power
    cut. On any error the temp file is removed and the OSError propagates.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
    """Render matplotlib ``fig`` as PNG into ``path`` atomically (:func:`write_atomically`)."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    write_atomically(path, png.getvalue())
