"""A sweep's results on disk as it goes: one Parquet file per finished group, and a manifest.

``DIR/sweep.json`` holds the sweep's settings (the grid and the run's size);
``DIR/part-m0-c1-s2.parquet`` holds one group's rows, written atomically, so
a killed sweep leaves only whole groups behind. ``--resume`` reopens the
directory, refuses it if the settings differ (the rows would not belong to
the same sweep), and the sweep skips the groups already stored.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from bot.backtest.sweep import Row
from bot.ops.files import SHARED_MODE, write_atomically

MANIFEST: Final = "sweep.json"
PART_PREFIX: Final = "part-"


class SweepStoreError(ValueError):
    """A results directory that cannot be used for this sweep (saying why)."""


class SweepStore:
    """The results directory of one sweep (see the module doc)."""

    def __init__(self, directory: Path, settings: Mapping[str, object], *, resume: bool) -> None:
        """Open ``directory`` for a sweep with ``settings`` (JSON-ready); SweepStoreError if it
        holds another sweep, holds one and ``resume`` is not set, or cannot be written."""
        self._dir = directory
        wanted = json.dumps(settings, sort_keys=True, indent=2)
        manifest = directory / MANIFEST
        try:
            directory.mkdir(parents=True, exist_ok=True)
            held = manifest.read_text(encoding="utf-8") if manifest.exists() else None
            if held is None:
                if resume:
                    raise SweepStoreError(f"{directory}: no sweep to resume ({MANIFEST} missing)")
                write_atomically(manifest, wanted.encode(), mode=SHARED_MODE)
            elif not resume:
                raise SweepStoreError(
                    f"{directory} holds a sweep already: give --resume to continue it, "
                    "or another directory"
                )
            elif held != wanted:
                raise SweepStoreError(
                    f"{directory} holds a different sweep (its {MANIFEST} differs from this "
                    "grid and run size): resume it with the same settings, or use another "
                    "directory"
                )
        except OSError as exc:
            raise SweepStoreError(f"cannot use {directory}: {exc.strerror or exc}") from None

    def done(self) -> set[str]:
        """Keys of the groups stored."""
        return {
            p.name.removeprefix(PART_PREFIX).removesuffix(".parquet")
            for p in self._dir.glob(f"{PART_PREFIX}*.parquet")
        }

    def write(self, key: str, rows: Sequence[Row]) -> None:
        """Store one group's rows (atomically: a kill leaves the file whole or absent)."""
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(list(rows)), buffer)
        write_atomically(self._path(key), buffer.getvalue(), mode=SHARED_MODE)

    def read(self, key: str) -> list[Row]:
        """One stored group's rows, as written; SweepStoreError for an unreadable file."""
        try:
            rows: list[Row] = pq.read_table(self._path(key)).to_pylist()
        except (OSError, pa.ArrowInvalid) as exc:
            raise SweepStoreError(f"cannot read {self._path(key)}: {exc}") from None
        return rows

    def _path(self, key: str) -> Path:
        return self._dir / f"{PART_PREFIX}{key}.parquet"
