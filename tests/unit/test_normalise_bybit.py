"""Bybit normaliser: real ccxt parsers on payloads shaped as Bybit's v5 API documents them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Settlement
from bot.domain.orders import (
    Accepted,
    Ambiguous,
    OrderRequest,
    OrderState,
    Rejected,
    Side,
    TransferId,
    TransferKind,
    TransferReport,
    TransferRequest,
    TransferState,
    client_order_id,
)
from bot.domain.units import position_coin
from bot.venues.normalise import MalformedResponseError
from tests.contract.recorded import Harness, load, recorded_venue

INVERSE = Symbol("BTC/USD:BTC")
LINEAR = Symbol("BTC/USDT:USDT")
CALL = Symbol("BTC/USDC:USDC-261225-60000-C")
VENUE = VenueId("bybit-a")
CID = client_order_id("cycle-1", VENUE, INVERSE, 0)
TID = TransferId("db0123456789abcdef0123456789abcd")
TID_UUID = "af384e1c-a2bf-5596-9f9b-0b61b57b0ee7"
"""uuid5 of TID: pinned, because a new derivation would re-key transfers journaled earlier."""
INTER_TRANSFER = "POST /v5/asset/transfer/inter-transfer"


def _echo_transfer_id(params: dict[str, str]) -> tuple[int, Any]:
    """Bybit's inter-transfer answer: the transferId it was sent."""
    result = {"transferId": params["transferId"]}
    return 200, {"retCode": 0, "retMsg": "success", "result": result, "time": 1767225600100}


def _transfer(tid: str = TID) -> TransferRequest:
    return TransferRequest(
        TransferId(tid), VENUE, TransferKind.SUBACCOUNT, Currency("USDT"), 100.0, "FUND"
    )


@pytest.fixture
async def bybit() -> AsyncIterator[Harness]:
    venue, rec, _clock = recorded_venue("bybit", VENUE)
    rec.on("GET /v5/market/instruments-info?category=linear", "instruments_linear")
    rec.on("GET /v5/market/instruments-info?category=inverse", "instruments_inverse")
    rec.on("GET /v5/market/instruments-info?status=PreLaunch", "instruments_empty")
    rec.on("GET /v5/market/instruments-info?category=option", "instruments_empty")
    rec.on("GET /v5/market/instruments-info?category=option&baseCoin=BTC", "instruments_option_btc")
    rec.on("GET /v5/position/list", "positions_empty")
    rec.on("GET /v5/position/list?category=option", "positions_option")
    rec.on("GET /v5/position/list?category=inverse", "positions_inverse")
    rec.on("GET /v5/account/wallet-balance?accountType=UNIFIED", "wallet_balance")
    rec.on("GET /v5/market/tickers?category=option&baseCoin=BTC", "tickers_option_btc")
    rec.on("GET /v5/market/tickers?category=inverse", "tickers_inverse")
    yield venue, rec
    await venue.close()


async def test_instruments_inverse_usd_linear_and_usdc_options_in_coin(bybit: Harness) -> None:
    """BTCUSD counts USD in 1 USD steps; BTCUSDT and USDC options count BTC; premiums in USDC."""
    venue, _ = bybit
    instruments = await venue.load_instruments()
    inverse, linear, call = instruments[INVERSE], instruments[LINEAR], instruments[CALL]
    assert (inverse.amount_unit, inverse.lot_size, inverse.settlement) == (
        AmountUnit.USD,
        1.0,
        Settlement.INVERSE,
    )
    assert (linear.amount_unit, linear.lot_size, linear.price_currency) == (
        AmountUnit.COIN,
        0.001,
        "USDT",
    )
    assert (call.amount_unit, call.price_currency, call.settlement, call.tick_size) == (
        AmountUnit.COIN,
        "USDC",
        Settlement.LINEAR,
        5.0,
    )


async def test_positions_take_sign_from_side(bybit: Harness) -> None:
    """size 30000 with side Sell is -30,000 USD (-0.5 BTC at 60,000); a flat entry is dropped."""
    venue, _ = bybit
    positions = {p.instrument.symbol: p for p in await venue.fetch_positions()}
    assert set(positions) == {INVERSE, CALL}
    inverse = positions[INVERSE]
    assert inverse.size == -30000.0
    assert position_coin(inverse.instrument, inverse.size, 60000.0) == pytest.approx(-0.5)
    assert positions[CALL].size == 2.0


async def test_unknown_side_with_size_is_refused(bybit: Harness) -> None:
    """A non-zero size without Buy/Sell cannot be signed: refused, naming the side."""
    venue, rec = bybit
    payload = load("bybit", "positions_inverse")
    payload["result"]["list"][0]["side"] = ""
    rec.on("GET /v5/position/list?category=inverse", payload)
    with pytest.raises(MalformedResponseError, match="unknown side"):
        await venue.fetch_positions()


