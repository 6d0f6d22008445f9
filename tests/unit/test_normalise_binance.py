"""Binance normaliser: real ccxt parsers on eapi (options) and dapi (COIN-M) payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.ids import Symbol, VenueId
from bot.domain.instruments import AmountUnit, Settlement
from bot.domain.orders import Accepted, OrderRequest, OrderState, Rejected, Side, client_order_id
from bot.domain.units import position_coin
from tests.contract.recorded import Harness, recorded_venue

PERP = Symbol("BTC/USD:BTC")
CALL = Symbol("BTC/USDT:USDT-261225-60000-C")
VENUE = VenueId("binance-a")


@pytest.fixture
async def binance() -> AsyncIterator[Harness]:
    venue, rec, _clock = recorded_venue("binance", VENUE)
    rec.on("GET /dapi/v1/exchangeInfo", "dapi_exchange_info")
    rec.on("GET /eapi/v1/exchangeInfo", "eapi_exchange_info")
    rec.on("GET /eapi/v1/position", "eapi_position")
    rec.on("GET /dapi/v1/positionRisk", "dapi_position_risk")
    rec.on("GET /dapi/v2/leverageBracket", "dapi_leverage_bracket")
    rec.on("GET /eapi/v1/marginAccount", "eapi_margin_account")
    rec.on("GET /dapi/v1/account", "dapi_account")
    rec.on("GET /eapi/v1/mark", "eapi_mark")
    rec.on("GET /eapi/v1/ticker", "eapi_ticker")
    rec.on("GET /dapi/v1/premiumIndex", "dapi_premium_index")
    rec.on("GET /dapi/v1/ticker/bookTicker", "dapi_book_ticker")
    yield venue, rec
    await venue.close()


async def test_coin_m_contract_is_100_usd_and_options_are_usdt_priced_coin(
    binance: Harness,
) -> None:
    """BTCUSD_PERP lots are contractSize 100 USD; an option counts BTC and is priced in USDT."""
    venue, _ = binance
    instruments = await venue.load_instruments()
    perp, call = instruments[PERP], instruments[CALL]
    assert (perp.amount_unit, perp.lot_size, perp.settlement) == (
        AmountUnit.USD,
        100.0,
        Settlement.INVERSE,
    )
    assert (call.amount_unit, call.price_currency, call.lot_size, call.settlement) == (
        AmountUnit.COIN,
        "USDT",
        0.01,
        Settlement.LINEAR,
    )


async def test_positions_scale_contracts_and_sign_options_by_side(binance: Harness) -> None:
    """positionAmt -300 is -30,000 USD (-0.5 BTC at 60,000); a LONG option of 2 is +2 BTC."""
    venue, _ = binance
    positions = {p.instrument.symbol: p for p in await venue.fetch_positions()}
    assert set(positions) == {PERP, CALL}
    perp = positions[PERP]
    assert perp.size == -30000.0
    assert position_coin(perp.instrument, perp.size, 60000.0) == pytest.approx(-0.5)
    assert positions[CALL].size == 2.0


async def test_balances_from_option_margin_account_and_coin_m_account(binance: Harness) -> None:
    """USDT comes from eapi marginAccount, BTC from dapi account, IM and MM as reported."""
    venue, _ = binance
    balances = {b.currency: b for b in await venue.fetch_balances()}
    usdt, btc = balances["USDT"], balances["BTC"]
    assert (usdt.equity, usdt.initial_margin, usdt.maintenance_margin) == (
        10094.44662,
        1084.52138,
        151.00138,
    )
    assert (btc.equity, btc.available, btc.initial_margin, btc.maintenance_margin) == (
        2.5,
        1.9,
        0.6,
        0.45,
    )


async def test_option_mark_joins_mark_iv_delta_and_ticker_index(binance: Harness) -> None:
    """markIV 0.6 and delta from eapi/mark, bid/ask and exercisePrice from eapi/ticker."""
    venue, _ = binance
    marks = await venue.fetch_marks([CALL, PERP])
    call = marks[CALL]
    assert (call.mark_price, call.mark_iv, call.venue_delta, call.underlying_usd) == (
        4112.4,
        0.6,
        0.5343,
        60000.0,
    )
    assert (call.bid, call.ask) == (4080.0, 4170.0)
    assert (marks[PERP].mark_price, marks[PERP].bid, marks[PERP].ts_ms) == (
        60000.0,
        60000.0,
        1767225599950,
    )


async def test_option_ioc_order_carries_client_id(binance: Harness) -> None:
    """An IOC option buy sends clientOrderId and quantity in BTC and maps FILLED."""
    venue, rec = binance
    rec.on("POST /eapi/v1/order", "eapi_order_filled")
    cid = client_order_id("cycle-1", VENUE, Symbol("BTC/USD:BTC-261225-60000-C"), 0)
    outcome = await venue.create_order(OrderRequest(cid, VENUE, CALL, Side.BUY, 0.5, 4170.0))
    assert isinstance(outcome, Accepted)
    assert (outcome.report.state, outcome.report.filled_amount, outcome.report.client_id) == (
        OrderState.FILLED,
        0.5,
        cid,
    )
    sent = rec.calls[-1].params
    assert (sent["clientOrderId"], sent["quantity"], sent["timeInForce"]) == (cid, "0.5", "IOC")


async def test_coin_m_order_is_sent_in_contracts_and_margin_error_rejected(
    binance: Harness,
) -> None:
    """15,550 USD is off the 100 USD contract and never sent; 15,500 USD goes out as 155."""
    venue, rec = binance
    rec.on("POST /dapi/v1/order", "error_margin_insufficient", status=400)
    cid = client_order_id("cycle-1", VENUE, PERP, 0)
    off_lot = await venue.create_order(OrderRequest(cid, VENUE, PERP, Side.BUY, 15550.0))
    assert isinstance(off_lot, Rejected)
    assert "lot" in off_lot.reason
    outcome = await venue.create_order(OrderRequest(cid, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("InsufficientFunds")
    assert rec.calls[-1].params["quantity"] == "155"
    assert not any(c.path == "/dapi/v1/order" for c in rec.calls[:-1]), "the off-lot one was sent"
