"""Conversions between venue amounts and coin exposure (docs/architecture.md §3).

Every amount the bot sends or reads crosses this module, so it is the one
place that knows Deribit inverse contracts count USD while options and linear
contracts count coin.

Worked example (Deribit inverse perpetual, BTC): a position of ``size`` =
-30,000 USD at a mark of 60,000 USD/BTC is ``size_currency`` = -0.5 BTC of
delta; hedging +0.25 BTC at 62,000 USD/BTC is an order of 15,500 USD, which
rounds down to 15,500 at Deribit's 10 USD lot.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from bot.domain.instruments import AmountUnit, Instrument
from bot.pricing.arrays import FloatArray

MAX_AMOUNT: Final = 1e12
"""The largest position size or order amount deltabot accepts, in the instrument's amount unit
(coin, or USD for inverse futures): beyond any venue's whole market, and small enough that a
size times a price, a premium or a Greek stays far from floating-point overflow."""


def amount_to_coin(amount: ArrayLike, amount_is_usd: ArrayLike, price_usd: ArrayLike) -> FloatArray:
    """Coin quantity of venue amounts; USD-counted amounts divide by the USD price."""
    amt = np.asarray(amount, dtype=np.float64)
    usd = np.asarray(amount_is_usd, dtype=bool)
    px = np.asarray(price_usd, dtype=np.float64)
    return np.where(usd, amt / px, amt)


def coin_to_amount(coin: ArrayLike, amount_is_usd: ArrayLike, price_usd: ArrayLike) -> FloatArray:
    """Venue amount for a coin quantity; the inverse of :func:`amount_to_coin`."""
    qty = np.asarray(coin, dtype=np.float64)
    usd = np.asarray(amount_is_usd, dtype=bool)
    px = np.asarray(price_usd, dtype=np.float64)
    return np.where(usd, qty * px, qty)


def position_coin(instrument: Instrument, size: float, price_usd: float) -> float:
    """Coin quantity of one position of ``size`` (venue amount unit) at ``price_usd``."""
    if instrument.amount_unit is AmountUnit.USD:
        if not price_usd > 0:
            raise ValueError(
                f"{instrument.symbol}: a positive USD price is needed, got {price_usd}"
            )
        return size / price_usd
    return size


def order_amount(instrument: Instrument, coin: float, price_usd: float) -> float:
    """Venue amount (unrounded) of a coin quantity for ``instrument``."""
    if instrument.amount_unit is AmountUnit.USD:
        if not price_usd > 0:
            raise ValueError(
                f"{instrument.symbol}: a positive USD price is needed, got {price_usd}"
            )
        return coin * price_usd
    return coin
