"""Frozen, unit-explicit views of one venue at one instant.

A venue adapter produces these; everything downstream is a pure function of
them. Amounts stay in the venue's own unit (``Instrument.amount_unit``) and
are converted only through :mod:`bot.domain.units`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import Instrument


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
    """

    currency: Currency
    equity: float
    available: float
    initial_margin: float
    maintenance_margin: float
    account: str = "main"


@dataclass(frozen=True, slots=True)
class Mark:
    """Venue marks for one instrument.

    ``mark_price`` is in ``Instrument.price_currency`` (coin for Deribit options);
    ``underlying_usd`` is the forward/index the venue priced it against;
    ``mark_iv`` is a fraction (0.60 = 60%), normalised by the adapter.
    ``venue_delta`` is the venue's own delta per unit, when it publishes one.
    """

    symbol: Symbol
    mark_price: float
    underlying_usd: float
    ts_ms: int
    mark_iv: float | None = None
    venue_delta: float | None = None
    bid: float | None = None
    ask: float | None = None


K = TypeVar("K")
V = TypeVar("V")


def _frozen_map(items: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True)
class VenueSnapshot:
    """Everything read from one venue in one poll, stamped with the read time."""

    venue: VenueId
    ts_ms: int
    instruments: Mapping[Symbol, Instrument]
    positions: tuple[Position, ...]
    balances: tuple[Balance, ...]
    marks: Mapping[Symbol, Mark]
    index_usd: Mapping[Currency, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "instruments", _frozen_map(self.instruments))
        object.__setattr__(self, "marks", _frozen_map(self.marks))
        object.__setattr__(self, "index_usd", _frozen_map(self.index_usd))
        for pos in self.positions:
            if pos.instrument.venue != self.venue:
                raise ValueError(
                    f"position {pos.instrument.symbol} belongs to {pos.instrument.venue}, "
                    f"not {self.venue}"
                )


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """All venues at one valuation time (the oldest read defines its age)."""

    valuation_ts_ms: int
    venues: tuple[VenueSnapshot, ...]

    @property
    def oldest_read_ms(self) -> int:
        return min((v.ts_ms for v in self.venues), default=self.valuation_ts_ms)
