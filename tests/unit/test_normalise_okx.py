"""OKX normaliser: real ccxt parsers on payloads shaped as the OKX v5 API documents them."""

from __future__ import annotations

from collections.abc import AsyncIterator

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

PERP = Symbol("BTC/USD:BTC")
LINEAR = Symbol("BTC/USDT:USDT")
CALL = Symbol("BTC/USD:BTC-261225-60000-C")
VENUE = VenueId("okx-a")
CID = client_order_id("cycle-1", VENUE, PERP, 0)
TID = TransferId("db0123456789abcdef0123456789abcd")
ADDRESS = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"


@pytest.fixture
async def okx() -> AsyncIterator[Harness]:
    venue, rec, _clock = recorded_venue("okx", VENUE)
    rec.on("GET /api/v5/public/instruments?instType=SWAP", "instruments_swap")
    rec.on("GET /api/v5/public/instruments?instType=FUTURES", "instruments_futures")
    rec.on("GET /api/v5/public/instruments?instType=OPTION", "instruments_empty")
    rec.on("GET /api/v5/public/instruments?instType=OPTION&uly=BTC-USD", "instruments_option_btc")
    rec.on("GET /api/v5/account/positions", "positions")
    rec.on("GET /api/v5/account/balance", "balance")
    rec.on("GET /api/v5/public/opt-summary?uly=BTC-USD", "opt_summary_btc")
    rec.on("GET /api/v5/public/mark-price?instType=OPTION&uly=BTC-USD", "mark_price_option_btc")
    rec.on("GET /api/v5/public/mark-price?instType=SWAP", "mark_price_swap")
    rec.on("GET /api/v5/market/tickers?instType=OPTION&uly=BTC-USD", "tickers_option_btc")
    rec.on("GET /api/v5/market/tickers?instType=SWAP", "tickers_swap")
    yield venue, rec
    await venue.close()


async def test_contract_values_become_domain_lots(okx: Harness) -> None:
    """BTC-USD-SWAP lots are 100 USD (ctVal), options 0.01 BTC (ctVal x ctMult)."""
    venue, _ = okx
    instruments = await venue.load_instruments()
    perp, call, linear = instruments[PERP], instruments[CALL], instruments[LINEAR]
    assert (perp.amount_unit, perp.lot_size, perp.settlement) == (
        AmountUnit.USD,
        100.0,
        Settlement.INVERSE,
    )
    assert (call.amount_unit, call.lot_size, call.price_currency) == (AmountUnit.COIN, 0.01, "BTC")
    assert (linear.amount_unit, linear.lot_size) == (AmountUnit.COIN, pytest.approx(0.0001))
    ccxt_call = venue.client.market(CALL)
    assert ccxt_call["contractSize"] == 1.0, "ccxt's contractSize ignores ctMult"


async def test_positions_count_contracts_times_contract_value(okx: Harness) -> None:
    """pos -300 BTC-USD-SWAP is -30,000 USD (-0.5 BTC at 60,000); 200 options are 2 BTC."""
    venue, _ = okx
    positions = {p.instrument.symbol: p for p in await venue.fetch_positions()}
    perp = positions[PERP]
    assert perp.size == -30000.0
    assert position_coin(perp.instrument, perp.size, 60000.0) == pytest.approx(-0.5)
    assert positions[CALL].size == pytest.approx(2.0)


async def test_hedge_mode_short_position_is_negative(okx: Harness) -> None:
    """In long/short mode OKX sends a positive pos with posSide short: the size is negative."""
    venue, rec = okx
    payload = load("okx", "positions")
    payload["data"] = [payload["data"][0] | {"pos": "300", "posSide": "short"}]
    rec.on("GET /api/v5/account/positions", payload)
    (perp,) = await venue.fetch_positions()
    assert perp.size == -30000.0


async def test_balances_per_currency_with_empty_margin_as_zero(okx: Harness) -> None:
    """eq/availEq/imr/mmr per currency; OKX's empty imr for a currency without positions is 0."""
    venue, _ = okx
    balances = {b.currency: b for b in await venue.fetch_balances()}
    btc, usdt = balances["BTC"], balances["USDT"]
    assert (btc.equity, btc.available, btc.initial_margin, btc.maintenance_margin) == (
        2.5,
        1.9,
        0.6,
        0.45,
    )
    assert (usdt.equity, usdt.initial_margin) == (1000.0, 0.0)


