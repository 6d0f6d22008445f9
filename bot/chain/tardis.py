"""Import Tardis.dev CSV files (``options_chain``, ``derivative_ticker``) into the chain store.

Tardis writes one row per venue update, timestamps in microseconds since the
epoch, Deribit option prices in coin and IVs in percent (tardis.dev, "Data
types": ``options_chain``). The documented example row::

    exchange,symbol,timestamp,...,bid_price,bid_amount,bid_iv,...,mark_price,mark_iv,
    underlying_index,underlying_price,delta,gamma,vega,theta,rho
    deribit,BTC-9JUN20-9875-P,1591574399413000,...,0.0205,15.0,55.91,...,0.02210436,62.89,
    SYN.BTC-9JUN20,9756.36,-0.61752,0.00103,2.24964,-53.05655,-0.22796

becomes, at a 5-minute cadence, the ``options`` row of the 2020-06-07T23:55Z
bucket stamped 2020-06-08T00:00Z (``ts_ms`` 1591574400000), ``mark_premium``
0.02210436 with ``premium_unit`` coin (about 215.7 USD at 9,756.36),
``mark_iv`` 0.6289, ``forward_name`` SYN.BTC-9JUN20, expiry 1591689600000 ms.

**Thinning.** Rows are cut into buckets of ``cadence_ms`` by their exchange
timestamp. At the end of each bucket the importer writes one snapshot: the
latest row of every instrument seen so far (carried forward if it did not
update in that bucket), options past their expiry dropped. A row stamped
before the open bucket (Tardis orders by arrival, not by exchange time) counts
in the open bucket. A stretch with no rows at all longer than ``gap_ms`` is
reported as a gap.

**Streaming.** The CSV is read by pyarrow's streaming reader in blocks; the
importer holds one block, the latest row per instrument and the snapshots not
yet flushed (written every ``flush_rows``), so memory does not grow with the
file. Output is staged and moved into the store only when every file parsed.

**Bad input.** A missing column, a value that is not a number, a premium that
cannot be in the venue's unit (a coin premium above max(1, K/F) coin, a USD
premium above max(F, K)), a non-positive strike or price: with ``on_bad_row``
``fail`` an :class:`TardisError` naming the file, line and column; with
``skip`` the row is dropped and listed in the report. A file with such a row
is re-read by a slower line-by-line parser that knows each row's line.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bot.chain.schema import premium_unit_of
from bot.chain.store import ChainStore, Staging, StoreError
from bot.domain.timeunits import MS_PER_HOUR, iso_utc

OnBadRow = Literal["fail", "skip"]
Kind = Literal["options_chain", "derivative_ticker"]

US_PER_MS: Final = 1_000
"""Tardis timestamps are microseconds."""
PERCENT: Final = 100.0
"""Tardis IVs are percent; the store keeps decimals."""
UNIT_SLACK: Final = 1.05
"""How far above its no-arbitrage bound a premium may sit before its unit is called wrong."""
BLOCK_BYTES: Final = 8 << 20
"""Bytes of CSV pyarrow parses at once: the block the importer holds."""
FLUSH_ROWS: Final = 250_000
"""Snapshot rows kept before they are written to the staging directory."""
MAX_REPORTED: Final = 20
"""Skipped rows listed one by one in the report; the rest are only counted."""

_F = pa.float64()
_I = pa.int64()
_S = pa.string()
COLUMNS: Final[dict[Kind, dict[str, pa.DataType]]] = {
    "options_chain": {
        "exchange": _S,
        "symbol": _S,
        "timestamp": _I,
        "local_timestamp": _I,
        "type": _S,
        "strike_price": _F,
        "expiration": _I,
        "open_interest": _F,
        "last_price": _F,
        "bid_price": _F,
        "bid_amount": _F,
        "bid_iv": _F,
        "ask_price": _F,
        "ask_amount": _F,
        "ask_iv": _F,
        "mark_price": _F,
        "mark_iv": _F,
        "underlying_index": _S,
        "underlying_price": _F,
        "delta": _F,
        "gamma": _F,
        "vega": _F,
        "theta": _F,
        "rho": _F,
    },
    "derivative_ticker": {
        "exchange": _S,
        "symbol": _S,
        "timestamp": _I,
        "local_timestamp": _I,
        "funding_timestamp": _I,
        "funding_rate": _F,
        "predicted_funding_rate": _F,
        "open_interest": _F,
        "last_price": _F,
        "index_price": _F,
        "mark_price": _F,
    },
}
"""Tardis's documented columns per data type, with the types they parse to."""
_UNUSED: Final[dict[Kind, frozenset[str]]] = {
    "options_chain": frozenset({"local_timestamp", "last_price", "rho"}),
    "derivative_ticker": frozenset(
        {"local_timestamp", "funding_timestamp", "predicted_funding_rate"}
    ),
}
"""Columns the store does not keep: not parsed (a quarter of the parse time), not required."""


