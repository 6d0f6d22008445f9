"""Columnar position table: the book as a struct of numpy arrays.

Exposure, margin and the backtester work on 10^5 positions at a time, so the
book is stored one array per field with one element per position, and every
computation after :meth:`PositionTable.from_snapshots` is vectorised. Only that
builder walks Python objects.

Units follow the snapshot they came from (docs/architecture.md §3): ``size`` is in the
venue amount unit (USD for Deribit inverse perps and futures, coin otherwise),
``mark_price`` in the instrument's price currency (coin for a Deribit option),
``mark_iv`` a fraction, ``strike_usd``/``underlying_usd``/``index_usd`` in USD.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import repeat
from operator import attrgetter, is_, itemgetter
from types import MappingProxyType
from typing import Any, Final, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.snapshot import Mark, Position, VenueSnapshot
from bot.pricing.arrays import FloatArray

NO_EXPIRY_MS: Final = -1
"""``expiry_ms`` of perpetuals and spot, which never expire."""
NO_MARK_TS_MS: Final = int(np.iinfo(np.int64).max)
"""``mark_ts_ms`` of a position without a mark (or whose table was built from arrays):
later than any real mark, so never the oldest."""


class KindCode(IntEnum):
    """Small-int code of :class:`InstrumentKind` stored in ``PositionTable.kind``."""

    OPTION = 0
    FUTURE = 1
    PERPETUAL = 2
    SPOT = 3

    @classmethod
    def of(cls, kind: InstrumentKind) -> KindCode:
        return cls[kind.name]


_INT: Final = ("underlying_idx", "venue_idx", "expiry_ms", "mark_ts_ms")
_BOOL: Final = ("is_call", "is_inverse", "amount_is_usd")
_FLOAT: Final = ("size", "strike_usd", "mark_price", "mark_iv", "underlying_usd", "venue_delta")
_ROW_ORDER: Final = (
    "underlying_idx",
    "venue_idx",
    "kind",
    *_BOOL,
    "size",
    "strike_usd",
    "expiry_ms",
    "mark_price",
    "mark_iv",
    "underlying_usd",
    "venue_delta",
)
_DTYPES: Final[dict[str, np.dtype[Any]]] = {
    **{name: np.dtype(np.int64) for name in _INT},
    **{name: np.dtype(np.bool_) for name in _BOOL},
    **{name: np.dtype(np.float64) for name in _FLOAT},
    "kind": np.dtype(np.int8),
}
_INSTRUMENT_GET: Final = MappingProxyType(
    {
        name: attrgetter(name)
        for name in (
            "underlying", "kind", "option_type", "settlement", "amount_unit", "strike_usd",
            "expiry_ms", "symbol",
        )
    }
)  # fmt: skip
_MARK_COLUMNS: Final = MappingProxyType(
    {name: attrgetter(name) for name in ("mark_price", "mark_iv", "underlying_usd", "venue_delta")}
)
_NO_MARK: Final = Mark(Symbol("-"), math.nan, math.nan, NO_MARK_TS_MS)
"""Stands in for a missing mark: NaN prices, which exposure rejects by symbol."""
_SIZE: Final = attrgetter("size")
_INSTRUMENT: Final = attrgetter("instrument")
_MARK_TS: Final = attrgetter("ts_ms")
_KIND_CODE: Final = MappingProxyType({k: KindCode[k.name] for k in InstrumentKind})


@dataclass(frozen=True, slots=True)
class PositionTable:
    """One element per position; arrays are read-only views.

    ``underlying_idx``/``venue_idx`` index ``underlyings``/``venues``;
    ``index_usd`` is aligned with ``underlyings`` (NaN where no venue reported
    one); ``venue_delta`` is the venue's own delta per unit (NaN where it gave
    none); ``mark_ts_ms`` the venue's time of the position's mark
    (:data:`NO_MARK_TS_MS` without one); ``symbols`` is empty or one name per
    position (used in error messages). Non-options carry ``is_call`` False and ``strike_usd`` NaN;
    perpetuals and spot carry ``expiry_ms`` = :data:`NO_EXPIRY_MS`.
    """

    underlyings: tuple[Currency, ...]
    venues: tuple[VenueId, ...]
    underlying_idx: NDArray[np.int64]
    venue_idx: NDArray[np.int64]
    kind: NDArray[np.int8]
    is_call: NDArray[np.bool_]
    is_inverse: NDArray[np.bool_]
    amount_is_usd: NDArray[np.bool_]
    size: NDArray[np.float64]
    strike_usd: NDArray[np.float64]
    expiry_ms: NDArray[np.int64]
    mark_price: NDArray[np.float64]
    mark_iv: NDArray[np.float64]
    underlying_usd: NDArray[np.float64]
    venue_delta: NDArray[np.float64]
    mark_ts_ms: NDArray[np.int64]
    index_usd: NDArray[np.float64]
    symbols: tuple[Symbol, ...] = ()

    def __post_init__(self) -> None:
        n = _check_column("underlying_idx", self.underlying_idx, None)
        for name in _DTYPES:
            _check_column(name, getattr(self, name), n)
        _check_names("underlyings", self.underlyings)
        _check_names("venues", self.venues)
        checked = _instrument_columns_checked(self)
        if not checked:
            _check_range("underlying_idx", self.underlying_idx, len(self.underlyings))
            _check_range("venue_idx", self.venue_idx, len(self.venues))
            _check_range("kind", self.kind, len(KindCode))
        index = self.index_usd
        if not isinstance(index, np.ndarray) or index.dtype != np.float64 or index.ndim != 1:
            raise TypeError(f"index_usd must be a 1-D float64 array, got {index!r}")
        if index.shape != (len(self.underlyings),):
            raise ValueError(f"index_usd needs one price per underlying {self.underlyings}")
        if (index <= 0).any() or np.isinf(index).any():
            raise ValueError(f"index_usd must be positive and finite or NaN, got {index}")
        if self.symbols and len(self.symbols) != n:
            raise ValueError(f"symbols has {len(self.symbols)} names for {n} positions")
        self._check_semantics(instruments_checked=checked)
        if not checked:
            _remember_checked(self)
        for name in (*_DTYPES, "index_usd"):
            view = getattr(self, name).view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)

    def _check_semantics(self, *, instruments_checked: bool) -> None:
        _reject("size is not finite", ~np.isfinite(self.size), self)
        if not instruments_checked:
            self._check_instrument_columns()
        _reject("mark_iv is negative", self.mark_iv < 0, self)

    def _check_instrument_columns(self) -> None:
        is_option = self.kind == KindCode.OPTION
        dated = is_option | (self.kind == KindCode.FUTURE)
        _reject(
            "an option needs a positive finite strike_usd",
            is_option & ~(np.isfinite(self.strike_usd) & (self.strike_usd > 0)),
            self,
        )
        _reject("only options carry a strike", ~is_option & ~np.isnan(self.strike_usd), self)
        _reject("only options can be calls", ~is_option & self.is_call, self)
        _reject("an option or future needs expiry_ms >= 0", dated & (self.expiry_ms < 0), self)
        _reject(
            "a perpetual or spot position has expiry_ms NO_EXPIRY_MS",
            ~dated & (self.expiry_ms != NO_EXPIRY_MS),
            self,
        )
        _reject(
            "USD-counted amounts exist only on inverse futures and perpetuals",
            self.amount_is_usd & ~(self.is_inverse & ~is_option & (self.kind != KindCode.SPOT)),
            self,
        )

    def __len__(self) -> int:
        return int(self.size.shape[0])

    def label(self, i: int) -> str:
        """Human name of position ``i`` for error messages: index and symbol if known."""
        return f"position {i} ({self.symbols[i]})" if self.symbols else f"position {i}"

    def forward_usd(self) -> FloatArray:
        """Each position's forward in USD: an option's underlying price (what the venue priced
        it against), any other instrument's own mark; what the margin and exposure models
        revalue around."""
        forward: FloatArray = np.where(
            self.kind == KindCode.OPTION, self.underlying_usd, self.mark_price
        )
        return forward

    def rows_of(self, wanted: frozenset[Symbol]) -> NDArray[np.int64]:
        """The rows (ascending) whose symbol is in ``wanted``, e.g. a cycle's hedge routes.

        Memoised on this book's ``symbols`` tuple, which the tables of one instrument memo
        share: a cycle pays a pass over the book's symbols only when its instruments
        changed, not every cycle (a loop over 10,000 positions to find six routes).
        """
        if _LAST_ROWS:
            symbols, last_wanted, rows = _LAST_ROWS[0]
            if symbols is self.symbols and last_wanted == wanted:
                return rows
        n = len(self.symbols)
        rows = np.flatnonzero(np.fromiter(map(wanted.__contains__, self.symbols), np.bool_, n))
        rows.flags.writeable = False
        _LAST_ROWS[:] = [(self.symbols, wanted, rows)]
        return rows

    def expiry_groups(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.intp]]:
        """The distinct (underlying, expiry) pairs of the book's rows, sorted by underlying
        then expiry (``underlying_idx``, ``expiry_ms`` per pair), and each row's pair: what
        exposure sums its expiry buckets over.

        Memoised on the instrument memo's read-only columns, which the tables of one memo
        share: a cycle sorts its 10,000 rows only when its instruments changed.
        """
        und, expiry = _memo_column(self.underlying_idx), _memo_column(self.expiry_ms)
        if _LAST_GROUPS and und is not None and expiry is not None:
            last_und, last_expiry, groups = _LAST_GROUPS[0]
            if und is last_und and expiry is last_expiry:
                return groups
        span = int(self.expiry_ms.max(initial=0)) + 2  # expiry_ms + 1 lies in [0, span)
        if len(self.underlyings) * span >= np.iinfo(np.int64).max:
            raise ValueError(f"expiry_ms up to {span - 2} is not a millisecond timestamp")
        keys, row_group = np.unique(
            self.underlying_idx * span + (self.expiry_ms + 1), return_inverse=True
        )
        groups = (keys // span, keys % span - 1, row_group)
        for arr in groups:
            arr.flags.writeable = False
        if und is not None and expiry is not None:
            _LAST_GROUPS[:] = [(und, expiry, groups)]
        return groups

    @classmethod
    def from_arrays(
        cls,
        *,
        underlyings: Sequence[str],
        underlying_idx: ArrayLike,
        kind: ArrayLike,
        size: ArrayLike,
        is_inverse: ArrayLike,
        amount_is_usd: ArrayLike,
        venues: Sequence[str] = ("backtest",),
        venue_idx: ArrayLike = 0,
        is_call: ArrayLike = False,
        strike_usd: ArrayLike = np.nan,
        expiry_ms: ArrayLike = NO_EXPIRY_MS,
        mark_price: ArrayLike = np.nan,
        mark_iv: ArrayLike = np.nan,
        underlying_usd: ArrayLike = np.nan,
        venue_delta: ArrayLike = np.nan,
        mark_ts_ms: ArrayLike = NO_MARK_TS_MS,
        index_usd: ArrayLike = np.nan,
        symbols: Sequence[str] = (),
    ) -> PositionTable:
        """Build from arrays (backtester, benches); scalars broadcast to every position.

        Values are copied and cast to the column dtypes; a lossy cast (e.g.
        2.5 into an int column) raises instead of truncating.
        """
        if np.ndim(size) != 1:
            raise ValueError(f"size must be a 1-D array, got shape {np.shape(size)}")
        n = int(np.shape(size)[0])
        given = {
            "underlying_idx": underlying_idx,
            "venue_idx": venue_idx,
            "kind": kind,
            "is_call": is_call,
            "is_inverse": is_inverse,
            "amount_is_usd": amount_is_usd,
            "size": size,
            "strike_usd": strike_usd,
            "expiry_ms": expiry_ms,
            "mark_price": mark_price,
            "mark_iv": mark_iv,
            "underlying_usd": underlying_usd,
            "venue_delta": venue_delta,
            "mark_ts_ms": mark_ts_ms,
        }
        cols = {name: _cast(name, value, (n,), _DTYPES[name]) for name, value in given.items()}
        return cls(
            underlyings=tuple(Currency(u) for u in underlyings),
            venues=tuple(VenueId(v) for v in venues),
            index_usd=_cast("index_usd", index_usd, (len(underlyings),), np.dtype(np.float64)),
            symbols=tuple(Symbol(s) for s in symbols),
            **cols,
        )

    @classmethod
    def from_snapshots(
        cls, snapshots: Iterable[VenueSnapshot], underlyings: Iterable[str] = ()
    ) -> PositionTable:
        """Flatten venue snapshots into columns (the one place that loops in Python).

        ``underlyings`` adds names without positions (e.g. to carry coin
        collateral). A position without a mark gets NaN prices, which exposure
        rejects by symbol rather than treating as flat. ``index_usd`` is taken
        from the snapshot :func:`index_venues` names.
        """
        return cls.with_index_venues(snapshots, underlyings)[0]

    @classmethod
    def with_index_venues(
        cls, snapshots: Iterable[VenueSnapshot], underlyings: Iterable[str] = ()
    ) -> tuple[PositionTable, list[int]]:
        """:meth:`from_snapshots`, and per underlying the snapshot its ``index_usd`` came from
        (:func:`index_venues`, −1: none): the plan dates its inputs by that choice, made
        once a cycle rather than again from the table's columns."""
        snaps = tuple(snapshots)
        venues = tuple(s.venue for s in snaps)
        if len(set(venues)) != len(venues):
            raise ValueError(f"a venue appears in more than one snapshot: {venues}")
        positions: list[Position] = []  # list.extend copies a tuple at C speed; chain does not
        for snap in snaps:
            positions.extend(snap.positions)
        static = _static_columns(snaps, positions, tuple(underlyings))
        # C-level fetches, one column at a time (map, fromiter): this runs every cycle over
        # the whole book, and a tuple per position would be ~n objects for the collector.
        # numpy turns None into NaN in a float column.
        n = len(positions)
        marks: list[Mark] = []
        for snap, fetch in zip(snaps, static.mark_fetchers, strict=True):
            marks.extend(fetch(snap.marks))
        cols: dict[str, NDArray[Any]] = {
            **static.columns,
            "size": np.fromiter(map(_SIZE, positions), np.float64, n),
            **{
                name: np.fromiter(map(get, marks), np.float64, n)
                for name, get in _MARK_COLUMNS.items()
            },
            "mark_ts_ms": np.fromiter(map(_MARK_TS, marks), np.int64, n),
        }
        chosen = index_venues(
            snaps, static.names, cols["kind"], cols["venue_idx"], cols["underlying_idx"]
        )
        index_usd = np.array(
            [
                np.nan if v < 0 else snaps[v].index_usd[u]
                for u, v in zip(static.names, chosen, strict=True)
            ],
            dtype=np.float64,
        )
        table = cls(
            underlyings=static.names,
            venues=venues,
            index_usd=index_usd,
            symbols=static.symbols,
            **cols,
        )
        return table, chosen


