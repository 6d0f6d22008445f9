"""Hedge routes: which instrument on which venue carries an underlying's hedge."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.ids import Currency, Symbol, VenueId


@dataclass(frozen=True, slots=True)
class HedgeRoute:
    """One perpetual or future that carries ``weight`` parts of ``underlying``'s hedge change."""

    underlying: Currency
    venue: VenueId
    symbol: Symbol
    weight: float = 1.0