async def test_option_mark_takes_black_scholes_delta_not_price_adjusted(okx: Harness) -> None:
    """venue_delta is deltaBS 0.5343; ccxt's delta is price-adjusted: 0.4657 = BS - mark."""
    venue, _ = okx
    mark = (await venue.fetch_marks([CALL]))[CALL]
    assert (mark.mark_price, mark.mark_iv, mark.underlying_usd, mark.venue_delta) == (
        0.06854,
        0.6,
        60000.0,
        0.5343,
    )
    assert (mark.bid, mark.ask) == (0.068, 0.0695)
    greeks = await venue.client.fetch_all_greeks(None, {"uly": "BTC-USD"})
    unified_delta = greeks[CALL]["delta"]
    assert unified_delta == 0.4657
    assert mark.venue_delta - mark.mark_price == pytest.approx(unified_delta, abs=1e-4)


async def test_ctvalccy_mismatch_sets_the_listing_aside(okx: Harness) -> None:
    """An inverse swap whose contract value is not in USD cannot be sized: it is set aside,
    the rest loads, and a position in it fails with the reason."""
    venue, rec = okx
    bad = load("okx", "instruments_swap")
    bad["data"][0]["ctValCcy"] = "BTC"
    rec.on("GET /api/v5/public/instruments?instType=SWAP", bad)
    instruments = await venue.load_instruments()
    assert PERP not in instruments and CALL in instruments
    assert "ctValCcy" in venue.unreadable[PERP]
    with pytest.raises(MalformedResponseError, match=r"BTC/USD:BTC is unreadable: .*ctValCcy"):
        await venue.fetch_positions()


async def test_order_converts_usd_to_contracts_and_settles_the_ack(okx: Harness) -> None:
    """15,500 USD is sent as sz 155 contracts with clOrdId; the bare ack is followed by one read."""
    venue, rec = okx
    rec.on("POST /api/v5/trade/order", "order_ack")
    rec.on("GET /api/v5/trade/order", "order_filled")
    outcome = await venue.create_order(OrderRequest(CID, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Accepted)
    report = outcome.report
    assert (report.state, report.filled_amount, report.average_price, report.client_id) == (
        OrderState.FILLED,
        15500.0,
        62000.0,
        CID,
    )
    sent = next(c for c in rec.calls if c.method == "POST").params
    assert (sent["sz"], sent["clOrdId"], sent["ordType"], sent["px"]) == (
        "155",
        CID,
        "ioc",
        "62010",
    )


async def test_insufficient_balance_scode_is_rejected(okx: Harness) -> None:
    """OKX sCode 51008 inside a code-1 answer maps to InsufficientFunds: Rejected."""
    venue, rec = okx
    rec.on("POST /api/v5/trade/order", "order_insufficient")
    outcome = await venue.create_order(OrderRequest(CID, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("InsufficientFunds")


def _subaccounts(venue: CcxtVenue, account: str = "main", wallet: str | None = None) -> CcxtVenue:
    """The recorded venue's client as the account ``account``, with OKX sub-account names."""
    return CcxtVenue(
        venue.venue_id,
        venue.client,
        venue.normaliser,
        account=account,
        budget=venue.budget,
        clock_ms=lambda: START_MS,
        subaccounts={"hedge1": "deltabothedge1", "hedge2": "deltabothedge2"},
        subaccount_wallet=wallet,
    )


def _transfer(destination: str = "hedge1") -> TransferRequest:
    return TransferRequest(TID, VENUE, TransferKind.SUBACCOUNT, Currency("BTC"), 0.25, destination)


async def test_master_to_sub_transfer_is_type_1_with_the_sub_account_name(okx: Harness) -> None:
    """From main: POST asset/transfer type 1, subAcct = the configured name, trading (18) on
    both ends, clientId = our id; the answer has no state, so the echoed transfer is PROCESSING."""
    venue, rec = okx
    rec.on("POST /api/v5/asset/transfer", "transfer")
    report = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state, report.amount) == (
        TID,
        "754147",
        TransferState.PROCESSING,
        0.25,
    )
    (call,) = rec.calls
    assert (call.method, call.path) == ("POST", "/api/v5/asset/transfer")
    assert call.params == {
        "type": "1",
        "subAcct": "deltabothedge1",
        "from": "18",
        "to": "18",
        "ccy": "BTC",
        "amt": "0.25",
        "clientId": TID,
    }


async def test_sub_account_key_sends_type_3_to_main_and_type_4_to_another_sub(
    okx: Harness,
) -> None:
    """A sub-account's own key sends type 3 to the master (no subAcct) and type 4 naming the
    destination sub-account; the configured wallet (6, funding) is used on both ends."""
    venue, rec = okx
    rec.on("POST /api/v5/asset/transfer", "transfer")
    sub = _subaccounts(venue, account="hedge2", wallet="6")
    assert isinstance(await sub.transfer_to_subaccount(_transfer("main")), TransferReport)
    assert isinstance(await sub.transfer_to_subaccount(_transfer("hedge1")), TransferReport)
    to_main, to_sub = (c.params for c in rec.calls)
    assert (to_main["type"], "subAcct" in to_main, to_main["from"], to_main["to"]) == (
        "3",
        False,
        "6",
        "6",
    )
    assert (to_sub["type"], to_sub["subAcct"], to_sub["clientId"]) == ("4", "deltabothedge1", TID)


async def test_sub_account_without_a_name_is_rejected_unsent(okx: Harness) -> None:
    """A destination label missing from subaccounts is Rejected naming it; nothing is sent."""
    venue, rec = okx
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer("hedge9"))
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("not sent") and "'hedge9'" in outcome.reason
    assert rec.calls == []


async def test_transfer_to_the_sending_account_itself_is_rejected_unsent(okx: Harness) -> None:
    """main to main is no sub-account transfer: Rejected before any request."""
    venue, rec = okx
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer("main"))
    assert isinstance(outcome, Rejected) and outcome.reason.startswith("not sent")
    assert rec.calls == []