async def test_balance_margin_is_position_plus_order_im(bybit: Harness) -> None:
    """BTC IM = position IM 0.55 + order IM 0.05; empty availableToWithdraw -> equity - IM."""
    venue, _ = bybit
    btc = next(b for b in await venue.fetch_balances() if b.currency == "BTC")
    assert btc.initial_margin == pytest.approx(0.6)
    assert btc.available == pytest.approx(1.9)
    assert (btc.equity, btc.maintenance_margin) == (2.5, 0.45)


async def test_option_marks_are_fractions_with_bs_delta(bybit: Harness) -> None:
    """markIv 0.6 stays 0.6, underlyingPrice is the forward, delta per unit; a call per group."""
    venue, rec = bybit
    marks = await venue.fetch_marks([CALL, INVERSE])
    call = marks[CALL]
    assert (call.mark_price, call.mark_iv, call.underlying_usd, call.venue_delta) == (
        4112.4,
        0.6,
        60000.0,
        0.5343,
    )
    assert (call.bid, call.ask) == (4080.0, 4170.0)
    assert call.ts_ms == 1_767_225_600_000, "ccxt drops Bybit's time: the read time stamps it"
    assert marks[INVERSE].underlying_usd == 60000.0
    assert rec.paths().count("/v5/market/tickers") == 2


async def test_partially_filled_canceled_is_not_reported_filled(bybit: Harness) -> None:
    """ccxt calls PartiallyFilledCanceled 'closed'; 10,000 of 15,500 filled is CANCELED."""
    venue, rec = bybit
    rec.on("POST /v5/order/create", "order_create_ack")
    rec.on("GET /v5/order/realtime", "order_realtime_partial_canceled")
    outcome = await venue.create_order(
        OrderRequest(CID, VENUE, INVERSE, Side.BUY, 15500.0, 62010.0)
    )
    assert isinstance(outcome, Accepted)
    assert (outcome.report.state, outcome.report.filled_amount) == (OrderState.CANCELED, 10000.0)
    sent = next(c for c in rec.calls if c.method == "POST").params
    assert (sent["orderLinkId"], sent["qty"], sent["timeInForce"]) == (CID, "15500", "IOC")


async def test_margin_check_failure_is_rejected(bybit: Harness) -> None:
    """retCode 110007 maps through ccxt to InsufficientFunds: Rejected."""
    venue, rec = bybit
    rec.on("POST /v5/order/create", "error_insufficient")
    outcome = await venue.create_order(OrderRequest(CID, VENUE, INVERSE, Side.BUY, 15500.0))
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("InsufficientFunds")


async def test_transfer_sends_a_uuid_derived_from_our_id(bybit: Harness) -> None:
    """transferId is uuid5 of our transfer id, the same on every send of the same transfer,
    and a different one for another transfer; the echoed UUID is accepted as ours."""
    venue, rec = bybit
    rec.on(INTER_TRANSFER, _echo_transfer_id)
    report = await venue.transfer_to_subaccount(_transfer())
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state) == (
        TID,
        TID_UUID,
        TransferState.COMPLETED,
    )
    await venue.transfer_to_subaccount(_transfer())
    await venue.transfer_to_subaccount(_transfer("db0123456789abcdef0123456789abce"))
    sent = [c.params["transferId"] for c in rec.calls if c.path.endswith("/inter-transfer")]
    assert sent[:2] == [TID_UUID, TID_UUID]
    assert sent[2] != TID_UUID


async def test_transfer_id_exists_is_ambiguous_not_rejected(bybit: Harness) -> None:
    """retCode 131214 'TransferId exist' means an earlier send may have moved the money:
    Ambiguous (ccxt's BadRequest would otherwise read as Rejected)."""
    venue, rec = bybit
    rec.on(INTER_TRANSFER, "transfer_id_exists")
    outcome = await venue.transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Ambiguous)
    assert TID_UUID in outcome.reason and "never resend" in outcome.reason


async def test_withdrawal_sends_request_id(bybit: Harness) -> None:
    """withdraw/create carries requestId = our transfer id; the bare id answer is PROCESSING
    with the amount we sent."""
    venue, rec = bybit
    rec.on("POST /v5/asset/withdraw/create", "withdraw_create")
    address = "0x99ced129603abc771c0dabe935c326ff6c86645d"
    request = TransferRequest(TID, VENUE, TransferKind.WITHDRAWAL, Currency("USDT"), 24.0, address)
    report = await venue.withdraw(request)
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state, report.amount) == (
        TID,
        "9377266",
        TransferState.PROCESSING,
        24.0,
    )
    sent = rec.calls[-1].params
    assert (sent["requestId"], sent["address"], sent["amount"]) == (TID, address, "24")