def index_venues(
    snapshots: Sequence[VenueSnapshot],
    underlyings: Sequence[str],
    kind: NDArray[np.int8],
    venue_idx: NDArray[np.int64],
    underlying_idx: NDArray[np.int64],
) -> list[int]:
    """Per underlying, the snapshot (its position in ``snapshots``, −1: none) whose index
    the book counts at: the newest of the venues holding options on it that report one,
    else the newest of all that report one.

    The options are valued at their own venue's forwards, so their venue's index is the
    spot those values belong to; the hedge venues' prices are moved to it (a linear
    price moves exactly, an option's only as well as its smile stays put), so the
    venues' reads minutes of a fast clock apart still value the book at one instant.
    ``kind``, ``venue_idx`` and ``underlying_idx`` are the table's columns.
    """
    pairs = venue_idx * len(underlyings) + underlying_idx  # one bincount: no masked gathers
    held = np.bincount(
        pairs, weights=kind == KindCode.OPTION, minlength=len(snapshots) * len(underlyings)
    )
    holds = held.reshape(len(snapshots), len(underlyings)) > 0
    order = sorted(range(len(snapshots)), key=lambda v: snapshots[v].ts_ms)
    out = []
    for u, name in enumerate(underlyings):
        reporting = [v for v in order if name in snapshots[v].index_usd]
        options = [v for v in reporting if holds[v, u]]
        out.append((options or reporting or [-1])[-1])
    return out


