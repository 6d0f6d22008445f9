"""The chain store's tables, as a pure description: column names, types and units.

Three tables, each partitioned ``<table>/venue=<venue>/underlying=<coin>/day=<YYYY-MM-DD>/``
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

TABLES: Final[dict[str, tuple[Column, ...]]] = {
    "options": OPTIONS,
    "hedges": HEDGES,
    "settlements": SETTLEMENTS,
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
