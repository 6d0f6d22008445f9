"""The chain store on disk: Parquet files partitioned by table, venue, underlying and UTC day.

Layout (``bot.chain.schema`` lists the columns and their units)::

    STORE/options/venue=deribit/underlying=BTC/day=2020-06-08/part-<tag>-<first ts_ms>.parquet
    STORE/hedges/venue=deribit/underlying=BTC/day=2020-06-08/...
    STORE/settlements/venue=deribit/underlying=BTC/day=2020-06-09/...

Every file is written to a hidden temp file in its directory and renamed into
place, so a reader never sees a torn file. A write of several days stages all
its files first (:meth:`ChainStore.stage`) and moves them in only when the
caller commits, so a failed import leaves the store as it was. The file name
carries a tag chosen by the writer (the source file for an import, ``rec``
for the recorder): importing the same file again replaces its parts.

:meth:`ChainStore.read` streams a time range one day at a time, each day's
rows sorted by ``ts_ms``: memory is bounded by one day of one partition.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bot.chain.schema import TABLES
from bot.domain.timeunits import MS_PER_DAY, iso_utc

_TYPES: Final = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class StoreError(ValueError):
    """A store that cannot be read or written as asked; the message names the path or table."""


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table`` (one of :data:`bot.chain.schema.TABLES`)."""
    if table not in TABLES:
        raise StoreError(f"unknown table {table!r}; the store has {', '.join(TABLES)}")
    return pa.schema([pa.field(c.name, _TYPES[c.type], nullable=False) for c in TABLES[table]])


