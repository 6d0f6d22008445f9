"""A public market-data source for the paper venue, with quotes a test sets by hand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.domain.freshness import VenueClock
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.snapshot import Mark

VENUE = VenueId("paper-a")
PERP = Symbol("BTC/USD:BTC")
CALL = Symbol("BTC/USD:BTC-261225-60000-C")
BTC = Currency("BTC")
START_MS = 1_767_225_600_000


def instruments() -> dict[Symbol, Instrument]:
    return {
        PERP: Instrument(
            venue=VENUE,
            symbol=PERP,
            underlying=BTC,
            quote=Currency("USD"),
            settle=BTC,
            kind=InstrumentKind.PERPETUAL,
            settlement=Settlement.INVERSE,
            amount_unit=AmountUnit.USD,
            price_currency=Currency("USD"),
            tick_size=0.5,
            lot_size=10.0,
            min_size=10.0,
        ),
        CALL: Instrument(
            venue=VENUE,
            symbol=CALL,
            underlying=BTC,
            quote=Currency("USD"),
            settle=BTC,
            kind=InstrumentKind.OPTION,
            settlement=Settlement.INVERSE,
            amount_unit=AmountUnit.COIN,
            price_currency=BTC,
            tick_size=0.0005,
            lot_size=0.1,
            min_size=0.1,
            expiry_ms=1798185600000,
            strike_usd=60000.0,
            option_type=OptionType.CALL,
        ),
    }


class FakeMarketData:
    """Public data with quotes the test sets; ``fail`` makes the next quote read raise."""

    def __init__(self) -> None:
        self.instruments = instruments()
        self.marks = {
            PERP: Mark(PERP, 60000.0, 60000.0, START_MS, bid=59999.5, ask=60000.0),
            CALL: Mark(CALL, 0.06854, 60000.0, START_MS, 0.6, bid=0.068, ask=0.0695),
        }
        self.fail: Exception | None = None
        self.closed = False

    async def load_instruments(self, reload: bool = False) -> Mapping[Symbol, Instrument]:
        return self.instruments

    async def fetch_marks(self, symbols: Iterable[Symbol]) -> Mapping[Symbol, Mark]:
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        return {s: self.marks[s] for s in symbols}

    async def fetch_delivery_prices(self, underlying: Currency) -> Mapping[str, float]:
        """None published."""
        return {}

    async def fetch_option_chain(self, underlying: Currency) -> Mapping[Symbol, Mark]:
        return {CALL: self.marks[CALL]}

    async def read_clock(self) -> VenueClock:
        """The public venue's clock, read in no time and agreeing with ours."""
        return VenueClock(START_MS, START_MS, START_MS)

    async def close(self) -> None:
        self.closed = True
