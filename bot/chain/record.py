"""The recorder: the daemon's venue reads, as chain-store rows (``[record]``).

Each :class:`~bot.domain.snapshot.VenueSnapshot` becomes, at its read time
``ts_ms``, one ``options`` row per option it marks and one ``hedges`` row per
perpetual or future. What a read holds is what the daemon polls: the options of
its book and its hedge instruments; :meth:`ChainRecorder.record_chain` adds a
read of the venue's whole chain (``whole_chain``). Units are the store's: an
option's premium stays in the instrument's price currency (coin on Deribit,
recorded as ``premium_unit`` coin), IVs are decimals as the venue adapters
normalise them, a perpetual's funding rate is the venue's published rate per
funding period (``Mark.funding_rate``), open interest is the venue's in the
instrument's amount unit (coin for an option, USD for a Deribit perpetual), and
what a read does not carry (sizes at the touch, the venue's gamma, a future's
funding) is NaN.

The recorder remembers the expiries it recorded; once one has passed
(:meth:`ChainRecorder.passed_expiries`), the venue's delivery prices by day
settle it (:meth:`ChainRecorder.record_deliveries`: a ``settlements`` row at the
expiry), which the backtest prefers to the last index.

:class:`ChainRecorder` buffers rows and writes them every ``flush_interval_ms``
of read time and at :meth:`ChainRecorder.close`, one file per venue,
underlying and day, so a crash loses at most one interval.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace

import pyarrow as pa

from bot.chain.schema import TABLES, column_names
from bot.chain.store import ChainStore
from bot.domain.instruments import InstrumentKind
from bot.domain.pnl import utc_day
from bot.domain.snapshot import PortfolioSnapshot, VenueSnapshot

NAN = math.nan
TABLE_NAMES = tuple(TABLES)
_Key = tuple[str, str, str]
"""(table, venue, underlying)."""


def _or_nan(value: float | None) -> float:
    return NAN if value is None else value


def snapshot_rows(snap: VenueSnapshot) -> dict[_Key, list[dict[str, object]]]:
    """The store rows of one venue read, by (table, venue, underlying).

    Example: a Deribit read at 1,000 ms marking BTC-27DEC26-100000-C at 0.05
    (coin, IV 0.6, forward 98,000) gives an ``options`` row with
    ``premium_unit`` coin, ``mark_premium`` 0.05, ``mark_iv`` 0.6 and
    ``forward_usd`` 98,000 under (options, deribit, BTC).
    """
    rows: dict[_Key, list[dict[str, object]]] = defaultdict(list)
    for symbol, mark in snap.marks.items():
        inst = snap.instruments.get(symbol)
        if inst is None:
            continue
        index_usd = snap.index_usd.get(inst.underlying, NAN)
        if inst.kind is InstrumentKind.OPTION:
            rows[("options", snap.venue, inst.underlying)].append(
                {
                    "ts_ms": snap.ts_ms,
                    "instrument": symbol,
                    "expiry_ms": inst.expiry_ms,
                    "strike_usd": inst.strike_usd,
                    "option_type": None if inst.option_type is None else inst.option_type.value,
                    "premium_unit": "coin" if inst.price_currency == inst.underlying else "usd",
                    "bid_premium": _or_nan(mark.bid),
                    "ask_premium": _or_nan(mark.ask),
                    "mark_premium": mark.mark_price,
                    "bid_size_coin": NAN,
                    "ask_size_coin": NAN,
                    "bid_iv": NAN,
                    "ask_iv": NAN,
                    "mark_iv": _or_nan(mark.mark_iv),
                    "index_usd": index_usd,
                    "forward_name": "",
                    "forward_usd": mark.underlying_usd,
                    "delta_coin": _or_nan(mark.venue_delta),
                    "gamma_per_usd": NAN,
                    "vega_usd_per_volpt": NAN,
                    "theta_usd_per_day": NAN,
                    "open_interest_coin": _or_nan(mark.open_interest),
                }
            )
        elif inst.kind in (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE):
            rows[("hedges", snap.venue, inst.underlying)].append(
                {
                    "ts_ms": snap.ts_ms,
                    "instrument": symbol,
                    "mark_usd": mark.mark_price,
                    "index_usd": index_usd,
                    "last_usd": NAN,
                    "bid_usd": _or_nan(mark.bid),
                    "ask_usd": _or_nan(mark.ask),
                    "funding_rate": _or_nan(mark.funding_rate),
                    "open_interest": _or_nan(mark.open_interest),
                }
            )
    return rows


class ChainRecorder:
    """Buffers venue reads and writes them to ``store`` every ``flush_interval_ms`` of reads."""

    def __init__(self, store: ChainStore, flush_interval_ms: int) -> None:
        self._store = store
        self._interval_ms = flush_interval_ms
        self._pending: dict[_Key, list[dict[str, object]]] = defaultdict(list)
        self._first_ms: int | None = None
        self._last_ms: dict[str, int] = {}
        """Per venue, the newest read recorded: a read the cycle hands over twice is kept once."""
        self._last_symbols: dict[str, frozenset[str]] = {}
        """Per venue, what that read marked (a chain read at the same time skips those)."""
        self._expiries: dict[tuple[str, str], set[int]] = defaultdict(set)
        """Per (venue, underlying), the recorded expiries not yet settled in the store."""

    def record(self, portfolio: PortfolioSnapshot) -> None:
        """Buffer every venue read of ``portfolio``; write when the interval is full."""
        for snap in portfolio.venues:
            if self._last_ms.get(snap.venue, -1) >= snap.ts_ms:
                continue
            self._last_ms[snap.venue] = snap.ts_ms
            self._last_symbols[snap.venue] = frozenset(snap.marks)
            self._buffer(snap)

    def record_chain(self, chain: VenueSnapshot) -> None:
        """Buffer a read of a venue's whole option chain (``[record] whole_chain``), less the
        options its last read already recorded at the same time."""
        if chain.ts_ms == self._last_ms.get(chain.venue):
            seen = self._last_symbols.get(chain.venue, frozenset())
            chain = replace(chain, marks={s: m for s, m in chain.marks.items() if s not in seen})
        self._buffer(chain, tables=("options",))

    def _buffer(self, snap: VenueSnapshot, tables: tuple[str, ...] = TABLE_NAMES) -> None:
        self._first_ms = snap.ts_ms if self._first_ms is None else self._first_ms
        for key, rows in snapshot_rows(snap).items():
            if key[0] in tables:
                self._pending[key].extend(rows)
            if key[0] == "options":
                self._expiries[key[1:]].update(
                    e for r in rows if isinstance(e := r["expiry_ms"], int)
                )
        if snap.ts_ms - self._first_ms >= self._interval_ms:
            self.flush()

    def passed_expiries(self, venue: str, now_ms: int) -> dict[str, list[int]]:
        """Per underlying, the recorded expiries of ``venue`` at or before ``now_ms`` whose
        delivery price is not recorded yet."""
        out: dict[str, list[int]] = {}
        for (v, underlying), expiries in sorted(self._expiries.items()):
            passed = sorted(e for e in expiries if e <= now_ms)
            if v == venue and passed:
                out[underlying] = passed
        return out

    def record_deliveries(
        self, venue: str, underlying: str, delivery_usd_by_day: Mapping[str, float]
    ) -> list[int]:
        """Buffer a ``settlements`` row for each recorded expiry whose UTC day the venue's
        delivery prices list (USD per coin, stamped at the expiry); the expiries settled.

        Example: an expiry at 2026-12-04T08:00Z and Deribit's ``{"2026-12-04": 61234.5}``
        give the row (ts_ms 1,796,371,200,000, delivery_usd 61,234.5).
        """
        settled = []
        for expiry_ms in sorted(self._expiries.get((venue, underlying), ())):
            price = delivery_usd_by_day.get(utc_day(expiry_ms))
            if price is None:
                continue
            self._pending[("settlements", venue, underlying)].append(
                {"ts_ms": expiry_ms, "delivery_usd": price}
            )
            self._expiries[(venue, underlying)].discard(expiry_ms)
            settled.append(expiry_ms)
        return settled

    def flush(self) -> int:
        """Write what is buffered (one file per venue, underlying and day); rows written."""
        pending, self._pending, self._first_ms = self._pending, defaultdict(list), None
        written = 0
        for (table, venue, underlying), rows in sorted(pending.items()):
            columns = {name: [row[name] for row in rows] for name in column_names(table)}
            written += self._store.write(table, venue, underlying, pa.table(columns), tag="rec")
        return written

    def close(self) -> None:
        """Write the rest (at a stop)."""
        self.flush()