async def test_insufficient_balance_on_transfer_is_rejected(okx: Harness) -> None:
    """OKX code 58350 (insufficient balance) maps through ccxt to InsufficientFunds: Rejected."""
    venue, rec = okx
    rec.on("POST /api/v5/asset/transfer", "transfer_insufficient")
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith("InsufficientFunds")


async def test_transfer_answer_naming_another_client_id_is_ambiguous(okx: Harness) -> None:
    """An answer echoing a clientId we did not send cannot be trusted as ours: Ambiguous."""
    venue, rec = okx
    answer = load("okx", "transfer")
    answer["data"][0]["clientId"] = "someoneelse1"
    rec.on("POST /api/v5/asset/transfer", answer)
    outcome = await _subaccounts(venue).transfer_to_subaccount(_transfer())
    assert isinstance(outcome, Ambiguous)
    assert "someoneelse1" in outcome.reason


async def test_withdrawal_sends_client_id_and_history_maps_it_back(okx: Harness) -> None:
    """POST asset/withdrawal carries clientId; withdrawal-history lines echoing it report our
    transfer id, a line with an empty clientId reports none."""
    venue, rec = okx
    rec.on("POST /api/v5/asset/withdrawal", "withdrawal")
    rec.on("GET /api/v5/asset/withdrawal-history", "withdrawal_history")
    request = TransferRequest(TID, VENUE, TransferKind.WITHDRAWAL, Currency("BTC"), 0.5, ADDRESS)
    report = await venue.withdraw(request)
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state) == (
        TID,
        "67485",
        TransferState.PROCESSING,
    )
    sent = next(c for c in rec.calls if c.path == "/api/v5/asset/withdrawal").params
    assert (sent["clientId"], sent["toAddr"], sent["amt"]) == (TID, ADDRESS, "0.5")
    history = {r.venue_transfer_id: r for r in await venue.withdrawal_status(Currency("BTC"), 0)}
    assert (history["67485"].transfer_id, history["67485"].state) == (
        TID,
        TransferState.PROCESSING,
    )
    assert (history["67320"].transfer_id, history["67320"].state) == (
        None,
        TransferState.COMPLETED,
    )


async def test_duplicated_client_id_is_ambiguous_never_rejected(okx: Harness) -> None:
    """OKX sCode 51016 (duplicated clOrdId; ccxt says InvalidOrder) means an order with our id
    exists: Ambiguous, to be looked up, never Rejected and sent again."""
    venue, rec = okx
    rec.on("POST /api/v5/trade/order", "order_duplicate")
    outcome = await venue.create_order(OrderRequest(CID, VENUE, PERP, Side.BUY, 15500.0, 62010.0))
    assert isinstance(outcome, Ambiguous)
    assert "look it up" in outcome.reason and "51016" in outcome.reason