@dataclass(frozen=True, slots=True)
class _Static:
    """What a book's instruments alone decide: names, symbols and the static columns."""

    instruments: tuple[Instrument, ...]
    extra: tuple[str, ...]
    counts: tuple[int, ...]
    names: tuple[Currency, ...]
    symbols: tuple[Symbol, ...]
    mark_fetchers: tuple[Callable[[Mapping[Symbol, Mark]], Sequence[Mark]], ...]
    columns: dict[str, NDArray[Any]]


_LAST_ROWS: list[tuple[tuple[Symbol, ...], frozenset[Symbol], NDArray[np.int64]]] = []
"""A one-entry memo of :meth:`PositionTable.rows_of`; the entry holds the symbols tuple it
was computed on, so an identity match is never a recycled id."""

_LAST_GROUPS: list[
    tuple[
        NDArray[np.int64],
        NDArray[np.int64],
        tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.intp]],
    ]
] = []
"""A one-entry memo of :meth:`PositionTable.expiry_groups`, kept only for the read-only
columns of the instrument memo (which it holds, so a match is never a recycled id)."""

_LAST_STATIC: list[_Static] = []
"""A one-entry memo: a daemon polls the same instrument objects (the venue adapter caches
them), so only sizes and marks change between cycles. The instruments are compared
element by element (identity, else equality: the columns depend on their values alone),
and the entry holds its instruments, so a match is never a recycled id."""


