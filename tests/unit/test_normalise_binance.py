"""Binance normaliser: real ccxt parsers on eapi (options), dapi (COIN-M) and fapi (USDⓈ-M)
payloads shaped as Binance documents them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, InstrumentKind, Settlement
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
from tests.contract.recorded import START_MS, Harness, load, recorded_venue

PERP = Symbol("BTC/USD:BTC")
CALL = Symbol("BTC/USDT:USDT-261225-60000-C")
USDT_PERP = Symbol("BTC/USDT:USDT")
USDT_QUARTER = Symbol("BTC/USDT:USDT-261225")
VENUE = VenueId("binance-a")
WD_ID = TransferId("db0123456789abcdef0123456789abcd")
ADDRESS = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
UNIVERSAL_TRANSFER = "POST /sapi/v1/sub-account/universalTransfer"
EMAILS = {"hedge1": "hedge1_virtual@deltabot.example", "hedge2": "hedge2_virtual@deltabot.example"}


def _subaccounts(venue: CcxtVenue, account: str = "main", wallet: str | None = None) -> CcxtVenue:
    """The recorded venue's client as the account ``account``, with sub-account emails."""
    return CcxtVenue(
        venue.venue_id,
        venue.client,
        venue.normaliser,
        account=account,
        budget=venue.budget,
        clock_ms=lambda: START_MS,
        subaccounts=EMAILS,
        subaccount_wallet=wallet,
    )


def _transfer(destination: str = "hedge1") -> TransferRequest:
    return TransferRequest(
        WD_ID, VENUE, TransferKind.SUBACCOUNT, Currency("USDT"), 250.5, destination
    )


@pytest.fixture
async def binance() -> AsyncIterator[Harness]:
    venue, rec, _clock = recorded_venue("binance", VENUE)
    rec.on("GET /fapi/v1/exchangeInfo", "fapi_exchange_info")
    rec.on("GET /dapi/v1/exchangeInfo", "dapi_exchange_info")
    rec.on("GET /eapi/v1/exchangeInfo", "eapi_exchange_info")
    rec.on("GET /eapi/v1/position", "eapi_position")
    rec.on("GET /dapi/v1/positionRisk", "dapi_position_risk")
    rec.on("GET /dapi/v2/leverageBracket", "dapi_leverage_bracket")
    rec.on("GET /eapi/v1/marginAccount", "eapi_margin_account")
    rec.on("GET /dapi/v1/account", "dapi_account")
    rec.on("GET /eapi/v1/mark", "eapi_mark")
    rec.on("GET /api/v3/time", "time")
    rec.on("GET /eapi/v1/ticker", "eapi_ticker")
    rec.on("GET /dapi/v1/premiumIndex", "dapi_premium_index")
    rec.on("GET /dapi/v1/ticker/bookTicker", "dapi_book_ticker")
    rec.on("GET /fapi/v3/positionRisk", "fapi_position_risk")
    rec.on("GET /fapi/v1/leverageBracket", "fapi_leverage_bracket")
    rec.on("GET /fapi/v3/account", "fapi_account")
    rec.on("GET /fapi/v1/premiumIndex", "fapi_premium_index")
    rec.on("GET /fapi/v1/ticker/bookTicker", "fapi_book_ticker")
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


async def test_usd_m_contracts_count_base_coin_priced_in_usdt(binance: Harness) -> None:
    """BTCUSDT perp and quarterly are linear: lots of 0.001 BTC (LOT_SIZE), ticks in USDT."""
    venue, _ = binance
    instruments = await venue.load_instruments()
    perp, quarter = instruments[USDT_PERP], instruments[USDT_QUARTER]
    assert (perp.kind, perp.settlement, perp.amount_unit, perp.price_currency) == (
        InstrumentKind.PERPETUAL,
        Settlement.LINEAR,
        AmountUnit.COIN,
        "USDT",
    )
    assert (perp.lot_size, perp.min_size, perp.tick_size, perp.settle) == (
        0.001,
        0.001,
        0.1,
        "USDT",
    )
    assert (quarter.kind, quarter.expiry_ms, quarter.amount_unit) == (
        InstrumentKind.FUTURE,
        1798185600000,
        AmountUnit.COIN,
    )
    assert venue.markets[USDT_PERP].contract_value == 1.0


