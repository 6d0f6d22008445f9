"""Writing output files so that a crash never leaves a half-written one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any


def save_png_atomically(fig: Any, path: str | os.PathLike[str]) -> None:
    """Render matplotlib ``fig`` as PNG into ``path``: a temp file beside it, fsync, rename.

    The rename is atomic on POSIX, so readers see the old chart or the new
    one, never a torn file; on any error the temp file is removed.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
