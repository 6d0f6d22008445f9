"""A real book's recorded market, read from the chain store onto one time grid.

The grid is every snapshot time of the book's option partitions inside
``[from_ms, to_ms]`` at which each hedge has a quote of that moment
(:func:`_quoted`). Each leg is found in its venue's and underlying's
``options`` rows by expiry, strike and call/put (not by name: a Tardis import
names it ``BTC-25DEC26-55000-P``, the recorder ``BTC/USD:BTC-261225-55000-P``),
and each hedge route by its venue, underlying and symbol in ``hedges``. A value
is the latest at or before each grid time (as of), NaN before the first.
Settlement prices come from ``settlements``; an expiry with none settles at
the last index at or before it, and :attr:`ChainMarket.settled_from` says which.

Premiums are converted to USD per coin of option here: a coin premium times
the index (the forward when the row has no index), a USD premium as is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bot.chain.store import ChainStore, Partition, arrow_schema
from bot.domain.timeunits import MS_PER_DAY, MS_PER_YEAR, iso_utc
from bot.pricing import black_scholes
from bot.pricing.arrays import FloatArray
from bot.pricing.svi import fit_svi

MarkSource = Literal["mark", "mid", "svi"]
"""What an option is worth: the venue's mark, the mid of the recorded bid and ask, or
Black-Scholes at the vol of a raw-SVI smile fitted to its expiry's mark IVs in that
snapshot (see :func:`_svi_marks`)."""
MIN_SVI_POINTS = 5
"""Marks of one expiry in one snapshot that a smile needs (raw SVI has five parameters)."""
STRIKE_TOLERANCE_USD = 1e-6
POLL_SKEW_MS = 5_000
"""The venues of one poll are read a few milliseconds (at worst seconds) apart: a quote up to
this long after a grid time counts as of it."""


class ChainDataError(ValueError):
    """The store cannot supply what the book needs; the message names the leg or route."""


@dataclass(frozen=True, slots=True)
class ChainLeg:
    """One option of the book: where it trades and what it is; ``size_coin`` < 0 written."""

    venue: str
    underlying: str
    option_type: Literal["call", "put"]
    strike_usd: float
    expiry_ms: int
    size_coin: float

    @property
    def label(self) -> str:
        return f"{self.venue} {self.underlying} {self.option_type} {self.strike_usd:g}"


@dataclass(frozen=True, slots=True)
class HedgeSource:
    """The instrument an underlying is hedged with (the daemon's first ``[[hedges]]`` route)."""

    underlying: str
    venue: str
    symbol: str


@dataclass(frozen=True, slots=True)
class ChainMarket:
    """The book's market on the grid: (T,) times; (T, legs) per leg; (T, underlyings) per hedge.

    ``premium_usd`` is the option's value in USD per coin (NaN where none was
    recorded); ``iv`` the mark IV (decimal); ``spot_usd`` the index the options
    were marked against (the mean over the underlying's legs; the hedge venue's
    index where none was recorded), per underlying; ``hedge_bid_usd``/
    ``hedge_ask_usd``/``hedge_mark_usd`` the hedge's quotes and ``funding_rate``
    per 8 h (NaN: not recorded).
    """

    time_ms: np.ndarray
    underlyings: tuple[str, ...]
    premium_usd: FloatArray
    iv: FloatArray
    forward_usd: FloatArray
    """(T, legs) the forward each leg was priced off: its Greeks are taken on it."""
    spot_usd: FloatArray
    hedge_mark_usd: FloatArray
    hedge_bid_usd: FloatArray
    hedge_ask_usd: FloatArray
    funding_rate: FloatArray
    settlement_usd: FloatArray
    """(legs,) the price each leg settles at (NaN if it expires after the grid)."""
    settled_from: tuple[str, ...]
    """Per leg: "delivery" (recorded), "index" (last index before expiry) or "" (no expiry)."""
    bid_usd: FloatArray
    """(T, legs) the recorded bid, USD per coin of option (NaN: none quoted)."""
    ask_usd: FloatArray
    """(T, legs) the recorded ask, USD per coin of option (NaN: none quoted)."""


def load_market(
    store: ChainStore,
    legs: Sequence[ChainLeg],
    hedges: Sequence[HedgeSource],
    *,
    mark: MarkSource,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> ChainMarket:
    """Read what ``legs`` and ``hedges`` need between ``from_ms`` and ``to_ms`` (see above)."""
    if not legs:
        raise ChainDataError("the book has no options to replay")
    underlyings = tuple(dict.fromkeys(leg.underlying for leg in legs))
    by_und = {h.underlying: h for h in hedges}
    missing = [u for u in underlyings if u not in by_und]
    if missing:
        raise ChainDataError(f"no [[hedges]] route for {', '.join(missing)}")
    option_rows = {
        part: _read(store, "options", part, from_ms, to_ms, columns=_OPTION_COLUMNS)
        for part in {Partition(leg.venue, leg.underlying) for leg in legs}
    }
    times = np.unique(np.concatenate([r.column("ts_ms").to_numpy() for r in option_rows.values()]))
    hedge_rows = {u: _hedge_rows(store, by_und[u], from_ms, to_ms) for u in underlyings}
    times = _quoted(times, hedge_rows.values())
    if times.size < 2:
        raise ChainDataError(
            f"{store.root}: fewer than 2 option snapshots for the book's venues and underlyings "
            f"({', '.join(f'{p.venue}/{p.underlying}' for p in option_rows)}) in the range "
            f"with a quote of each hedge within {POLL_SKEW_MS / 1000:g} s"
        )
    premium = np.full((times.size, len(legs)), np.nan)
    iv = np.full_like(premium, np.nan)
    leg_spot = np.full_like(premium, np.nan)
    leg_forward = np.full_like(premium, np.nan)
    bid, ask = np.full_like(premium, np.nan), np.full_like(premium, np.nan)
    for j, leg in enumerate(legs):
        rows = _leg_rows(option_rows[Partition(leg.venue, leg.underlying)], leg)
        if rows.num_rows == 0:
            raise ChainDataError(
                f"{store.root}: no recorded quotes of {leg.label} expiring "
                f"{iso_utc(leg.expiry_ms)} in options/venue={leg.venue}/underlying={leg.underlying}"
            )
        idx = _as_of(rows.column("ts_ms").to_numpy(), times)
        leg_premium, leg_iv = _premium_usd(rows, mark), _floats(rows, "mark_iv")
        if mark == "svi":
            chain = option_rows[Partition(leg.venue, leg.underlying)]
            leg_premium, leg_iv = _svi_marks(chain, rows, leg, leg_premium, leg_iv)
        premium[:, j] = _pick(leg_premium, idx)
        iv[:, j] = _pick(leg_iv, idx)
        leg_spot[:, j] = _pick(_underlying_usd(rows), idx)
        leg_forward[:, j] = _pick(_forward_usd(rows), idx)
        bid[:, j] = _pick(_side_usd(rows, "bid_premium"), idx)
        ask[:, j] = _pick(_side_usd(rows, "ask_premium"), idx)
    columns = [_hedge_columns(hedge_rows[u], times) for u in underlyings]
    hedge_spot, hmark, hbid, hask, funding = (
        np.stack(c, axis=1) for c in zip(*columns, strict=True)
    )
    spot = np.stack(
        [_mean_of(leg_spot, [leg.underlying == u for leg in legs]) for u in underlyings], axis=1
    )
    spot = np.where(np.isnan(spot), hedge_spot, spot)
    settle, source = _settlements(store, legs, underlyings, times, spot)
    return ChainMarket(
        times, underlyings, premium, iv, leg_forward, spot, hmark, hbid, hask, funding, settle,
        source, bid, ask,
    )  # fmt: skip


_OPTION_COLUMNS = (
    "expiry_ms",
    "strike_usd",
    "option_type",
    "premium_unit",
    "bid_premium",
    "ask_premium",
    "mark_premium",
    "mark_iv",
    "index_usd",
    "forward_usd",
)
"""What a leg's replay reads of the options table (the names, the largest column, are not)."""


def _read(
    store: ChainStore,
    table: str,
    part: Partition,
    from_ms: int | None,
    to_ms: int | None,
    *,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    days = list(store.read(table, part, from_ms, to_ms, columns))
    if not days:
        empty = arrow_schema(table).empty_table()
        return empty if columns is None else empty.select(["ts_ms", *columns])
    return pa.concat_tables(days)


def _leg_rows(rows: pa.Table, leg: ChainLeg) -> pa.Table:
    mask = pc.and_(
        pc.and_(
            pc.equal(rows.column("expiry_ms"), leg.expiry_ms),
            pc.equal(rows.column("option_type"), leg.option_type),
        ),
        pc.less_equal(
            pc.abs(pc.subtract(rows.column("strike_usd"), leg.strike_usd)), STRIKE_TOLERANCE_USD
        ),
    )
    return rows.filter(mask)


def _floats(rows: pa.Table, name: str) -> FloatArray:
    values: FloatArray = rows.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
    return values


def _svi_marks(
    chain: pa.Table,
    rows: pa.Table,
    leg: ChainLeg,
    premium_usd: FloatArray,
    iv: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """The leg's value and vol off the smile of its expiry, snapshot by snapshot.

    In each snapshot the expiry's marks with an IV give points k = ln(K/F),
    w = σ²·τ; :func:`bot.pricing.svi.fit_svi` fits raw SVI to them, and the leg
    is worth Black-Scholes (rate 0, on F) at the smile's vol at its own k. A
    snapshot with fewer than five such marks, or whose fit fails, keeps the
    leg's recorded mark.
    """
    expiry = chain.filter(pc.equal(chain.column("expiry_ms"), leg.expiry_ms))
    ts = expiry.column("ts_ms").to_numpy()
    strikes, vols = _floats(expiry, "strike_usd"), _floats(expiry, "mark_iv")
    forward = _floats(expiry, "forward_usd")
    premium_usd, iv = premium_usd.copy(), iv.copy()
    row_ts = rows.column("ts_ms").to_numpy()
    row_forward = _underlying_usd(rows)
    for i, t in enumerate(row_ts):
        mask = (ts == t) & np.isfinite(vols) & (vols > 0) & (forward > 0)
        tau = (leg.expiry_ms - int(t)) / MS_PER_YEAR
        if mask.sum() < MIN_SVI_POINTS or tau <= 0:
            continue
        k = np.log(strikes[mask] / forward[mask])
        try:
            fit = fit_svi(k, vols[mask] ** 2 * tau, tau_years=tau)
        except ValueError:
            continue
        vol = float(fit.implied_vol(math.log(leg.strike_usd / row_forward[i])))
        if not (math.isfinite(vol) and vol > 0):
            continue
        g = black_scholes(leg.option_type == "call", row_forward[i], leg.strike_usd, tau, vol)
        premium_usd[i], iv[i] = float(g.price), vol
    return premium_usd, iv


def _premium_usd(rows: pa.Table, mark: MarkSource) -> FloatArray:
    """USD per coin of option: coin premiums times the index (else the forward)."""
    if mark == "mid":
        premium = 0.5 * (_floats(rows, "bid_premium") + _floats(rows, "ask_premium"))
        premium = np.where(np.isnan(premium), _floats(rows, "mark_premium"), premium)
    else:
        premium = _floats(rows, "mark_premium")
    return _in_usd(rows, premium)


def _in_usd(rows: pa.Table, premium: FloatArray) -> FloatArray:
    """Premiums of ``rows`` in USD per coin: coin ones times the index (else the forward)."""
    in_coin = rows.column("premium_unit").to_numpy(zero_copy_only=False) == "coin"
    return np.where(in_coin, premium * _underlying_usd(rows), premium)


def _side_usd(rows: pa.Table, name: str) -> FloatArray:
    """A quote column in USD per coin of option (coin premiums times the index); NaN for
    no quote or a zero one."""
    price = _floats(rows, name)
    return _in_usd(rows, np.where(price > 0, price, np.nan))


def _forward_usd(rows: pa.Table) -> FloatArray:
    """The forward the venue priced the option off, else the index."""
    forward = _floats(rows, "forward_usd")
    return np.where(np.isnan(forward) | (forward <= 0), _floats(rows, "index_usd"), forward)


def _underlying_usd(rows: pa.Table) -> FloatArray:
    """The index the row was marked against, else its forward."""
    index = _floats(rows, "index_usd")
    return np.where(np.isnan(index), _floats(rows, "forward_usd"), index)


def _mean_of(values: FloatArray, columns: list[bool]) -> FloatArray:
    """Per row, the mean of the chosen columns that are not NaN (NaN if none is)."""
    chosen = values[:, np.asarray(columns)]
    count = np.sum(~np.isnan(chosen), axis=1)
    total = np.nansum(chosen, axis=1)
    mean: FloatArray = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    return mean


def _as_of(row_ms: np.ndarray, grid_ms: np.ndarray) -> np.ndarray:
    """Per grid time, the index of the last row at or before it, give or take the poll's
    skew (-1: none yet)."""
    order = np.argsort(row_ms, kind="stable")
    idx = np.searchsorted(row_ms[order], grid_ms + POLL_SKEW_MS, side="right") - 1
    return np.where(idx >= 0, order[np.maximum(idx, 0)], -1)


def _pick(values: FloatArray, idx: np.ndarray) -> FloatArray:
    out: FloatArray = np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)
    return out


def _hedge_rows(
    store: ChainStore, hedge: HedgeSource, from_ms: int | None, to_ms: int | None
) -> pa.Table:
    """The recorded quotes of one hedge route (from a day before the range: a quote of then)."""
    since_ms = None if from_ms is None else from_ms - MS_PER_DAY
    rows = _read(store, "hedges", Partition(hedge.venue, hedge.underlying), since_ms, to_ms)
    rows = rows.filter(pc.equal(rows.column("instrument"), hedge.symbol))
    if rows.num_rows == 0:
        raise ChainDataError(
            f"{store.root}: no recorded quotes of the hedge {hedge.symbol} in "
            f"hedges/venue={hedge.venue}/underlying={hedge.underlying}"
        )
    return rows


def _quoted(times: np.ndarray, hedges: Iterable[pa.Table]) -> np.ndarray:
    """The snapshot times at which every hedge's latest quote lies within the poll's skew
    (or that come before its first quote: NaN there, as before any quote).

    An option snapshot with no hedge quote of its moment would trade the hedge at a
    price minutes old: a recorder's whole-chain read, made beside the cycle at its own
    time, or a Tardis options file thinned finer than its perpetual's. Example: options
    at 0, 60 and 120 s, the perp quoted at 0 and 120 s: the grid is 0 and 120 s.
    """
    keep = np.ones(times.size, dtype=bool)
    for rows in hedges:
        row_ms = rows.column("ts_ms").to_numpy()
        idx = _as_of(row_ms, times)
        keep &= (idx < 0) | (times - row_ms[np.maximum(idx, 0)] <= POLL_SKEW_MS)
    return times[keep]


def _hedge_columns(
    rows: pa.Table, times: np.ndarray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    idx = _as_of(rows.column("ts_ms").to_numpy(), times)
    mark = _pick(_floats(rows, "mark_usd"), idx)
    index = _pick(_floats(rows, "index_usd"), idx)
    spot = np.where(np.isnan(index), mark, index)
    bid = _pick(_floats(rows, "bid_usd"), idx)
    ask = _pick(_floats(rows, "ask_usd"), idx)
    funding = _pick(_floats(rows, "funding_rate"), idx)
    return spot, mark, bid, ask, funding


def _settlements(
    store: ChainStore,
    legs: Sequence[ChainLeg],
    underlyings: tuple[str, ...],
    times: np.ndarray,
    spot: FloatArray,
) -> tuple[FloatArray, tuple[str, ...]]:
    price = np.full(len(legs), np.nan)
    source = []
    for j, leg in enumerate(legs):
        if leg.expiry_ms > times[-1]:
            source.append("")
            continue
        rows = _read(store, "settlements", Partition(leg.venue, leg.underlying), None, None)
        hit = rows.filter(pc.equal(rows.column("ts_ms"), leg.expiry_ms))
        if hit.num_rows:
            price[j] = float(hit.column("delivery_usd")[0].as_py())
            source.append("delivery")
            continue
        k = int(np.searchsorted(times, leg.expiry_ms, side="right")) - 1
        column = spot[:, underlyings.index(leg.underlying)]
        price[j] = column[k] if k >= 0 else math.nan
        source.append("index")
    return price, tuple(source)


def pick_hedge_call(
    store: ChainStore,
    venue: str,
    underlying: str,
    *,
    min_tenor_days: float,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> ChainLeg:
    """The listed call the recorded option-hedge loop trades on ``underlying`` (size 0).

    At the first snapshot of ``venue``'s chain in the range: of the calls quoted
    on both sides, expiring after the last snapshot (so it never settles in the
    run) and at least ``min_tenor_days`` after the first, the nearest expiry, then
    the strike nearest the index: the liquid at-the-money call a desk would buy
    against short vega.
    """
    rows = _read(store, "options", Partition(venue, underlying), from_ms, to_ms,
                 columns=_OPTION_COLUMNS)  # fmt: skip
    if rows.num_rows == 0:
        raise ChainDataError(f"{store.root}: no option snapshots of {venue} {underlying}")
    ts = rows.column("ts_ms").to_numpy()
    first, last = int(ts.min()), int(ts.max())
    at = rows.filter(pc.equal(rows.column("ts_ms"), first))
    expiry = at.column("expiry_ms").to_numpy()
    quoted = np.isfinite(_side_usd(at, "bid_premium") + _side_usd(at, "ask_premium"))
    calls = at.column("option_type").to_numpy(zero_copy_only=False) == "call"
    soonest = max(last, first + round(min_tenor_days * MS_PER_DAY))
    ok = quoted & calls & (expiry > soonest)
    if not ok.any():
        raise ChainDataError(
            f"{store.root}: no call of {venue} {underlying} quoted on both sides at "
            f"{iso_utc(first)} expires after {iso_utc(soonest)}: none to hedge vega with"
        )
    nearest = expiry[ok].min()
    pick = ok & (expiry == nearest)
    strikes = _floats(at, "strike_usd")
    gap = np.where(pick, np.abs(strikes - _underlying_usd(at)), np.inf)
    return ChainLeg(venue, underlying, "call", float(strikes[np.argmin(gap)]), int(nearest), 0.0)
