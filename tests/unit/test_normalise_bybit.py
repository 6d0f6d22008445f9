"""Bybit normaliser: real ccxt parsers on payloads shaped as Bybit's v5 API documents them."""

from __future__ import annotations

import json
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
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.normalise import MalformedResponseError
from tests.contract.recorded import START_MS, Harness, load, recorded_venue

INVERSE = Symbol("BTC/USD:BTC")
LINEAR = Symbol("BTC/USDT:USDT")
CALL = Symbol("BTC/USDC:USDC-261225-60000-C")
VENUE = VenueId("bybit-a")
CID = client_order_id("cycle-1", VENUE, INVERSE, 0)
TID = TransferId("db0123456789abcdef0123456789abcd")
TID_UUID = "af384e1c-a2bf-5596-9f9b-0b61b57b0ee7"
"""uuid5 of TID: pinned, because a new derivation would re-key transfers journaled earlier."""
UNIVERSAL_TRANSFER = "POST /v5/asset/transfer/universal-transfer"
UIDS = {"main": "592324", "hedge1": "592334", "hedge2": "691355"}


def _echo_transfer_id(params: dict[str, str]) -> tuple[int, Any]:
    """Bybit's universal-transfer answer: the transferId it was sent, status SUCCESS."""
    answer = load("bybit", "universal_transfer")
    answer["result"]["transferId"] = params["transferId"]
    return 200, answer


def _transfer(tid: str = TID, destination: str = "hedge1") -> TransferRequest:
    return TransferRequest(
        TransferId(tid), VENUE, TransferKind.SUBACCOUNT, Currency("USDT"), 100.0, destination
    )


def _subaccounts(
    venue: CcxtVenue, uids: dict[str, str] = UIDS, wallet: str | None = None
) -> CcxtVenue:
    """The recorded venue's client as the master account, with Bybit member UIDs."""
    return CcxtVenue(
        venue.venue_id,
        venue.client,
        venue.normaliser,
        account="main",
        budget=venue.budget,
        clock_ms=lambda: START_MS,
        subaccounts=uids,
        subaccount_wallet=wallet,
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


async def test_universal_transfer_carries_uids_account_types_and_our_uuid(
    bybit: Harness,
) -> None:
    """POST universal-transfer from the master's UID to the sub-account's, UNIFIED on both
    ends, with coin, amount and transferId = uuid5 of our id; SUCCESS is COMPLETED, ours."""
    venue, rec = bybit
    rec.on(UNIVERSAL_TRANSFER, "universal_transfer")
    bodies: list[Any] = []
    recorded = venue.client.fetch

    async def keep_body(
        url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        bodies.append(body)
        return await recorded(url, method, headers, body)

    venue.client.fetch = keep_body
    report = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state, report.amount) == (
        TID,
        TID_UUID,
        TransferState.COMPLETED,
        100.0,
    )
    assert report.ts_ms == 1767225600100
    (call,) = rec.calls
    assert (call.method, call.path) == ("POST", "/v5/asset/transfer/universal-transfer")
    assert call.params == {
        "transferId": TID_UUID,
        "coin": "USDT",
        "amount": "100",
        "fromMemberId": "592324",
        "toMemberId": "592334",
        "fromAccountType": "UNIFIED",
        "toAccountType": "UNIFIED",
    }
    wire = json.loads(bodies[0])
    assert (wire["fromMemberId"], wire["toMemberId"]) == (592324, 592334), "UIDs are integers"


async def test_transfer_sends_a_uuid_derived_from_our_id(bybit: Harness) -> None:
    """transferId is uuid5 of our transfer id, the same on every send of the same transfer,
    and a different one for another transfer; the echoed UUID is accepted as ours."""
    venue, rec = bybit
    rec.on(UNIVERSAL_TRANSFER, _echo_transfer_id)
    subs = _subaccounts(venue, wallet="FUND")
    report = await subs.transfer_to_subaccount(_transfer())
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state) == (
        TID,
        TID_UUID,
        TransferState.COMPLETED,
    )
    await subs.transfer_to_subaccount(_transfer())
    await subs.transfer_to_subaccount(_transfer("db0123456789abcdef0123456789abce"))
    sent = [c.params for c in rec.calls if c.path.endswith("/universal-transfer")]
    assert [p["transferId"] for p in sent[:2]] == [TID_UUID, TID_UUID]
    assert sent[2]["transferId"] != TID_UUID
    assert {(p["fromAccountType"], p["toAccountType"]) for p in sent} == {("FUND", "FUND")}


async def test_transfer_without_the_master_uid_is_rejected_unsent(bybit: Harness) -> None:
    """Bybit names both ends by UID, the master's too: without 'main' in subaccounts the
    transfer is Rejected naming it, and nothing is sent."""
    venue, rec = bybit
    outcome = await _subaccounts(venue, {"hedge1": "592334"}).transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("not sent") and "'main'" in outcome.reason
    assert rec.calls == []


async def test_pending_universal_transfer_is_processing(bybit: Harness) -> None:
    """status PENDING is a transfer the venue has not finished: PROCESSING, not COMPLETED."""
    venue, rec = bybit
    answer = load("bybit", "universal_transfer")
    answer["result"]["status"] = "PENDING"
    rec.on(UNIVERSAL_TRANSFER, answer)
    report = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.state) == (TID, TransferState.PROCESSING)


async def test_insufficient_balance_on_transfer_is_rejected(bybit: Harness) -> None:
    """retCode 131212 (insufficient balance) maps through ccxt to InsufficientFunds: Rejected."""
    venue, rec = bybit
    rec.on(UNIVERSAL_TRANSFER, "transfer_insufficient")
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("InsufficientFunds")


async def test_transfer_id_exists_is_ambiguous_not_rejected(bybit: Harness) -> None:
    """retCode 131214 'TransferId exist' means an earlier send may have moved the money:
    Ambiguous (ccxt's BadRequest would otherwise read as Rejected)."""
    venue, rec = bybit
    rec.on(UNIVERSAL_TRANSFER, "transfer_id_exists")
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer())
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


async def test_duplicate_order_link_id_is_ambiguous_never_rejected(bybit: Harness) -> None:
    """retCode 110072 (orderLinkId is duplicate; ccxt says InvalidOrder) means an order with our
    id exists: Ambiguous, to be looked up, never Rejected and sent again."""
    venue, rec = bybit
    rec.on("POST /v5/order/create", "error_duplicate_link_id")
    outcome = await venue.create_order(OrderRequest(CID, VENUE, INVERSE, Side.BUY, 15500.0))
    assert isinstance(outcome, Ambiguous)
    assert "look it up" in outcome.reason and "110072" in outcome.reason


async def test_inverse_perpetual_funding_is_the_ticker_rate(bybit: Harness) -> None:
    """fundingRate 0.0001 of the BTCUSD ticker is the inverse perpetual's funding rate."""
    venue, _ = bybit
    marks = await venue.fetch_marks([INVERSE])
    assert marks[INVERSE].funding_rate == 0.0001
