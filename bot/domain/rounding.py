"""The one place that rounds order amounts to lots and prices to ticks (docs/architecture.md §2).

Every rounding here leans the safe way: amounts toward zero so a hedge never
overshoots its target, a buy limit down and a sell limit up so a price is
never worse than intended. Arithmetic goes through :class:`decimal.Decimal` of
each float's shortest repr, plus a tolerance of ``1e-9`` of a lot or tick, so
a computed 0.29999999999999993 is three 0.1 lots, not two.

Worked example (Deribit BTC-PERPETUAL: inverse, amounts in USD, 10 USD lot,
0.5 USD tick). Buying +0.2534 BTC at a mark of 61,234.7 USD/BTC is
0.2534 x 61,234.7 = 15,516.87298 USD, which rounds toward zero to
1,551 lots = 15,510 USD; back in coin that is 15,510 / 61,234.7 =
0.25328776 BTC, a little under the target. An IOC limit with 0.5% slippage is
61,234.7 x 1.005 = 61,540.8735, which a buy rounds down to 61,540.5; a sell
would use 61,234.7 x 0.995 = 60,928.5265, rounded up to 60,929.0.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Final

from bot.domain.instruments import Instrument
from bot.domain.orders import Side
from bot.domain.units import order_amount, position_coin

STEP_TOLERANCE: Final = Decimal("1e-9")
"""Fraction of a lot or tick within which a value counts as on the step (float noise)."""


class LotRounding(StrEnum):
    """How an amount snaps to the lot: toward zero (never overshoot) or to the nearest lot."""

    TOWARD_ZERO = "toward_zero"
    NEAREST = "nearest"


def _dec(name: str, value: float) -> Decimal:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return Decimal(repr(float(value)))


def _steps(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """Whole number of ``step`` in ``value`` under ``rounding``, forgiving float noise."""
    ratio = value / step
    if rounding == ROUND_FLOOR:
        ratio += STEP_TOLERANCE
    elif rounding == ROUND_CEILING:
        ratio -= STEP_TOLERANCE
    return ratio.to_integral_value(rounding=rounding)


def round_amount(
    instrument: Instrument, amount: float, rounding: LotRounding = LotRounding.TOWARD_ZERO
) -> float:
    """Signed ``amount`` (``instrument.amount_unit``) on a whole number of lots.

    Returns 0.0, meaning "skip", when the rounded size is below ``min_size``.
    """
    value = _dec(f"{instrument.symbol}: amount", amount)
    lot = _dec("lot_size", instrument.lot_size)
    mode = ROUND_FLOOR if rounding is LotRounding.TOWARD_ZERO else ROUND_HALF_EVEN
    lots = _steps(abs(value), lot, mode)
    size = lots * lot
    if size < _dec("min_size", instrument.min_size) * (1 - STEP_TOLERANCE):
        return 0.0
    return float(size.copy_sign(value))


def round_price(instrument: Instrument, price: float, side: Side) -> float:
    """Limit ``price`` (``instrument.price_currency``) on a tick: a buy down, a sell up."""
    value = _dec(f"{instrument.symbol}: price", price)
    if value <= 0:
        raise ValueError(f"{instrument.symbol}: price must be positive, got {price!r}")
    tick = _dec("tick_size", instrument.tick_size)
    ticks = _steps(value, tick, ROUND_FLOOR if side is Side.BUY else ROUND_CEILING)
    if ticks <= 0:
        raise ValueError(
            f"{instrument.symbol}: buy price {price!r} is below one tick ({instrument.tick_size})"
        )
    return float(ticks * tick)


def ioc_limit_price(
    instrument: Instrument, mark_price: float, side: Side, max_slippage_frac: float
) -> float:
    """Limit of an IOC hedge: ``mark_price`` moved against us by at most the slippage fraction.

    The tick rounding then moves it back toward the mark, never further away.
    """
    if not (math.isfinite(max_slippage_frac) and 0 <= max_slippage_frac < 1):
        raise ValueError(f"max_slippage_frac must be in [0, 1), got {max_slippage_frac!r}")
    mark = _dec(f"{instrument.symbol}: mark_price", mark_price)
    if mark <= 0:
        raise ValueError(f"{instrument.symbol}: mark_price must be positive, got {mark_price!r}")
    slip = _dec("max_slippage_frac", max_slippage_frac)
    limit = mark * (1 + slip) if side is Side.BUY else mark * (1 - slip)
    return round_price(instrument, float(limit), side)


def hedge_amount(
    instrument: Instrument,
    coin: float,
    price_usd: float,
    rounding: LotRounding = LotRounding.TOWARD_ZERO,
) -> float:
    """Signed, lot-rounded venue amount for a coin change; 0.0 means skip.

    ``price_usd`` converts USD-counted contracts (Deribit inverse) and is
    ignored for coin-counted ones.
    """
    return round_amount(instrument, order_amount(instrument, coin, price_usd), rounding)


def amount_coin(instrument: Instrument, amount: float, price_usd: float) -> float:
    """Coin quantity of a venue amount: the way back from :func:`hedge_amount`."""
    return position_coin(instrument, amount, price_usd)


def side_of(amount: float) -> Side:
    """BUY for a positive signed amount, SELL for a negative one (zero has no side)."""
    if amount == 0 or not math.isfinite(amount):
        raise ValueError(f"a signed non-zero finite amount is needed for a side, got {amount!r}")
    return Side.BUY if amount > 0 else Side.SELL
