"""A small hand-made portfolio shared by the plan and scheduler tests."""

from __future__ import annotations

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.snapshot import Balance, Mark, PortfolioSnapshot, Position, VenueSnapshot
from bot.domain.timeunits import MS_PER_DAY

NOW_MS = 1_796_112_000_000
VENUE = VenueId("deribit")
BTC = Currency("BTC")
PERP = Symbol("BTC/USD:BTC")


def _option(symbol: str, strike: float, days: int, call: bool) -> Instrument:
    return Instrument(
        VENUE, Symbol(symbol), BTC, Currency("USD"), BTC, InstrumentKind.OPTION,
        Settlement.INVERSE, AmountUnit.COIN, BTC, 0.0001, 0.1, 0.1,
        NOW_MS + days * MS_PER_DAY, strike, OptionType.CALL if call else OptionType.PUT,
    )  # fmt: skip


def small_btc_book() -> PortfolioSnapshot:
    """Three inverse BTC options of different expiries and vols, and an inverse perp."""
    spec = [("C1", 65_000.0, 10, True, -5.0, 0.6), ("P1", 55_000.0, 40, False, 3.0, 0.7),
            ("C2", 70_000.0, 120, True, -1.0, 0.5)]  # fmt: skip
    instruments: dict[Symbol, Instrument] = {}
    marks: dict[Symbol, Mark] = {}
    positions = []
    for name, strike, days, call, size, iv in spec:
        ins = _option(name, strike, days, call)
        instruments[ins.symbol] = ins
        marks[ins.symbol] = Mark(ins.symbol, 0.02, 60_000.0, NOW_MS, mark_iv=iv, venue_delta=0.3)
        positions.append(Position(ins, size))
    perp = Instrument(
        VENUE, PERP, BTC, Currency("USD"), BTC, InstrumentKind.PERPETUAL, Settlement.INVERSE,
        AmountUnit.USD, Currency("USD"), 0.5, 10.0, 10.0,
    )  # fmt: skip
    instruments[PERP] = perp
    marks[PERP] = Mark(PERP, 60_000.0, 60_000.0, NOW_MS)
    positions.append(Position(perp, -30_000.0))
    snap = VenueSnapshot(
        VENUE, NOW_MS, instruments, tuple(positions), (Balance(BTC, 2.0, 1.5, 0.1, 0.05),),
        marks, {BTC: 60_000.0},
    )  # fmt: skip
    return PortfolioSnapshot(NOW_MS, (snap,))