def _parsed(kind: Kind) -> dict[str, pa.DataType]:
    return {name: t for name, t in COLUMNS[kind].items() if name not in _UNUSED[kind]}


_REQUIRED_NONEMPTY: Final[dict[Kind, tuple[str, ...]]] = {
    "options_chain": ("exchange", "symbol", "timestamp", "type", "strike_price", "expiration"),
    "derivative_ticker": ("exchange", "symbol", "timestamp"),
}
_TABLE_OF: Final[dict[Kind, str]] = {"options_chain": "options", "derivative_ticker": "hedges"}


class TardisError(ValueError):
    """A file that cannot be imported; the message names the file, line and column."""


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows read, snapshot rows written per table, rows skipped, gaps."""

    files: int = 0
    rows_read: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    skipped_rows: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def skip(self, message: str) -> None:
        self.skipped += 1
        if len(self.skipped_rows) < MAX_REPORTED:
            self.skipped_rows.append(message)


@dataclass(frozen=True, slots=True)
class _Block:
    """Parsed rows and the file line of each."""

    rows: pa.Table
    lines: np.ndarray


class _SlowPathError(Exception):
    """The fast reader hit a row it cannot place; the file is re-read line by line."""


@dataclass(frozen=True, slots=True)
class _Job:
    """One import's store, staging area, report and settings, handed to each file."""

    store: ChainStore
    staging: Staging
    report: ImportReport
    cadence_ms: int
    on_bad_row: OnBadRow
    gap_ms: int
    block_bytes: int