async def test_usd_m_listing_with_a_contract_size_is_set_aside(binance: Harness) -> None:
    """A USDⓈ-M symbol that claims a contract size is not sized as coin: it is set aside."""
    venue, rec = binance
    odd = load("binance", "fapi_exchange_info")
    odd["symbols"][1]["contractSize"] = 10
    rec.on("GET /fapi/v1/exchangeInfo", odd)
    instruments = await venue.load_instruments()
    assert USDT_PERP in instruments and USDT_QUARTER not in instruments
    assert "counts base coin" in venue.unreadable[USDT_QUARTER]


async def test_positions_scale_contracts_and_sign_options_by_side(binance: Harness) -> None:
    """positionAmt -300 is -30,000 USD (-0.5 BTC at 60,000); a LONG option of 2 is +2 BTC;
    USDⓈ-M positionAmt -0.500 is -0.5 BTC at any price; flat lines are dropped."""
    venue, _ = binance
    positions = {p.instrument.symbol: p for p in await venue.fetch_positions()}
    assert set(positions) == {PERP, CALL, USDT_PERP}
    perp = positions[PERP]
    assert perp.size == -30000.0
    assert position_coin(perp.instrument, perp.size, 60000.0) == pytest.approx(-0.5)
    assert positions[CALL].size == 2.0
    linear = positions[USDT_PERP]
    assert (linear.size, linear.average_price) == (-0.5, 61000.0)
    assert position_coin(linear.instrument, linear.size, 60010.5) == -0.5


async def test_balances_per_wallet_options_coin_m_and_usd_m(binance: Harness) -> None:
    """USDT of eapi marginAccount, BTC of dapi account and USDT of fapi account, each under
    its own wallet so the two USDT lines do not collide; IM and MM as reported."""
    venue, _ = binance
    balances = {(b.account, b.currency): b for b in await venue.fetch_balances()}
    usdt, btc = balances["main/options", "USDT"], balances["main/coin-m", "BTC"]
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
    usd_m = balances["main/usd-m", "USDT"]
    assert (usd_m.equity, usd_m.available, usd_m.initial_margin, usd_m.maintenance_margin) == (
        20494.75,
        18994.4875,
        1500.2625,
        120.021,
    )


async def test_futures_lines_carry_the_unrealised_pnl_read_with_their_equity(
    binance: Harness,
) -> None:
    """fapi and dapi lines keep their ``unrealizedProfit`` (the wallet is equity minus it);
    the options account reports none."""
    venue, _ = binance
    balances = {(b.account, b.currency): b for b in await venue.fetch_balances()}
    assert balances["main/usd-m", "USDT"].unrealised_pnl == 494.75
    assert balances["main/coin-m", "BTC"].unrealised_pnl == 0.00819672
    assert balances["main/options", "USDT"].unrealised_pnl is None


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


async def test_usd_m_mark_from_fapi_premium_index_and_book(binance: Harness) -> None:
    """The USDⓈ-M mark is its own forward in USDT with fapi bid/ask; the USD index stays
    COIN-M's when both are read, and is fapi's USDT index when only USDⓈ-M is."""
    venue, _ = binance
    snap = await venue.snapshot()
    mark = snap.marks[USDT_PERP]
    assert (mark.mark_price, mark.underlying_usd, mark.bid, mark.ask, mark.ts_ms) == (
        60010.5,
        60010.5,
        60010.4,
        60010.5,
        1767225599970,
    )
    assert mark.venue_delta is None
    assert snap.index_usd == {Currency("BTC"): 59990.0}
    marks = await venue.fetch_marks([USDT_QUARTER])
    assert marks[USDT_QUARTER].mark_price == 60180.0


async def test_option_marks_without_a_time_are_stamped_on_the_venues_clock(
    binance: Harness,
) -> None:
    """eapi/mark carries no time: with Binance's clock 30 s ahead, the held call's mark is
    stamped START+30 s, the read time on the venue's clock, so it is 0 s old on ours."""
    venue, rec = binance
    rec.on("GET /api/v3/time", {"serverTime": START_MS + 30_000})
    snap = await venue.snapshot()
    assert snap.skew_ms == 30_000
    assert snap.marks[CALL].ts_ms == START_MS + 30_000
    [stamp] = [s for s in snap.input_stamps([CALL]) if s.name == f"mark {CALL}"]
    assert stamp.age_ms(START_MS) == 0


