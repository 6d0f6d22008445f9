"""Tradable instruments and the unit conventions that come with them.

The fields that decide units are explicit (``settlement``, ``amount_unit``,
``price_currency``) because generic ``contracts * contractSize`` arithmetic is
the classic source of hedging losses on inverse venues (docs/architecture.md §3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.ids import Currency, Symbol, VenueId


class InstrumentKind(StrEnum):
    OPTION = "option"
    FUTURE = "future"
    PERPETUAL = "perpetual"
    SPOT = "spot"


class Settlement(StrEnum):
    """LINEAR pays P&L in the quote currency; INVERSE pays it in the base coin."""

    LINEAR = "linear"
    INVERSE = "inverse"


class AmountUnit(StrEnum):
    """What one unit of an order or position amount is on this venue.

    Deribit inverse perps and futures count USD; options and linear contracts
    count coin.
    """

    COIN = "coin"
    USD = "usd"


class OptionType(StrEnum):
    CALL = "call"
    PUT = "put"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One venue instrument.

    ``lot_size``, ``min_size`` are in ``amount_unit``; ``tick_size`` is in
    ``price_currency`` (BTC for a Deribit BTC option, USD for its perp);
    ``strike_usd`` is in USD; ``expiry_ms`` is UTC epoch milliseconds.
    """

    venue: VenueId
    symbol: Symbol
    underlying: Currency
    quote: Currency
    settle: Currency
    kind: InstrumentKind
    settlement: Settlement
    amount_unit: AmountUnit
    price_currency: Currency
    tick_size: float
    lot_size: float
    min_size: float
    expiry_ms: int | None = None
    strike_usd: float | None = None
    option_type: OptionType | None = None

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "min_size"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{self.symbol}: {name} must be a positive number, got {value!r}")
        is_option = self.kind is InstrumentKind.OPTION
        if is_option:
            if self.strike_usd is None or not (
                math.isfinite(self.strike_usd) and self.strike_usd > 0
            ):
                raise ValueError(f"{self.symbol}: an option needs a positive strike_usd")
            if self.option_type is None:
                raise ValueError(f"{self.symbol}: an option needs option_type call or put")
        elif self.strike_usd is not None or self.option_type is not None:
            raise ValueError(f"{self.symbol}: only options carry a strike or option type")
        if self.kind in (InstrumentKind.OPTION, InstrumentKind.FUTURE) and self.expiry_ms is None:
            raise ValueError(f"{self.symbol}: a {self.kind} needs expiry_ms")
        if (
            self.kind in (InstrumentKind.PERPETUAL, InstrumentKind.SPOT)
            and self.expiry_ms is not None
        ):
            raise ValueError(f"{self.symbol}: a {self.kind} has no expiry")
        if self.amount_unit is AmountUnit.USD and self.settlement is not Settlement.INVERSE:
            raise ValueError(f"{self.symbol}: USD-counted amounts only exist on inverse contracts")

    @property
    def is_option(self) -> bool:
        return self.kind is InstrumentKind.OPTION

    @property
    def is_inverse(self) -> bool:
        return self.settlement is Settlement.INVERSE
