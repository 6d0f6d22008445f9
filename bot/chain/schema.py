"""The chain store's tables, as a pure description: column names, types and units.

Five tables, each partitioned ``<table>/venue=<venue>/underlying=<coin>/day=<YYYY-MM-DD>/``
(the UTC day of ``ts_ms``), one Parquet file per write:

* ``options``: one row per snapshot time and option. Premiums (bid, ask, mark)
  are in the venue's premium unit, named per row in ``premium_unit``: ``coin``
  on Deribit (0.0221 = 0.0221 BTC per 1 BTC of option), ``usd`` on USD-quoted
  venues. IVs are decimals (0.6289 = 62.89 %), never percent.
* ``hedges``: one row per snapshot time and hedge instrument (perpetual,
  future): mark, index, last, bid and ask in USD per coin, the funding rate
  as a fraction per funding period (8 h on Deribit and Binance).
* ``settlements``: one row per expiry and underlying: the delivery price the
  venue settled options and futures at, USD per coin.
* ``trades``: one row per public option trade (Deribit's history endpoints):
  the price in the venue's premium unit, the amount in coin, the taker's side,
  the trade's IV as a decimal and the index at the trade.
* ``dvol``: Deribit's volatility index (DVOL) candles, one row per candle start:
  open, high, low and close as decimals (DVOL 62.17 is 0.6217, a 30-day implied
  vol of 62.17 % a year).

A float that the source does not give is NaN (Tardis has no index price in
``options_chain``, no bid or ask in ``derivative_ticker``); a name it does not
give is the empty string. This module imports nothing beyond the standard
library; :mod:`bot.chain.store` turns it into Arrow schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ColumnType = Literal["int64", "float64", "string"]
PremiumUnit = Literal["coin", "usd"]
PREMIUM_UNITS: Final = ("coin", "usd")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name (which carries its unit), Arrow type and what it holds."""

    name: str
    type: ColumnType
    doc: str


OPTIONS: Final = (
    Column("ts_ms", "int64", "snapshot time, epoch milliseconds UTC"),
    Column("instrument", "string", "the venue's option name, e.g. BTC-9JUN20-9875-P"),
    Column("expiry_ms", "int64", "expiry, epoch milliseconds UTC"),
    Column("strike_usd", "float64", "strike, USD per coin"),
    Column("option_type", "string", "call | put"),
    Column("premium_unit", "string", "unit of bid/ask/mark_premium: coin | usd"),
    Column("bid_premium", "float64", "best bid, in premium_unit per coin of option"),
    Column("ask_premium", "float64", "best ask, in premium_unit per coin of option"),
    Column("mark_premium", "float64", "venue mark, in premium_unit per coin of option"),
    Column("bid_size_coin", "float64", "size at the best bid, coin"),
    Column("ask_size_coin", "float64", "size at the best ask, coin"),
    Column("bid_iv", "float64", "implied vol of the bid, decimal per year"),
    Column("ask_iv", "float64", "implied vol of the ask, decimal per year"),
    Column("mark_iv", "float64", "implied vol of the mark, decimal per year"),
    Column("index_usd", "float64", "underlying index, USD per coin (NaN if not given)"),
    Column("forward_name", "string", "what the option is priced off: a future or SYN.<...>"),
    Column("forward_usd", "float64", "price of forward_name, USD per coin"),
    Column("delta_coin", "float64", "venue delta, coin per coin of option"),
    Column("gamma_per_usd", "float64", "venue gamma, coin per coin per USD"),
    Column("vega_usd_per_volpt", "float64", "venue vega, USD per 1 vol point"),
    Column("theta_usd_per_day", "float64", "venue theta, USD per day"),
    Column("open_interest_coin", "float64", "open interest, coin"),
)

HEDGES: Final = (
    Column("ts_ms", "int64", "snapshot time, epoch milliseconds UTC"),
    Column("instrument", "string", "the venue's name, e.g. BTC-PERPETUAL"),
    Column("mark_usd", "float64", "venue mark, USD per coin"),
    Column("index_usd", "float64", "underlying index, USD per coin"),
    Column("last_usd", "float64", "last trade, USD per coin (NaN if not given)"),
    Column("bid_usd", "float64", "best bid, USD per coin (NaN if not given)"),
    Column("ask_usd", "float64", "best ask, USD per coin (NaN if not given)"),
    Column("funding_rate", "float64", "funding rate, fraction per funding period (NaN: none)"),
    Column("open_interest", "float64", "open interest, in the venue's contract unit"),
)

SETTLEMENTS: Final = (
    Column("ts_ms", "int64", "settlement time (the expiry), epoch milliseconds UTC"),
    Column("delivery_usd", "float64", "delivery price, USD per coin"),
)

TRADES: Final = (
    Column("ts_ms", "int64", "trade time, epoch milliseconds UTC"),
    Column("trade_id", "string", "the venue's trade id, unique per currency"),
    Column("instrument", "string", "the venue's option name, e.g. BTC-25SEP20-6000-P"),
    Column("direction", "string", "the taker's side: buy | sell"),
    Column("premium_unit", "string", "unit of price_premium and mark_premium: coin | usd"),
    Column("price_premium", "float64", "trade price, in premium_unit per coin of option"),
    Column("mark_premium", "float64", "venue mark at the trade, in premium_unit per coin"),
    Column("amount_coin", "float64", "trade amount, coin of option"),
    Column("iv", "float64", "implied vol of the trade price, decimal per year (NaN: none)"),
    Column("index_usd", "float64", "underlying index at the trade, USD per coin"),
)

DVOL: Final = (
    Column("ts_ms", "int64", "candle start, epoch milliseconds UTC"),
    Column("resolution_s", "int64", "candle length, seconds (86400: a day)"),
    Column("open_iv", "float64", "DVOL at the candle's open, decimal per year"),
    Column("high_iv", "float64", "highest DVOL in the candle, decimal per year"),
    Column("low_iv", "float64", "lowest DVOL in the candle, decimal per year"),
    Column("close_iv", "float64", "DVOL at the candle's close, decimal per year"),
)

TABLES: Final[dict[str, tuple[Column, ...]]] = {
    "options": OPTIONS,
    "hedges": HEDGES,
    "settlements": SETTLEMENTS,
    "trades": TRADES,
    "dvol": DVOL,
}
"""Every table of the store by name."""

PARTITION_KEYS: Final = ("venue", "underlying", "day")
"""The directory levels under a table, outermost first."""


def column_names(table: str) -> tuple[str, ...]:
    """The names of ``table``'s columns in file order."""
    return tuple(column.name for column in TABLES[table])


def premium_unit_of(venue: str) -> PremiumUnit:
    """The unit a venue quotes option premiums in: coin on the inverse-option venues.

    Deribit quotes BTC options in BTC (its ``BTC-9JUN20-9875-P`` at 0.0221 is
    0.0221 BTC, about 216 USD with BTC at 9,756), as do OKX and Huobi; Binance
    and Bybit quote USD.
    """
    return "coin" if venue in ("deribit", "okex-options", "huobi-dm-options") else "usd"
