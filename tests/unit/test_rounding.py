"""Rounding to lot and tick: the worked example, safe directions, float noise, min size."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, OptionType, Settlement
from bot.domain.orders import Side
from bot.domain.rounding import (
    LotRounding,
    amount_coin,
    hedge_amount,
    ioc_limit_price,
    round_amount,
    round_price,
    side_of,
)

PERP = Instrument(
    VenueId("deribit-a"),
    Symbol("BTC/USD:BTC"),
    Currency("BTC"),
    Currency("USD"),
    Currency("BTC"),
    InstrumentKind.PERPETUAL,
    Settlement.INVERSE,
    AmountUnit.USD,
    Currency("USD"),
    tick_size=0.5,
    lot_size=10.0,
    min_size=10.0,
)
OPTION = Instrument(
    VenueId("deribit-a"),
    Symbol("BTC/USD:BTC-261225-60000-C"),
    Currency("BTC"),
    Currency("USD"),
    Currency("BTC"),
    InstrumentKind.OPTION,
    Settlement.INVERSE,
    AmountUnit.COIN,
    Currency("BTC"),
    tick_size=0.0005,
    lot_size=0.1,
    min_size=0.3,
    expiry_ms=1_798_185_600_000,
    strike_usd=60_000.0,
    option_type=OptionType.CALL,
)


def test_worked_example_btc_perpetual() -> None:
    """+0.2534 BTC at 61,234.7 is 15,510 USD on Deribit's 10 USD lot, limit 61,540.5."""
    assert hedge_amount(PERP, 0.2534, 61_234.7) == 15_510.0
    assert amount_coin(PERP, 15_510.0, 61_234.7) == pytest.approx(0.25328776, abs=1e-8)
    assert ioc_limit_price(PERP, 61_234.7, Side.BUY, 0.005) == 61_540.5
    assert ioc_limit_price(PERP, 61_234.7, Side.SELL, 0.005) == 60_929.0


def test_coin_counted_amount_is_not_scaled_by_price() -> None:
    """An option amount is already coin: -0.47 BTC is -0.4 at a 0.1 lot."""
    assert hedge_amount(OPTION, -0.47, 61_234.7) == -0.4
    assert amount_coin(OPTION, -0.4, 61_234.7) == -0.4


def test_float_noise_does_not_lose_a_lot() -> None:
    """0.7 - 0.4 (0.29999999999999993) is three 0.1 lots, and 0.3 stays exactly 0.3."""
    assert round_amount(OPTION, 0.7 - 0.4) == 0.3
    assert round_amount(OPTION, 0.3) == 0.3
    assert round_amount(OPTION, 0.1 + 0.2) == 0.3


def test_below_min_size_is_skipped() -> None:
    """A size that rounds below min_size becomes 0.0 (skip), in both directions."""
    assert round_amount(OPTION, 0.29) == 0.0
    assert round_amount(OPTION, -0.25) == 0.0
    assert round_amount(PERP, 9.99) == 0.0


def test_nearest_rounding_is_opt_in() -> None:
    """NEAREST rounds 15,516.9 USD up to 15,520; the default rounds it down to 15,510."""
    assert round_amount(PERP, 15_516.9, LotRounding.NEAREST) == 15_520.0
    assert round_amount(PERP, 15_516.9) == 15_510.0


def test_price_on_tick_stays_and_off_tick_leans_safe() -> None:
    """A price on the tick is kept; off it, a buy goes down and a sell goes up."""
    assert round_price(PERP, 61_234.5, Side.BUY) == 61_234.5
    assert round_price(PERP, 61_234.5, Side.SELL) == 61_234.5
    assert round_price(PERP, 61_234.7, Side.BUY) == 61_234.5
    assert round_price(PERP, 61_234.7, Side.SELL) == 61_235.0
    assert round_price(OPTION, 0.0685, Side.BUY) == 0.0685


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: round_amount(PERP, math.nan), "amount must be a finite number"),
        (lambda: round_price(PERP, -1.0, Side.SELL), "price must be positive"),
        (lambda: round_price(PERP, 0.2, Side.BUY), "below one tick"),
        (lambda: ioc_limit_price(PERP, 60_000.0, Side.BUY, 1.5), "max_slippage_frac"),
        (lambda: side_of(0.0), "non-zero"),
    ],
)
def test_bad_input_is_named(call: object, message: str) -> None:
    """Bad input raises ValueError naming the problem."""
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()


def test_side_of_signed_amount() -> None:
    """A positive amount buys, a negative one sells."""
    assert (side_of(10.0), side_of(-0.1)) == (Side.BUY, Side.SELL)


AMOUNTS = st.floats(-1e7, 1e7, allow_nan=False)


@given(AMOUNTS)
def test_rounded_amount_never_overshoots_and_is_whole_lots(amount: float) -> None:
    """Toward zero: |rounded| <= |amount|, same sign, an exact multiple of the lot."""
    for inst in (PERP, OPTION):
        rounded = round_amount(inst, amount)
        assert abs(rounded) <= abs(amount) * (1 + 1e-9)
        assert rounded == 0 or math.copysign(1, rounded) == math.copysign(1, amount)
        lots = Decimal(repr(rounded)) / Decimal(repr(inst.lot_size))
        assert lots == lots.to_integral_value()
        assert rounded == 0 or abs(rounded) >= inst.min_size
        assert abs(amount) - abs(rounded) < inst.lot_size + inst.min_size


@given(st.floats(0.6, 1e6, allow_nan=False), st.sampled_from(list(Side)))
def test_rounded_price_is_on_tick_and_never_worse(price: float, side: Side) -> None:
    """A buy limit is <= the price, a sell limit >=, both within one tick and on the tick."""
    rounded = round_price(PERP, price, side)
    ticks = Decimal(repr(rounded)) / Decimal("0.5")
    assert ticks == ticks.to_integral_value()
    if side is Side.BUY:
        assert price - 0.5 < rounded <= price * (1 + 1e-12)
    else:
        assert price * (1 - 1e-12) <= rounded < price + 0.5
