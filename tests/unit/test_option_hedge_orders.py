"""An approved proposal's legs as IOC intents priced off the mark IV, with their premium."""

from __future__ import annotations

import pytest

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.option_hedge_orders import Leg, leg_intents
from bot.domain.orders import Side, TimeInForce
from bot.domain.risk import OrderIntent
from bot.domain.snapshot import Mark
from tests.books import NOW_MS, _option

CALL = _option("C30", 60_000.0, 30, True)
MARK = Mark(CALL.symbol, 0.06854, 60_000.0, NOW_MS, mark_iv=0.60)


def _intents(amount: float) -> tuple[OrderIntent, ...]:
    return leg_intents(
        "oh-1", VenueId("deribit"), Currency("BTC"), [Leg(CALL.symbol, amount)],
        instruments={CALL.symbol: CALL}, marks={CALL.symbol: MARK}, held_coin={CALL.symbol: -20.0},
        now_ms=NOW_MS, iv_tolerance=0.02,
    )  # fmt: skip


def test_a_buy_is_limited_at_mark_iv_plus_the_tolerance_rounded_down() -> None:
    """The module docstring's example: 62 % vol is 0.07082 BTC, a buy limit of 0.0708 (and of
    62 % where the venue takes an IV), IOC."""
    (intent,) = _intents(4.2)
    order = intent.order
    assert (order.side, order.amount, order.tif) == (Side.BUY, 4.2, TimeInForce.IOC)
    assert order.limit_price == pytest.approx(0.0708) and order.limit_iv == pytest.approx(0.62)
    assert order.client_id == "oh-1-0" and intent.position_before_coin == -20.0


def test_a_sell_is_limited_at_mark_iv_minus_the_tolerance() -> None:
    """Selling at 58 % vol: below the 60 % mark price."""
    (intent,) = _intents(-1.0)
    assert intent.order.side is Side.SELL and intent.order.limit_price < MARK.mark_price


def test_a_leg_without_a_mark_is_an_error_naming_it() -> None:
    """No mark IV, no price: the proposal is not sent half-priced."""
    with pytest.raises(ValueError, match="oh-1: C30 has no option instrument or mark IV"):
        leg_intents(
            "oh-1", VenueId("deribit"), Currency("BTC"), [Leg(Symbol("C30"), 1.0)],
            instruments={CALL.symbol: CALL}, marks={}, held_coin={}, now_ms=NOW_MS,
            iv_tolerance=0.02,
        )  # fmt: skip


def test_an_intent_carries_the_premium_it_moves_at_its_limit() -> None:
    """The module docstring's example: 4.2 BTC at the 0.0708 limit and 60,000 USD moves
    17,841.6 USD of premium, which the gate caps."""
    (intent,) = _intents(4.2)
    assert intent.premium_usd == pytest.approx(4.2 * 0.0708 * 60_000.0)