def _static_columns(
    snaps: tuple[VenueSnapshot, ...], positions: list[Position], extra: tuple[str, ...]
) -> _Static:
    instruments = tuple(map(_INSTRUMENT, positions))
    counts = tuple(len(s.positions) for s in snaps)
    if _LAST_STATIC:
        last = _LAST_STATIC[0]
        # Tuple equality tries identity first, element by element in C: the same objects
        # match at a fraction of a call per element; equal instruments match as well.
        if last.extra == extra and last.counts == counts and instruments == last.instruments:
            return last
    # One C-level pass per field (map, fromiter), no tuple per instrument: a new book of
    # 100,000 positions is built within the cold cycle's budget (issue 18).
    n = len(instruments)
    u = list(map(_INSTRUMENT_GET["underlying"], instruments))
    names = tuple(Currency(x) for x in sorted(set(u) | set(extra)))
    where = {name: i for i, name in enumerate(names)}
    expiry_f = np.fromiter(map(_INSTRUMENT_GET["expiry_ms"], instruments), np.float64, n)
    symbols = tuple(map(_INSTRUMENT_GET["symbol"], instruments))
    bounds = np.cumsum((0, *counts)).tolist()

    def flags(field: str, value: object) -> NDArray[np.bool_]:
        return np.fromiter(
            map(is_, map(_INSTRUMENT_GET[field], instruments), repeat(value)), np.bool_, n
        )

    kinds = map(_INSTRUMENT_GET["kind"], instruments)
    columns: dict[str, NDArray[Any]] = {
        "underlying_idx": np.fromiter(map(where.__getitem__, u), np.int64, n),
        "venue_idx": np.repeat(np.arange(len(snaps), dtype=np.int64), counts),
        "kind": np.fromiter(map(_KIND_CODE.__getitem__, kinds), np.int8, n),
        "is_call": flags("option_type", OptionType.CALL),
        "is_inverse": flags("settlement", Settlement.INVERSE),
        "amount_is_usd": flags("amount_unit", AmountUnit.USD),
        "strike_usd": np.fromiter(map(_INSTRUMENT_GET["strike_usd"], instruments), np.float64, n),
        "expiry_ms": np.where(np.isnan(expiry_f), NO_EXPIRY_MS, expiry_f).astype(np.int64),
    }
    for col in columns.values():
        col.flags.writeable = False  # shared between the tables built from this memo
    static = _Static(
        instruments=instruments,
        extra=extra,
        counts=counts,
        names=names,
        symbols=symbols,
        mark_fetchers=tuple(_mark_fetcher(symbols[a:b]) for a, b in itertools.pairwise(bounds)),
        columns=columns,
    )
    _LAST_STATIC[:] = [static]
    return static


