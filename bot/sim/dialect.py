"""Which exchange a simulated venue imitates, and what that fixes about it.

One :class:`~bot.sim.market.MarketModel` can feed venues of either dialect;
the dialect decides what a venue lists, which currencies its accounts hold,
how it charges margin and pays funding, and which HTTP facade serves it.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Dialect(StrEnum):
    """The exchange API a simulated venue speaks (values are ccxt exchange ids)."""

    DERIBIT = "deribit"
    """Deribit v2: inverse options and futures, inverse and USDC-linear perpetuals."""
    BINANCE_USDM = "binanceusdm"
    """Binance USDⓈ-M futures: USDT-margined linear perpetuals (``/fapi``)."""


CURRENCIES: Final = MappingProxyType(
    {
        # Deribit holds USDT too (deposits, withdrawals, cross-collateral); no simulated
        # contract settles in it, so in sim it is the stablecoin that moves to and from
        # Binance, where it margins the USDT perpetuals.
        Dialect.DERIBIT: ("BTC", "ETH", "USDC", "USDT"),
        # A USDⓈ-M wallet holds USDT and, in multi-assets mode, USDC, BTC and ETH as
        # collateral; the simulator margins USDT contracts with the USDT balance only.
        Dialect.BINANCE_USDM: ("USDT", "USDC", "BTC", "ETH"),
    }
)
"""The currencies each dialect's accounts hold, margin and move."""

ALL_CURRENCIES: Final = tuple(sorted({c for cs in CURRENCIES.values() for c in cs}))