async def test_usd_m_order_is_sent_in_coin(binance: Harness) -> None:
    """0.25 BTC of BTCUSDT goes to fapi as quantity 0.25 with our client id and maps FILLED."""
    venue, rec = binance
    cid = client_order_id("cycle-1", VENUE, USDT_PERP, 0)
    answer = load("binance", "fapi_order_filled") | {"clientOrderId": cid}
    rec.on("POST /fapi/v1/order", answer)
    outcome = await venue.create_order(OrderRequest(cid, VENUE, USDT_PERP, Side.BUY, 0.25, 62010.0))
    assert isinstance(outcome, Accepted)
    assert (outcome.report.state, outcome.report.filled_amount, outcome.report.client_id) == (
        OrderState.FILLED,
        0.25,
        cid,
    )
    sent = rec.calls[-1].params
    assert (float(sent["quantity"]), sent["newClientOrderId"], sent["timeInForce"]) == (
        0.25,
        cid,
        "IOC",
    )


async def test_withdrawal_sends_withdraw_order_id_and_history_echoes_it(
    binance: Harness,
) -> None:
    """withdrawOrderId carries our transfer id; the history line echoing it maps back to it,
    a line without one carries no transfer id."""
    venue, rec = binance
    rec.on("POST /sapi/v1/capital/withdraw/apply", "sapi_withdraw_apply")
    rec.on("GET /sapi/v1/capital/withdraw/history", "sapi_withdraw_history")
    request = TransferRequest(WD_ID, VENUE, TransferKind.WITHDRAWAL, Currency("BTC"), 0.5, ADDRESS)
    report = await venue.withdraw(request)
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state) == (
        WD_ID,
        "7213fea8e94b4a5593d507237e5a555b",
        TransferState.PROCESSING,
    )
    sent = next(c for c in rec.calls if c.path == "/sapi/v1/capital/withdraw/apply").params
    assert (sent["withdrawOrderId"], sent["address"]) == (WD_ID, ADDRESS)
    history = {r.venue_transfer_id: r for r in await venue.withdrawal_status(Currency("BTC"), 0)}
    ours, other = (
        history["7213fea8e94b4a5593d507237e5a555b"],
        history["b6ae22b3aa844210a7041aee7589627c"],
    )
    assert (ours.transfer_id, ours.state, ours.amount) == (WD_ID, TransferState.PROCESSING, 0.5)
    assert (other.transfer_id, other.state) == (None, TransferState.COMPLETED)


async def test_withdrawal_id_the_venue_cannot_carry_is_not_sent(binance: Harness) -> None:
    """A transfer id with a '-' is not a withdrawOrderId we could match back: Rejected, unsent."""
    venue, rec = binance
    request = TransferRequest(
        TransferId("wd-1"), VENUE, TransferKind.WITHDRAWAL, Currency("BTC"), 0.5, ADDRESS
    )
    outcome = await venue.withdraw(request)
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("not sent") and "'wd-1'" in outcome.reason
    assert not any("withdraw" in c.path for c in rec.calls)


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


async def test_master_to_sub_transfer_sends_to_email_and_client_tran_id(binance: Harness) -> None:
    """POST sapi sub-account/universalTransfer from the master (no fromEmail) to the sub's
    email, USDT_FUTURE on both ends, clientTranId = our id; the echoing answer is COMPLETED."""
    venue, rec = binance
    rec.on(UNIVERSAL_TRANSFER, "sapi_sub_account_universal_transfer")
    report = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state, report.amount) == (
        WD_ID,
        "11945860693",
        TransferState.COMPLETED,
        250.5,
    )
    assert report.currency == "USDT"
    (call,) = rec.calls
    assert (call.method, call.path) == ("POST", "/sapi/v1/sub-account/universalTransfer")
    sent = {
        k: v for k, v in call.params.items() if k not in ("timestamp", "recvWindow", "signature")
    }
    assert sent == {
        "toEmail": "hedge1_virtual@deltabot.example",
        "fromAccountType": "USDT_FUTURE",
        "toAccountType": "USDT_FUTURE",
        "asset": "USDT",
        "amount": "250.5",
        "clientTranId": WD_ID,
    }


async def test_sub_to_sub_transfer_names_both_emails_and_the_wallet(binance: Harness) -> None:
    """From a sub-account label to another both emails go out, with the configured wallet."""
    venue, rec = binance
    rec.on(UNIVERSAL_TRANSFER, "sapi_sub_account_universal_transfer")
    subs = _subaccounts(venue, account="hedge2", wallet="COIN_FUTURE")
    assert isinstance(await subs.transfer_to_subaccount(_transfer()), TransferReport)
    sent = rec.calls[-1].params
    assert (sent["fromEmail"], sent["toEmail"], sent["fromAccountType"]) == (
        "hedge2_virtual@deltabot.example",
        "hedge1_virtual@deltabot.example",
        "COIN_FUTURE",
    )


