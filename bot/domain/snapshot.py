"""Frozen, unit-explicit views of one venue at one instant.

A venue adapter produces these; everything downstream is a pure function of
them. Amounts stay in the venue's own unit (``Instrument.amount_unit``) and
are converted only through :mod:`bot.domain.units`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import TypeVar

from bot.domain.freshness import InputStamp, VenueClock
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import Instrument

_MARK_TS = attrgetter("ts_ms")


@dataclass(frozen=True, slots=True)
class Position:
    """A signed holding: ``size`` > 0 long, in ``instrument.amount_unit``."""

    instrument: Instrument
    size: float
    average_price: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.size):
            raise ValueError(f"{self.instrument.symbol}: position size must be finite")


@dataclass(frozen=True, slots=True)
class Balance:
    """Margin summary of one currency in one (sub-)account, all in ``currency``.

    ``equity`` includes unrealised P&L and option mark value, as venues report it.
    ``margin`` is False for a holding the venue does not count as margin (BTC on a
    Binance USDⓈ-M account in single-asset mode): it is still wealth, and withdrawable,
    but no collateral there. ``options_value`` is the options' mark value inside
    ``equity`` as of the same read (Deribit's ``options_value``), None where the
    venue does not report it: the hedge revalues that part at its own marks.
    ``unrealised_pnl`` is likewise the futures' unrealised P&L inside ``equity`` as of
    the same read (Binance's ``unrealizedProfit``), None where not reported.
    """

    currency: Currency
    equity: float
    available: float
    initial_margin: float
    maintenance_margin: float
    account: str = "main"
    margin: bool = True
    options_value: float | None = None
    unrealised_pnl: float | None = None


def maintenance_ratio(balance: Balance) -> float:
    """Maintenance margin / equity: 1.0 is the liquidation line (inf without equity)."""
    if balance.equity > 0:
        return balance.maintenance_margin / balance.equity
    return math.inf if balance.maintenance_margin > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Mark:
    """Venue marks for one instrument.

    ``mark_price`` is in ``Instrument.price_currency`` (coin for Deribit options);
    ``underlying_usd`` is the forward/index the venue priced it against;
    ``mark_iv`` is a fraction (0.60 = 60%), normalised by the adapter.
    ``venue_delta`` is the venue's own delta per unit, when it publishes one.
    ``open_interest`` is in the instrument's amount unit (coin for Deribit options; None:
    not published, or zero).
    ``funding_rate`` is a perpetual's current funding rate as the venue publishes it, a
    fraction per funding period (8 h on Deribit, Binance and most Bybit perpetuals: Deribit
    ``funding_8h``, Binance and Bybit the rate of the coming settlement; None: not a
    perpetual, or not published).
    ``ts_ms`` is the venue's own time of these values, on its clock (the oldest
    of the payloads they came from; the read time only for a venue that stamps none).
    """

    symbol: Symbol
    mark_price: float
    underlying_usd: float
    ts_ms: int
    mark_iv: float | None = None
    venue_delta: float | None = None
    bid: float | None = None
    ask: float | None = None
    open_interest: float | None = None
    funding_rate: float | None = None


K = TypeVar("K")
V = TypeVar("V")


def _frozen_map(items: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True)
class VenueSnapshot:
    """Everything read from one venue in one poll.

    ``ts_ms`` is our clock when the read started (positions carry no venue
    time, so they count as of then); ``index_ts_ms`` is the venue's time of each
    index price (one without counts as of the read); ``clock`` is the venue's
    clock read alongside (None: not read, its stamps are taken as on our clock).
    """

    venue: VenueId
    ts_ms: int
    instruments: Mapping[Symbol, Instrument]
    positions: tuple[Position, ...]
    balances: tuple[Balance, ...]
    marks: Mapping[Symbol, Mark]
    index_usd: Mapping[Currency, float] = field(default_factory=dict)
    index_ts_ms: Mapping[Currency, int] = field(default_factory=dict)
    clock: VenueClock | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "instruments", _frozen_map(self.instruments))
        object.__setattr__(self, "marks", _frozen_map(self.marks))
        object.__setattr__(self, "index_usd", _frozen_map(self.index_usd))
        object.__setattr__(self, "index_ts_ms", _frozen_map(self.index_ts_ms))
        for pos in self.positions:
            if pos.instrument.venue != self.venue:
                raise ValueError(
                    f"position {pos.instrument.symbol} belongs to {pos.instrument.venue}, "
                    f"not {self.venue}"
                )
        stray = set(self.index_ts_ms) - set(self.index_usd)
        if stray:
            raise ValueError(f"{self.venue}: index times without an index price: {sorted(stray)}")

    @property
    def skew_ms(self) -> int:
        """The venue's clock minus ours (0 when its clock was not read)."""
        return 0 if self.clock is None else self.clock.skew_ms

    def input_stamps(
        self, symbols: Iterable[Symbol], underlyings: Iterable[Currency] = ()
    ) -> list[InputStamp]:
        """The positions, the marks of ``symbols`` and the indexes of ``underlyings`` read
        here, each with its venue time moved onto our clock (see :mod:`bot.domain.freshness`).

        A symbol without a mark or an underlying without an index is skipped: that
        is the plan's to refuse, not a time.
        """
        marks = [("mark", m.symbol, m.ts_ms) for m in self._marks_of(symbols)]
        return [
            self._stamp(*t)
            for t in (self._positions_time(), *marks, *self._index_times(underlyings))
        ]

    def oldest_input(
        self, symbols: Iterable[Symbol], underlyings: Iterable[Currency] = ()
    ) -> InputStamp:
        """The oldest of :meth:`input_stamps`, building only that one: a cycle asks this
        of every held position's mark."""
        times = [self._positions_time()]
        marks = self._marks_of(symbols)
        if marks:  # ties go to the first, in input_stamps' order
            mark = min(marks, key=_MARK_TS)
            times.append(("mark", mark.symbol, mark.ts_ms))
        return self._stamp(*min([*times, *self._index_times(underlyings)], key=itemgetter(2)))

    def _marks_of(self, symbols: Iterable[Symbol]) -> list[Mark]:
        return [m for m in map(self.marks.get, symbols) if m is not None]

    def _positions_time(self) -> tuple[str, str, int]:
        return "positions", "", self.ts_ms + self.skew_ms

    def _index_times(self, underlyings: Iterable[Currency]) -> list[tuple[str, str, int]]:
        fallback = self.ts_ms + self.skew_ms
        return [
            ("index", ccy, self.index_ts_ms.get(ccy, fallback))
            for ccy in underlyings
            if ccy in self.index_usd
        ]

    def _stamp(self, kind: str, key: str, venue_ts_ms: int) -> InputStamp:
        name = f"{kind} {key}" if key else kind
        return InputStamp(self.venue, name, venue_ts_ms, venue_ts_ms - self.skew_ms)


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """All venues at one valuation time (our clock when the last read returned)."""

    valuation_ts_ms: int
    venues: tuple[VenueSnapshot, ...]
