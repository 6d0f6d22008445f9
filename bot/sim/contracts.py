"""Contracts the simulated exchange lists, with Deribit's names, lots and ticks.

Each :class:`SimContract` wraps the domain :class:`~bot.domain.instruments.Instrument`
(symbol = the ccxt unified symbol, so the units vocabulary is shared with the
bot) and adds what only the venue knows: its Deribit name, contract size and
tick steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.sim.dialect import Dialect

# Deribit reports perpetuals as expiring on 3000-01-01 (get_instruments, expiration_timestamp).
PERPETUAL_EXPIRY_MS = 32_503_708_800_000

# Inverse futures/perpetuals: amount in USD. BTC: contract size 10 USD, tick 0.50 USD
# (deribit.com/pages/docs/perpetual and legacy.deribit.com/pages/docs/futures, "Contract
# Specifications BTC"); ETH: 1 USD contracts, tick 0.05 USD (Deribit ETH contract specs).
INVERSE_LOT_USD = {"BTC": 10.0, "ETH": 1.0}
INVERSE_TICK_USD = {"BTC": 0.5, "ETH": 0.05}
# Inverse options: amount in coin, min_trade_amount 0.1 BTC / 1 ETH, price in coin with
# tick 0.0001 below 0.005 and 0.0005 above (Deribit get_instruments payload of a BTC option:
# "tick_size": 0.0001, "tick_size_steps": [{"above_price": 0.005, "tick_size": 0.0005}],
# "min_trade_amount": 0.1).
OPTION_MIN_COIN = {"BTC": 0.1, "ETH": 1.0}
OPTION_TICK = 0.0001
OPTION_TICK_STEPS = ((0.005, 0.0005),)
# Linear USDC perpetuals: amount in coin, lot 0.001 BTC (issue 3 brief); the ETH lot and
# both ticks are this simulator's assumption, chosen like the inverse contracts.
LINEAR_LOT_COIN = {"BTC": 0.001, "ETH": 0.01}
LINEAR_TICK_USDC = {"BTC": 0.5, "ETH": 0.05}
# Binance USDⓈ-M BTCUSDT / ETHUSDT perpetuals (fapi/v1/exchangeInfo): PRICE_FILTER tickSize
# 0.10 / 0.01 USDT, LOT_SIZE stepSize and minQty 0.001 coin, MIN_NOTIONAL 100 / 20 USDT.
USDT_TICK = {"BTC": 0.1, "ETH": 0.01}
USDT_LOT_COIN = {"BTC": 0.001, "ETH": 0.001}
USDT_MIN_NOTIONAL = {"BTC": 100.0, "ETH": 20.0}

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True, slots=True)
class SimContract:
    """One listed contract: Deribit name and rules around a domain :class:`Instrument`."""

    instrument_name: str
    instrument: Instrument
    instrument_id: int
    contract_size: float
    creation_ms: int
    tick_steps: tuple[tuple[float, float], ...] = ()
    dialect: Dialect = Dialect.DERIBIT
    """The venue rules it follows: margin tiers and funding differ by exchange."""
    min_notional: float = 0.0
    """Smallest order notional in the quote currency (Binance MIN_NOTIONAL; 0: none)."""

    @property
    def underlying(self) -> str:
        return str(self.instrument.underlying)

    @property
    def currency(self) -> str:
        """Settlement currency: the account currency this contract margins and pays in."""
        return str(self.instrument.settle)

    @property
    def is_option(self) -> bool:
        return self.instrument.is_option

    @property
    def is_perpetual(self) -> bool:
        return self.instrument.kind is InstrumentKind.PERPETUAL

    @property
    def is_inverse(self) -> bool:
        return self.instrument.is_inverse

    @property
    def is_call(self) -> bool:
        return self.instrument.option_type is OptionType.CALL

    @property
    def strike_usd(self) -> float:
        if self.instrument.strike_usd is None:
            raise ValueError(f"{self.instrument_name} has no strike")
        return self.instrument.strike_usd

    @property
    def expiry_ms(self) -> int:
        """Expiry in epoch ms; :data:`PERPETUAL_EXPIRY_MS` for perpetuals, as Deribit reports."""
        return self.instrument.expiry_ms or PERPETUAL_EXPIRY_MS

    @property
    def deribit_kind(self) -> str:
        return "option" if self.is_option else "future"

    @property
    def price_index(self) -> str:
        return f"{self.underlying.lower()}_usd"

    @property
    def lot(self) -> float:
        return self.instrument.lot_size

    def tick_at(self, price: float) -> float:
        """Tick size that applies at ``price`` (Deribit's ``tick_size_steps``)."""
        tick = self.instrument.tick_size
        for above, step_tick in self.tick_steps:
            if price > above:
                tick = step_tick
        return tick

    def on_tick(self, price: float) -> bool:
        return is_multiple(price, self.tick_at(price))

    def round_price(self, price: float, *, up: bool) -> float:
        """``price`` rounded to its tick, up (asks) or down (bids)."""
        tick = self.tick_at(price)
        n = price / tick
        n = math.ceil(n - 1e-9) if up else math.floor(n + 1e-9)
        return round(n * tick, 10)


def is_multiple(value: float, step: float) -> bool:
    """``value`` is a whole number of ``step`` (to float precision)."""
    n = value / step
    return abs(n - round(n)) < 1e-7


def expiry_code(expiry_ms: int) -> str:
    """Deribit's DMMMYY date, e.g. 2026-12-25 → ``25DEC26`` (day without a leading zero)."""
    d = datetime.fromtimestamp(expiry_ms / 1000, tz=UTC)
    return f"{d.day}{_MONTHS[d.month - 1]}{d.year % 100:02d}"


def _yymmdd(expiry_ms: int) -> str:
    return datetime.fromtimestamp(expiry_ms / 1000, tz=UTC).strftime("%y%m%d")


def option_contract(
    venue: str,
    underlying: str,
    expiry_ms: int,
    strike_usd: float,
    *,
    is_call: bool,
    iid: int,
    t0: int,
) -> SimContract:
    """An inverse (coin-settled, coin-priced) European option, e.g. ``BTC-25DEC26-60000-C``."""
    cp = "C" if is_call else "P"
    strike = f"{strike_usd:.0f}"
    name = f"{underlying}-{expiry_code(expiry_ms)}-{strike}-{cp}"
    u = Currency(underlying)
    inst = Instrument(
        venue=VenueId(venue),
        symbol=Symbol(f"{underlying}/USD:{underlying}-{_yymmdd(expiry_ms)}-{strike}-{cp}"),
        underlying=u,
        quote=Currency("USD"),
        settle=u,
        kind=InstrumentKind.OPTION,
        settlement=Settlement.INVERSE,
        amount_unit=AmountUnit.COIN,
        price_currency=u,
        tick_size=OPTION_TICK,
        lot_size=OPTION_MIN_COIN[underlying],
        min_size=OPTION_MIN_COIN[underlying],
        expiry_ms=expiry_ms,
        strike_usd=float(strike_usd),
        option_type=OptionType.CALL if is_call else OptionType.PUT,
    )
    return SimContract(name, inst, iid, 1.0, t0, OPTION_TICK_STEPS)


def inverse_future_contract(
    venue: str, underlying: str, expiry_ms: int | None, iid: int, t0: int
) -> SimContract:
    """Inverse future (``BTC-25DEC26``) or, with no expiry, perpetual (``BTC-PERPETUAL``)."""
    u = Currency(underlying)
    if expiry_ms is None:
        name, symbol, kind = f"{underlying}-PERPETUAL", f"{underlying}/USD:{underlying}", "perp"
    else:
        name = f"{underlying}-{expiry_code(expiry_ms)}"
        symbol, kind = f"{underlying}/USD:{underlying}-{_yymmdd(expiry_ms)}", "future"
    lot = INVERSE_LOT_USD[underlying]
    inst = Instrument(
        venue=VenueId(venue),
        symbol=Symbol(symbol),
        underlying=u,
        quote=Currency("USD"),
        settle=u,
        kind=InstrumentKind.PERPETUAL if kind == "perp" else InstrumentKind.FUTURE,
        settlement=Settlement.INVERSE,
        amount_unit=AmountUnit.USD,
        price_currency=Currency("USD"),
        tick_size=INVERSE_TICK_USD[underlying],
        lot_size=lot,
        min_size=lot,
        expiry_ms=expiry_ms,
    )
    return SimContract(name, inst, iid, lot, t0)


def _linear_perp_instrument(
    venue: str, underlying: str, currency: str, tick: float, lot: float
) -> Instrument:
    """A perpetual margined and priced in ``currency`` (USDC, USDT), its amount in coin."""
    quote = Currency(currency)
    return Instrument(
        venue=VenueId(venue),
        symbol=Symbol(f"{underlying}/{currency}:{currency}"),
        underlying=Currency(underlying),
        quote=quote,
        settle=quote,
        kind=InstrumentKind.PERPETUAL,
        settlement=Settlement.LINEAR,
        amount_unit=AmountUnit.COIN,
        price_currency=quote,
        tick_size=tick,
        lot_size=lot,
        min_size=lot,
    )


def linear_perp_contract(venue: str, underlying: str, iid: int, t0: int) -> SimContract:
    """USDC-margined linear perpetual, e.g. ``BTC_USDC-PERPETUAL`` (amount in coin)."""
    lot = LINEAR_LOT_COIN[underlying]
    inst = _linear_perp_instrument(venue, underlying, "USDC", LINEAR_TICK_USDC[underlying], lot)
    return SimContract(f"{underlying}_USDC-PERPETUAL", inst, iid, lot, t0)


def usdt_perp_contract(venue: str, underlying: str, iid: int, t0: int) -> SimContract:
    """Binance USDⓈ-M USDT-margined perpetual, e.g. ``BTCUSDT`` (amount in coin, price USDT)."""
    lot = USDT_LOT_COIN[underlying]
    inst = _linear_perp_instrument(venue, underlying, "USDT", USDT_TICK[underlying], lot)
    return SimContract(
        f"{underlying}USDT",
        inst,
        iid,
        lot,
        t0,
        dialect=Dialect.BINANCE_USDM,
        min_notional=USDT_MIN_NOTIONAL[underlying],
    )