async def test_sub_account_without_an_email_is_rejected_unsent(binance: Harness) -> None:
    """A source label missing from subaccounts is Rejected naming it; nothing is sent."""
    venue, rec = binance
    outcome = await _subaccounts(venue, account="hedge9").transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("not sent") and "'hedge9'" in outcome.reason
    assert rec.calls == []


async def test_insufficient_balance_on_transfer_is_rejected(binance: Harness) -> None:
    """Binance -5002 (insufficient balance) maps through ccxt to InsufficientFunds: Rejected."""
    venue, rec = binance
    rec.on(UNIVERSAL_TRANSFER, "error_insufficient_balance", status=400)
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("InsufficientFunds")


async def test_transfer_answer_naming_another_client_tran_id_is_ambiguous(
    binance: Harness,
) -> None:
    """An answer echoing a clientTranId we did not send cannot be trusted as ours: Ambiguous."""
    venue, rec = binance
    answer = load("binance", "sapi_sub_account_universal_transfer")
    answer["clientTranId"] = "someoneelse1"
    rec.on(UNIVERSAL_TRANSFER, answer)
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Ambiguous)
    assert "someoneelse1" in outcome.reason


async def test_duplicated_client_order_id_is_ambiguous_never_rejected(binance: Harness) -> None:
    """Binance -4116 (ClientOrderId is duplicated) means an order with our id exists:
    Ambiguous, to be looked up, never Rejected and sent again."""
    venue, rec = binance
    rec.on("POST /dapi/v1/order", "error_duplicate_client_id", status=400)
    cid = client_order_id("cycle-1", VENUE, PERP, 0)
    outcome = await venue.create_order(OrderRequest(cid, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Ambiguous)
    assert "look it up" in outcome.reason and "-4116" in outcome.reason


async def test_rate_limited_order_is_a_clean_reject(binance: Harness) -> None:
    """HTTP 429 -1003 on an order send is Rejected (Binance refuses a 4XX before matching),
    naming the code, where ccxt's DDoSProtection alone would be Ambiguous."""
    venue, rec = binance
    rec.on("POST /dapi/v1/order", "error_rate_limited", status=429)
    cid = client_order_id("cycle-1", VENUE, PERP, 1)
    outcome = await venue.create_order(OrderRequest(cid, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Rejected), outcome
    assert "-1003" in outcome.reason and "send again later" in outcome.reason


async def test_order_answered_503_unknown_stays_ambiguous(binance: Harness) -> None:
    """HTTP 503 "Unknown error" on an order send is Ambiguous: Binance says the execution
    status is unknown and could have been a success."""
    venue, rec = binance
    rec.on("POST /dapi/v1/order", "error_unknown_status", status=503)
    cid = client_order_id("cycle-1", VENUE, PERP, 2)
    outcome = await venue.create_order(OrderRequest(cid, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Ambiguous), outcome


@pytest.mark.parametrize(
    ("multi_assets", "btc_available", "btc_is_margin"),
    [
        (False, True, False),  # single-asset mode: BTC margins no USDT contract
        (False, False, False),
        (True, True, True),  # multi-assets mode: BTC is margin where Binance says it can be
        (True, False, False),
    ],
)
async def test_usd_m_asset_is_margin_only_where_binance_counts_it(
    binance: Harness, multi_assets: bool, btc_available: bool, btc_is_margin: bool
) -> None:
    """A USDⓈ-M BTC line is margin only in multi-assets mode and with marginAvailable true;
    USDT always is, and the BTC holding keeps its equity and availability either way."""
    venue, rec = binance
    account = load("binance", "fapi_account_btc")
    account["multiAssetsMargin"] = multi_assets
    account["assets"][1]["marginAvailable"] = btc_available
    rec.on("GET /fapi/v3/account", account)
    balances = {(b.account, b.currency): b for b in await venue.fetch_balances()}
    usdt, btc = balances["main/usd-m", "USDT"], balances["main/usd-m", "BTC"]
    assert usdt.margin
    assert btc.margin is btc_is_margin
    assert (btc.equity, btc.available) == (0.5, 0.5)


async def test_perpetual_funding_is_the_premium_index_rate_a_future_has_none(
    binance: Harness,
) -> None:
    """lastFundingRate 0.0001 is the USDⓈ-M and COIN-M perpetual's funding rate; the quarterly
    future's empty rate is no funding."""
    venue, _ = binance
    marks = await venue.fetch_marks([PERP, USDT_PERP, USDT_QUARTER])
    assert (marks[PERP].funding_rate, marks[USDT_PERP].funding_rate) == (0.0001, 0.0001)
    assert marks[USDT_QUARTER].funding_rate is None