def day_of(ts_ms: int) -> date:
    """The UTC day of an epoch-millisecond time (its partition)."""
    return datetime.fromtimestamp(ts_ms // MS_PER_DAY * 86_400, tz=UTC).date()


@dataclass(frozen=True, slots=True)
class Partition:
    """One venue and underlying of a table: the unit a backtest reads."""

    venue: str
    underlying: str


@dataclass(slots=True)
class Staging:
    """Files written by one :meth:`ChainStore.stage`, moved into the store on commit."""

    root: Path
    moves: list[tuple[Path, Path]] = field(default_factory=list)


class ChainStore:
    """A chain store rooted at ``root`` (created on the first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, table: str, venue: str, underlying: str, day: date) -> Path:
        for name, value in (("venue", venue), ("underlying", underlying)):
            if not _NAME.match(value):
                raise StoreError(f"{name} {value!r} is not a plain name (letters, digits, _.-)")
        return (
            self.root
            / table
            / f"venue={venue}"
            / f"underlying={underlying}"
            / f"day={day.isoformat()}"
        )

    @contextlib.contextmanager
    def stage(self) -> Iterator[Staging]:
        """Collect writes under a hidden staging directory; move them in if the block succeeds.

        On an exception the staged files are deleted and the store is untouched.
        """
        staging = Staging(self.root / f".staging-{secrets.token_hex(6)}")
        try:
            yield staging
            for tmp, final in staging.moves:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, final)
        finally:
            shutil.rmtree(staging.root, ignore_errors=True)

    def write(
        self,
        table: str,
        venue: str,
        underlying: str,
        rows: pa.Table,
        *,
        tag: str,
        staging: Staging | None = None,
    ) -> int:
        """Write ``rows`` (``table``'s columns, any order) as one file per UTC day; rows written.

        With ``staging`` the files wait there until the staging block commits.
        """
        schema = arrow_schema(table)
        if not _NAME.match(tag):
            raise StoreError(f"tag {tag!r} is not a plain name (letters, digits, _.-)")
        missing = [name for name in schema.names if name not in rows.column_names]
        if missing:
            raise StoreError(f"{table}: missing column(s) {', '.join(missing)}")
        rows = rows.select(schema.names).cast(schema)
        if rows.num_rows == 0:
            return 0
        ts = rows.column("ts_ms").to_numpy()
        days = ts // MS_PER_DAY
        for day in np.unique(days):
            part = rows.filter(pa.array(days == day))
            first_ms = int(pc.min(part.column("ts_ms")).as_py())
            final = self._dir(table, venue, underlying, day_of(int(day) * MS_PER_DAY))
            final = final / f"part-{tag}-{first_ms:013d}.parquet"
            if staging is None:
                final.parent.mkdir(parents=True, exist_ok=True)
                _write_file(part, final, final.parent)
            else:
                staged = staging.root / f"{len(staging.moves):06d}.parquet"
                _write_file(part, staged, staging.root)
                staging.moves.append((staged, final))
        return int(rows.num_rows)

    def partitions(self, table: str) -> list[Partition]:
        """The venues and underlyings ``table`` holds, sorted."""
        arrow_schema(table)
        found = []
        for venue_dir in sorted((self.root / table).glob("venue=*")):
            for und_dir in sorted(venue_dir.glob("underlying=*")):
                found.append(
                    Partition(venue_dir.name.split("=", 1)[1], und_dir.name.split("=", 1)[1])
                )
        return found

    def span_ms(self, table: str, partition: Partition) -> tuple[int, int] | None:
        """The first and last ``ts_ms`` of a partition, or None if it holds nothing."""
        days = self._days(table, partition)
        if not days:
            return None
        first = min(_ts_bounds(path)[0] for path in days[0].glob("part-*.parquet"))
        last = max(_ts_bounds(path)[1] for path in days[-1].glob("part-*.parquet"))
        return first, last

    def describe(self) -> list[str]:
        """One line per table and partition: venue, underlying, first and last snapshot."""
        lines = []
        for table in TABLES:
            for part in self.partitions(table):
                span = self.span_ms(table, part)
                if span:
                    where = f"{table:12} {part.venue:10} {part.underlying:6}"
                    lines.append(f"{where} {iso_utc(span[0])} .. {iso_utc(span[1])}")
        return lines

    def holds(self, table: str, partition: Partition, day: date, tag: str) -> bool:
        """Whether a write tagged ``tag`` put a file in ``day`` of the partition: a resumed
        download skips the days it already wrote (each file lands whole, by rename)."""
        found = self._dir(table, partition.venue, partition.underlying, day)
        return any(found.glob(f"part-{tag}-*.parquet"))

    def _days(self, table: str, partition: Partition) -> list[Path]:
        base = self.root / table / f"venue={partition.venue}" / f"underlying={partition.underlying}"
        return sorted(d for d in base.glob("day=*") if any(d.glob("part-*.parquet")))

    def read(
        self,
        table: str,
        partition: Partition,
        from_ms: int | None = None,
        to_ms: int | None = None,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.Table]:
        """Yield one table per UTC day with ``from_ms <= ts_ms <= to_ms``, sorted by ``ts_ms``;
        only ``columns`` (``ts_ms`` always) when given, which reads only those.

        Raises :class:`StoreError` naming the file for a file that is not this
        table's Parquet.
        """
        schema = arrow_schema(table)
        if columns is not None:
            schema = pa.schema([schema.field(n) for n in schema.names if n in {*columns, "ts_ms"}])
        first_day = None if from_ms is None else day_of(from_ms)
        last_day = None if to_ms is None else day_of(to_ms)
        for day_dir in self._days(table, partition):
            day = date.fromisoformat(day_dir.name.split("=", 1)[1])
            if (first_day and day < first_day) or (last_day and day > last_day):
                continue
            parts = []
            for path in sorted(day_dir.glob("part-*.parquet")):
                try:
                    parts.append(pq.read_table(path, columns=schema.names, schema=schema))
                except (OSError, pa.ArrowException) as exc:
                    raise StoreError(f"{path}: not a {table} file of the store: {exc}") from None
            rows = pa.concat_tables(parts)
            ts = rows.column("ts_ms")
            keep = None
            if from_ms is not None:
                keep = pc.greater_equal(ts, from_ms)
            if to_ms is not None:
                upper = pc.less_equal(ts, to_ms)
                keep = upper if keep is None else pc.and_(keep, upper)
            if keep is not None:
                rows = rows.filter(keep)
            if rows.num_rows:
                in_order = bool(np.all(np.diff(rows.column("ts_ms").to_numpy()) >= 0))
                yield rows if in_order else rows.sort_by("ts_ms")


def _write_file(rows: pa.Table, path: Path, directory: Path) -> None:
    """``rows`` into ``path`` through a hidden temp file beside it, fsynced, then renamed."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        pq.write_table(rows, tmp, compression="zstd")
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _ts_bounds(path: Path) -> tuple[int, int]:
    ts = pq.read_table(path, columns=["ts_ms"]).column("ts_ms")
    return int(pc.min(ts).as_py()), int(pc.max(ts).as_py())