_INSTRUMENT_COLUMNS: Final = (
    "underlying_idx", "venue_idx", "kind", "is_call", "is_inverse", "amount_is_usd",
    "strike_usd", "expiry_ms",
)  # fmt: skip
"""The columns a book's instruments alone decide (:class:`_Static`)."""

_LAST_CHECKED: list[tuple[int, int, tuple[NDArray[Any], ...]]] = []
"""A one-entry memo: the instrument memo's columns (and the name counts their indices were
checked against) that passed the range and instrument checks. Held, so never a recycled id."""


def _instrument_key(table: PositionTable) -> tuple[int, int, tuple[NDArray[Any], ...]] | None:
    """What a table's instrument checks depend on, if its instrument columns are all whole
    read-only arrays (the memo's); None otherwise."""
    columns = tuple(_memo_column(getattr(table, name)) for name in _INSTRUMENT_COLUMNS)
    if any(c is None for c in columns):
        return None
    return len(table.underlyings), len(table.venues), cast(tuple[NDArray[Any], ...], columns)


def _instrument_columns_checked(table: PositionTable) -> bool:
    """Whether ``table``'s instrument columns are the memo's, already checked: a cycle then
    checks only its sizes and vols, not again the 10,000 rows its instruments fixed."""
    key = _instrument_key(table)
    if key is None or not _LAST_CHECKED:
        return False
    underlyings, venues, columns = _LAST_CHECKED[0]
    return (underlyings, venues) == key[:2] and all(map(is_, columns, key[2]))


