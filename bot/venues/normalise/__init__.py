"""One normaliser per exchange: ccxt's unified structures plus raw ``info`` → domain values.

Look one up with :func:`normaliser_for`; the registry is explicit so an
unsupported exchange fails at start-up with the list of supported ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.venues.normalise.base import (
    MASTER_ACCOUNT,
    Normaliser,
    OrderArgs,
    SubaccountRoute,
    TransferCall,
)
from bot.venues.normalise.binance import BinanceNormaliser
from bot.venues.normalise.binance_usdm import BinanceUsdmNormaliser
from bot.venues.normalise.bybit import BybitNormaliser
from bot.venues.normalise.common import MalformedResponseError, MarkBatch, VenueMarket
from bot.venues.normalise.deribit import DeribitNormaliser
from bot.venues.normalise.okx import OkxNormaliser

NORMALISERS: Mapping[str, Normaliser] = MappingProxyType(
    {
        n.exchange: n
        for n in (
            DeribitNormaliser(),
            OkxNormaliser(),
            BybitNormaliser(),
            BinanceNormaliser(),
            BinanceUsdmNormaliser(),
        )
    }
)


def normaliser_for(exchange: str) -> Normaliser:
    """The normaliser of a ccxt exchange id, or ValueError listing the supported ones."""
    try:
        return NORMALISERS[exchange]
    except KeyError:
        raise ValueError(
            f"no normaliser for exchange {exchange!r}; supported: {', '.join(sorted(NORMALISERS))}"
        ) from None


__all__ = [
    "MASTER_ACCOUNT",
    "NORMALISERS",
    "MalformedResponseError",
    "MarkBatch",
    "Normaliser",
    "OrderArgs",
    "SubaccountRoute",
    "TransferCall",
    "VenueMarket",
    "normaliser_for",
]