def import_tardis(
    store: ChainStore,
    paths: Sequence[Path],
    *,
    cadence_ms: int,
    on_bad_row: OnBadRow = "fail",
    gap_ms: int = MS_PER_HOUR,
    block_bytes: int = BLOCK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``paths`` (``.csv`` or ``.csv.gz``, either data type) into ``store``; see above.

    Nothing reaches the store unless every file imports (with ``skip``: every
    file is readable and has its columns). ``progress`` is called with (files
    done, files in all) after each file.
    """
    if cadence_ms < 1:
        raise TardisError(f"the cadence must be >= 1 ms, got {cadence_ms}")
    if on_bad_row not in ("fail", "skip"):
        raise TardisError(f"on_bad_row must be 'fail' or 'skip', got {on_bad_row!r}")
    report = ImportReport()
    with store.stage() as staging:
        job = _Job(store, staging, report, cadence_ms, on_bad_row, gap_ms, block_bytes)
        for path in paths:
            _import_file(job, path)
            report.files += 1
            if progress:
                progress(report.files, len(paths))
    return report


def _import_file(job: _Job, path: Path) -> None:
    """Fast typed parse; on a row it cannot place, undo this file and parse it line by line."""
    kind = _kind(path)
    moves, report = job.staging.moves, job.report
    mark = len(moves)
    before = (report.rows_read, dict(report.rows_written))
    try:
        _run(job, path, kind, _fast_blocks(path, kind, job.block_bytes), "fail-fast")
    except _SlowPathError:
        for tmp, _ in moves[mark:]:
            tmp.unlink(missing_ok=True)
        del moves[mark:]
        report.rows_read, report.rows_written = before
        _run(job, path, kind, _slow_blocks(path, kind, job.on_bad_row, report), job.on_bad_row)


def _open_text(path: Path) -> io.TextIOBase:
    try:
        if path.name.endswith(".gz"):
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise TardisError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _kind(path: Path) -> Kind:
    """The data type of ``path``, from its header; every documented column must be there."""
    try:
        with _open_text(path) as text:
            header = next(csv.reader(text), [])
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise TardisError(f"{path}: cannot read: {exc}") from None
    names = [h.strip() for h in header]
    kind: Kind = "options_chain" if "strike_price" in names else "derivative_ticker"
    if "strike_price" not in names and "funding_rate" not in names:
        raise TardisError(
            f"{path} line 1: neither an options_chain nor a derivative_ticker header "
            f"(no strike_price or funding_rate column): {','.join(names)[:200]}"
        )
    missing = [c for c in _parsed(kind) if c not in names]
    if missing:
        raise TardisError(f"{path} line 1: {kind} file lacks column(s) {', '.join(missing)}")
    return kind


def _fast_blocks(path: Path, kind: Kind, block_bytes: int) -> Iterator[_Block]:
    """Typed blocks parsed by pyarrow; any unparsable row asks for the slow path.

    The file is cut at line ends into pieces of about ``block_bytes`` and each
    piece parsed on its own (in parallel within it): pyarrow's streaming
    reader reads ahead without bound on a fast disk (its peak grew with the
    file in the bench), a piece at a time does not.
    """
    options = (
        pacsv.ReadOptions(block_size=max(1 << 20, block_bytes // 4)),
        pacsv.ConvertOptions(
            column_types=_parsed(kind),
            include_columns=list(_parsed(kind)),
            strings_can_be_null=False,
        ),
    )
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            first_line = 2
            for piece in _pieces(stream, block_bytes):
                rows = pacsv.read_csv(
                    pa.BufferReader(piece), read_options=options[0], convert_options=options[1]
                )
                yield _Block(rows, np.arange(first_line, first_line + rows.num_rows))
                first_line += rows.num_rows
    except pa.ArrowInvalid:
        raise _SlowPathError from None
    except (OSError, EOFError, pa.ArrowException) as exc:
        raise TardisError(f"{path}: cannot read: {exc}") from None


def _pieces(stream: pa.NativeFile, block_bytes: int) -> Iterator[bytes]:
    """The header line followed by whole lines, about ``block_bytes`` at a time."""
    header, rest = b"", b""
    while not header:
        chunk = stream.read(block_bytes)
        if not chunk:
            return
        rest += chunk
        cut = rest.find(b"\n") + 1
        if cut:
            header, rest = rest[:cut], rest[cut:]
    while True:
        chunk = stream.read(block_bytes)
        if not chunk:
            break
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield header + data[:cut]
    if rest.strip():
        yield header + rest


def _slow_blocks(
    path: Path, kind: Kind, on_bad_row: OnBadRow, report: ImportReport, rows_per_block: int = 65_536
) -> Iterator[_Block]:
    """Blocks parsed with :mod:`csv`, one row at a time, so every bad value has its line."""
    types = _parsed(kind)
    with _open_text(path) as text:
        reader = csv.reader(text)
        header = [h.strip() for h in next(reader)]
        where = [header.index(name) for name in types]
        values: list[list[object]] = [[] for _ in types]
        lines: list[int] = []
        for row in reader:
            line = reader.line_num
            problem = None
            parsed: list[object] = []
            if len(row) != len(header):
                problem = f"expected {len(header)} columns, got {len(row)}"
            else:
                for (name, kind_type), i in zip(types.items(), where, strict=True):
                    raw = row[i].strip()
                    try:
                        parsed.append(_parse(raw, kind_type))
                    except ValueError:
                        problem = f"column {name}: {raw!r} is not {_describe(kind_type)}"
                        break
            if problem is not None:
                message = f"{path} line {line}, {problem}"
                if on_bad_row == "fail":
                    raise TardisError(message)
                report.skip(message)
                continue
            for column, value in zip(values, parsed, strict=True):
                column.append(value)
            lines.append(line)
            if len(lines) == rows_per_block:
                yield _slow_block(types, values, lines)
                values, lines = [[] for _ in types], []
        if lines:
            yield _slow_block(types, values, lines)


def _parse(raw: str, kind_type: pa.DataType) -> object:
    if kind_type == _S:
        return raw
    if raw == "":
        return None
    if kind_type == _I:
        return int(raw)
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _describe(kind_type: pa.DataType) -> str:
    return "an integer" if kind_type == _I else "a number"


def _slow_block(
    types: dict[str, pa.DataType], values: list[list[object]], lines: list[int]
) -> _Block:
    arrays = {name: pa.array(v, type=t) for (name, t), v in zip(types.items(), values, strict=True)}
    return _Block(pa.table(arrays), np.asarray(lines, dtype=np.int64))


def _run(
    job: _Job,
    path: Path,
    kind: Kind,
    blocks: Iterator[_Block],
    policy: OnBadRow | Literal["fail-fast"],
) -> None:
    thinner = _Thinner(kind, job.cadence_ms, job.gap_ms, path, job.report)
    writer = _Writer(job, _TABLE_OF[kind], path)
    for block in blocks:
        job.report.rows_read += block.rows.num_rows
        rows = _checked(block, kind, path, policy, job.report)
        for snapshot in thinner.feed(_to_store(rows, kind)):
            writer.add(snapshot)
    for snapshot in thinner.finish():
        writer.add(snapshot)
    writer.flush()


def _checked(
    block: _Block,
    kind: Kind,
    path: Path,
    policy: OnBadRow | Literal["fail-fast"],
    report: ImportReport,
) -> pa.Table:
    """``block``'s rows without the bad ones (skip), or an error naming the first (fail)."""
    rows = block.rows
    bad = np.zeros(rows.num_rows, dtype=bool)
    reasons: list[tuple[np.ndarray, str]] = []
    for name in _REQUIRED_NONEMPTY[kind]:
        column = rows.column(name)
        empty = column.is_null().to_numpy(zero_copy_only=False)
        if column.type == _S:
            empty = empty | pc.equal(column, "").fill_null(True).to_numpy(zero_copy_only=False)
        reasons.append((empty, f"column {name}: empty"))
    if kind == "options_chain":
        strike = _floats(rows, "strike_price")
        reasons.append((~(strike > 0), "column strike_price: must be > 0 USD"))
        option_type = rows.column("type")
        not_type = ~pc.is_in(option_type, pa.array(["call", "put"])).to_numpy(zero_copy_only=False)
        reasons.append((not_type, "column type: must be call or put"))
        reasons.extend(_unit_checks(rows, strike))
    else:
        for name in ("mark_price", "index_price"):
            price = _floats(rows, name)
            reasons.append((price <= 0, f"column {name}: must be > 0 USD"))
    for mask, _reason in reasons:
        bad |= mask
    if not bad.any():
        return rows
    if policy == "fail-fast":
        raise _SlowPathError
    for i in np.flatnonzero(bad):
        reason = next(r for mask, r in reasons if mask[i])
        message = f"{path} line {int(block.lines[i])}, {reason}"
        if policy == "fail":
            raise TardisError(message)
        report.skip(message)
    return rows.filter(pa.array(~bad))


def _unit_checks(rows: pa.Table, strike: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Premiums that cannot be in the venue's unit, and negative prices or IVs."""
    venue = rows.column("exchange")[0].as_py() if rows.num_rows else ""
    unit = premium_unit_of(venue)
    forward = _floats(rows, "underlying_price")
    bound = np.maximum(1.0, strike / forward) if unit == "coin" else np.maximum(forward, strike)
    checks = []
    for name in ("bid_price", "ask_price", "mark_price"):
        price = _floats(rows, name)
        checks.append((price < 0, f"column {name}: must be >= 0"))
        checks.append(
            (
                price > UNIT_SLACK * bound,
                f"column {name}: above any {venue} premium in {unit} (at most max("
                + ("1, strike/underlying_price) coin" if unit == "coin" else "underlying, strike)")
                + "): a premium in the wrong unit?",
            )
        )
    for name in ("bid_iv", "ask_iv", "mark_iv"):
        checks.append((_floats(rows, name) < 0, f"column {name}: must be >= 0 percent"))
    checks.append((~(forward > 0), "column underlying_price: must be > 0 USD"))
    return checks


def _floats(rows: pa.Table, name: str) -> np.ndarray:
    """A float column as numpy, empty cells as NaN."""
    values: np.ndarray = rows.column(name).to_numpy(zero_copy_only=False)
    return values.astype(np.float64, copy=False)


def _nan_filled(rows: pa.Table, name: str, scale: float = 1.0) -> pa.Array:
    values = _floats(rows, name)
    return pa.array(values / scale if scale != 1.0 else values, type=_F)


def _underlying(symbols: pa.ChunkedArray) -> pa.Array:
    """``BTC-9JUN20-9875-P`` -> BTC, ``ETH_USDC-PERPETUAL`` -> ETH, ``BTCUSDT`` -> BTC."""
    head = pc.list_element(pc.split_pattern(symbols, "-", max_splits=1), 0)
    head = pc.list_element(pc.split_pattern(head, "_", max_splits=1), 0)
    return pc.replace_substring_regex(pc.utf8_upper(head), r"(USDT|USDC|USD|BUSD)$", "")


def _to_store(rows: pa.Table, kind: Kind) -> pa.Table:
    """Tardis rows in the store's columns and units, plus ``_bucket_us`` and ``underlying``."""
    n = rows.num_rows
    nan = pa.array(np.full(n, np.nan), type=_F)
    ts_us = rows.column("timestamp")
    out: dict[str, object] = {"_ts_us": ts_us, "instrument": rows.column("symbol")}
    if kind == "options_chain":
        venue = rows.column("exchange")[0].as_py() if n else ""
        out |= {
            "expiry_ms": pc.divide(rows.column("expiration"), US_PER_MS),
            "strike_usd": rows.column("strike_price"),
            "option_type": rows.column("type"),
            "premium_unit": pa.array([premium_unit_of(venue)] * n, type=_S),
            "bid_premium": _nan_filled(rows, "bid_price"),
            "ask_premium": _nan_filled(rows, "ask_price"),
            "mark_premium": _nan_filled(rows, "mark_price"),
            "bid_size_coin": _nan_filled(rows, "bid_amount"),
            "ask_size_coin": _nan_filled(rows, "ask_amount"),
            "bid_iv": _nan_filled(rows, "bid_iv", PERCENT),
            "ask_iv": _nan_filled(rows, "ask_iv", PERCENT),
            "mark_iv": _nan_filled(rows, "mark_iv", PERCENT),
            "index_usd": nan,
            "forward_name": rows.column("underlying_index"),
            "forward_usd": _nan_filled(rows, "underlying_price"),
            "delta_coin": _nan_filled(rows, "delta"),
            "gamma_per_usd": _nan_filled(rows, "gamma"),
            "vega_usd_per_volpt": _nan_filled(rows, "vega"),
            "theta_usd_per_day": _nan_filled(rows, "theta"),
            "open_interest_coin": _nan_filled(rows, "open_interest"),
        }
    else:
        out |= {
            "mark_usd": _nan_filled(rows, "mark_price"),
            "index_usd": _nan_filled(rows, "index_price"),
            "last_usd": _nan_filled(rows, "last_price"),
            "bid_usd": nan,
            "ask_usd": nan,
            "funding_rate": _nan_filled(rows, "funding_rate"),
            "open_interest": _nan_filled(rows, "open_interest"),
        }
    out["underlying"] = _underlying(rows.column("symbol"))
    out["venue"] = rows.column("exchange")
    return pa.table(out)


class _Thinner:
    """Buckets rows by exchange time and yields one snapshot of every instrument per bucket."""

    def __init__(self, kind: Kind, cadence_ms: int, gap_ms: int, path: Path, report: ImportReport):
        self.kind, self.cadence_us, self.path, self.report = (
            kind,
            cadence_ms * US_PER_MS,
            path,
            report,
        )
        self.gap_buckets = max(1, gap_ms * US_PER_MS // self.cadence_us)
        self.open_bucket: int | None = None
        self.state: pa.Table | None = None

    def feed(self, rows: pa.Table) -> Iterator[pa.Table]:
        if rows.num_rows == 0:
            return
        bucket = rows.column("_ts_us").to_numpy() // self.cadence_us
        if self.open_bucket is not None:
            bucket = np.maximum(bucket, self.open_bucket)
        bucket = np.maximum.accumulate(bucket)
        edges = np.flatnonzero(np.diff(bucket)) + 1
        starts = np.concatenate(([0], edges))
        ends = np.concatenate((edges, [bucket.size]))
        for start, end in zip(starts, ends, strict=True):
            b = int(bucket[start])
            if self.open_bucket is not None and b != self.open_bucket:
                yield from self._emit()
                if b - self.open_bucket > self.gap_buckets:
                    self._gap(self.open_bucket, b)
            self.open_bucket = b
            self._apply(rows.slice(start, end - start))

    def finish(self) -> Iterator[pa.Table]:
        if self.open_bucket is not None:
            yield from self._emit()

    def _apply(self, rows: pa.Table) -> None:
        """The state with each instrument's last row of ``rows``."""
        if rows.num_rows > 1:
            order = pa.array(np.arange(rows.num_rows))
            last = (
                rows.select(["instrument"])
                .append_column("_row", order)
                .group_by("instrument", use_threads=False)
                .aggregate([("_row", "max")])
                .column("_row_max")
            )
            rows = rows.take(np.sort(last.to_numpy()))
        if self.state is None:
            self.state = rows
            return
        kept = self.state.filter(
            pc.invert(pc.is_in(self.state.column("instrument"), rows.column("instrument")))
        )
        self.state = pa.concat_tables([kept, rows])

    def _emit(self) -> Iterator[pa.Table]:
        assert self.state is not None and self.open_bucket is not None
        ts_ms = (self.open_bucket + 1) * self.cadence_us // US_PER_MS
        if self.kind == "options_chain":
            self.state = self.state.filter(pc.greater(self.state.column("expiry_ms"), ts_ms))
        if self.state.num_rows:
            stamped = self.state.drop_columns(["_ts_us"])
            yield stamped.append_column("ts_ms", pa.array(np.full(stamped.num_rows, ts_ms)))

    def _gap(self, last_bucket: int, next_bucket: int) -> None:
        a = iso_utc((last_bucket + 1) * self.cadence_us // US_PER_MS)
        b = iso_utc(next_bucket * self.cadence_us // US_PER_MS)
        self.report.gaps.append(f"{self.path}: no rows from {a} to {b}")


class _Writer:
    """Collects snapshots and writes them to the staging directory every ``FLUSH_ROWS`` rows."""

    def __init__(self, job: _Job, table: str, path: Path) -> None:
        self.store, self.staging, self.table, self.report = (
            job.store,
            job.staging,
            table,
            job.report,
        )
        self.tag = path.name.removesuffix(".gz").removesuffix(".csv").replace(" ", "_")
        self.pending: list[pa.Table] = []
        self.rows = 0
        self.flushes = 0

    def add(self, snapshot: pa.Table) -> None:
        self.pending.append(snapshot)
        self.rows += snapshot.num_rows
        if self.rows >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        rows = pa.concat_tables(self.pending)
        self.pending, self.rows = [], 0
        keys = rows.select(["venue", "underlying"]).group_by(["venue", "underlying"]).aggregate([])
        for venue, underlying in zip(
            keys.column("venue").to_pylist(), keys.column("underlying").to_pylist(), strict=True
        ):
            mask = pc.and_(
                pc.equal(rows.column("venue"), venue),
                pc.equal(rows.column("underlying"), underlying),
            )
            try:
                written = self.store.write(
                    self.table,
                    venue,
                    underlying,
                    rows.filter(mask),
                    tag=f"{self.tag}-{self.flushes:05d}",
                    staging=self.staging,
                )
            except StoreError as exc:
                raise TardisError(f"{self.tag}: {exc}") from None
            self.report.rows_written[self.table] = (
                self.report.rows_written.get(self.table, 0) + written
            )
        self.flushes += 1