def _remember_checked(table: PositionTable) -> None:
    key = _instrument_key(table)
    if key is not None:
        _LAST_CHECKED[:] = [key]


def _memo_column(view: NDArray[Any]) -> NDArray[Any] | None:
    """The read-only array that is ``view`` or that ``view`` shows all of, as every table
    built from the instrument memo shows the memo's columns; else None. A key no slice,
    reordering or writable copy can match."""
    base = view if view.base is None else view.base
    if (
        isinstance(base, np.ndarray)
        and not base.flags.writeable
        and base.shape == view.shape
        and base.strides == view.strides
        and base.ctypes.data == view.ctypes.data
    ):
        return base
    return None


def _mark_fetcher(symbols: tuple[Symbol, ...]) -> Callable[[Mapping[Symbol, Mark]], Sequence[Mark]]:
    """A venue's marks of ``symbols`` in order, :data:`_NO_MARK` for a missing one.

    One ``itemgetter`` over all the symbols, built once per instrument memo: a single
    C-level call per venue, half the cost of a ``dict.get`` per position (10,000 positions,
    every cycle); a missing mark (rare) falls back to that walk.
    """

    def walk(marks: Mapping[Symbol, Mark]) -> Sequence[Mark]:
        return tuple(map(marks.get, symbols, repeat(_NO_MARK)))

    if len(symbols) < 2:  # itemgetter of one key returns the value, not a tuple
        return walk
    fetch_all = itemgetter(*symbols)

    def fetch(marks: Mapping[Symbol, Mark]) -> Sequence[Mark]:
        try:
            found: Sequence[Mark] = fetch_all(marks)
        except KeyError:
            return walk(marks)
        return found

    return fetch


def _check_column(name: str, arr: object, n: int | None) -> int:
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(arr).__name__}")
    if arr.dtype != _DTYPES[name]:
        raise TypeError(f"{name} must have dtype {_DTYPES[name]}, got {arr.dtype}")
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        want = "1-D" if n is None else f"shape ({n},)"
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    return int(arr.shape[0])


def _check_names(what: str, names: tuple[str, ...]) -> None:
    if len(set(names)) != len(names):
        raise ValueError(f"{what} has duplicate names: {names}")


def _check_range(name: str, codes: NDArray[Any], bound: int) -> None:
    bad = (codes < 0) | (codes >= bound)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}] = {codes[i]} is outside [0, {bound})")


def _reject(problem: str, bad: NDArray[np.bool_], table: PositionTable) -> None:
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{table.label(i)}: {problem} ({int(bad.sum())} positions)")


def _cast(name: str, value: ArrayLike, shape: tuple[int], dtype: np.dtype[Any]) -> NDArray[Any]:
    src = np.asarray(value)
    try:
        wide = np.broadcast_to(src, shape)
    except ValueError:
        raise ValueError(f"{name} has shape {src.shape}, expected {shape} or a scalar") from None
    out = np.array(wide, dtype=dtype)
    if dtype.kind in "ib" and not np.array_equal(out, wide):
        raise ValueError(f"{name} holds values that are not exact {dtype}")
    return out
