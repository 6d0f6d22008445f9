"""Deribit normaliser: real ccxt parsers on payloads shaped as Deribit's API v2 documents them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, InstrumentKind, OptionType, Settlement
from bot.domain.orders import (
    Accepted,
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

PERP = Symbol("BTC/USD:BTC")
CALL = Symbol("BTC/USD:BTC-261225-60000-C")
PUT = Symbol("BTC/USD:BTC-261225-60000-P")
VENUE = VenueId("deribit-a")
CID = client_order_id("cycle-1", VENUE, PERP, 0)


@pytest.fixture
async def deribit() -> AsyncIterator[Harness]:
    venue, rec, _clock = recorded_venue("deribit", VENUE)
    rec.on("GET /api/v2/public/get_instruments", "get_instruments")
    rec.on("GET /api/v2/public/get_currencies", "get_currencies")
    rec.on("GET /api/v2/private/get_positions", "get_positions")
    rec.on("GET /api/v2/private/get_account_summaries", "get_account_summaries")
    rec.on("GET /api/v2/public/get_book_summary_by_currency?currency=BTC", "book_summary_btc")
    rec.on("GET /api/v2/public/get_time", "get_time")
    yield venue, rec
    await venue.close()


async def test_instruments_carry_deribit_units(deribit: Harness) -> None:
    """Inverse perps count USD in 10 USD lots; options count coin and are priced in BTC."""
    venue, _ = deribit
    instruments = await venue.load_instruments()
    perp, call = instruments[PERP], instruments[CALL]
    assert (perp.kind, perp.settlement, perp.amount_unit) == (
        InstrumentKind.PERPETUAL,
        Settlement.INVERSE,
        AmountUnit.USD,
    )
    assert (perp.lot_size, perp.tick_size, perp.price_currency) == (10.0, 0.5, "USD")
    assert (call.amount_unit, call.price_currency, call.lot_size, call.tick_size) == (
        AmountUnit.COIN,
        "BTC",
        0.1,
        0.0005,
    )
    assert (call.strike_usd, call.option_type, call.expiry_ms) == (
        60000.0,
        OptionType.CALL,
        1798185600000,
    )
    linear = instruments[Symbol("BTC/USDC:USDC")]
    assert (linear.settlement, linear.amount_unit, linear.price_currency) == (
        Settlement.LINEAR,
        AmountUnit.COIN,
        "USDC",
    )
    assert not any("FS" in s for s in instruments), "combo books are not instruments"


async def test_positions_keep_sign_and_usd_size_matching_size_currency(deribit: Harness) -> None:
    """-30,000 USD of perp at 60,000 is -0.5 BTC, as size_currency says; flat is dropped."""
    venue, _ = deribit
    positions = {p.instrument.symbol: p for p in await venue.fetch_positions()}
    assert set(positions) == {PERP, CALL}
    perp = positions[PERP]
    assert perp.size == -30000.0
    assert position_coin(perp.instrument, perp.size, 60000.0) == pytest.approx(-0.5)
    raw = load("deribit", "get_positions")["result"][0]
    assert position_coin(perp.instrument, perp.size, raw["mark_price"]) == raw["size_currency"]
    assert (positions[CALL].size, positions[CALL].average_price) == (2.0, 0.065)


async def test_balances_carry_the_options_value_inside_equity(deribit: Harness) -> None:
    """Each summary's options_value (coin, as of the balance read) rides on its Balance."""
    venue, _ = deribit
    values = {b.currency: b.options_value for b in await venue.fetch_balances()}
    assert values["BTC"] == 0.13708


async def test_balances_read_initial_margin_that_ccxt_does_not_unify(deribit: Harness) -> None:
    """Equity, IM, MM and available come from the raw summary (ccxt's 'used' is only MM)."""
    venue, _ = deribit
    btc = next(b for b in await venue.fetch_balances() if b.currency == "BTC")
    assert (btc.equity, btc.available, btc.initial_margin, btc.maintenance_margin) == (
        2.5,
        1.9,
        0.6,
        0.45,
    )
    ccxt_balance = await venue.client.fetch_balance()
    assert ccxt_balance["BTC"]["used"] == 0.45


async def test_marks_turn_percent_iv_into_a_fraction(deribit: Harness) -> None:
    """mark_iv 60.0 (percent) becomes 0.60; option marks stay in BTC with the USD forward and
    carry their open interest."""
    venue, _ = deribit
    marks = await venue.fetch_marks([CALL, PUT, PERP])
    call = marks[CALL]
    assert (call.mark_price, call.mark_iv, call.underlying_usd) == (0.06854, 0.60, 60000.0)
    assert (call.bid, call.ask, call.venue_delta) == (0.068, 0.0695, None)
    assert call.open_interest == 812.3, "an option's open interest, in coin"
    assert marks[PUT].bid is None, "a null bid is no quote, not a zero price"
    assert marks[PERP].underlying_usd == marks[PERP].mark_price == 60000.0


async def test_snapshot_stamps_clock_and_index(deribit: Harness) -> None:
    """A snapshot holds the held positions' and the watched put's marks and Deribit's index
    per coin, stamped with the summaries' creation_timestamp, and the venue's clock from
    public/get_time."""
    venue, rec = deribit
    rec.on("GET /api/v2/public/ticker?instrument_name=BTC-25DEC26-60000-C", "ticker_call")
    snap = await venue.snapshot(watch=[PUT])
    assert snap.ts_ms == 1_767_225_600_000
    assert set(snap.marks) == {PERP, CALL, PUT}
    assert snap.index_usd == {Currency("BTC"): 59990.0}
    assert snap.index_ts_ms == {Currency("BTC"): 1_767_225_599_950}
    assert snap.marks[PERP].ts_ms == 1_767_225_599_950
    assert snap.clock is not None and (snap.clock.venue_ms, snap.clock.skew_ms) == (
        1_767_225_600_000,
        0,
    )
    assert rec.paths().count("/api/v2/public/get_book_summary_by_currency") == 1


async def test_held_option_mark_is_as_old_as_the_older_of_summary_and_ticker(
    deribit: Harness,
) -> None:
    """A held option's mark (summary at ...950, the put watched) with its delta from a ticker
    stamped 5 s earlier carries the ticker's time: a mark is as old as its oldest part."""
    venue, rec = deribit
    ticker = load("deribit", "ticker_call")
    ticker["result"]["timestamp"] = 1_767_225_594_950
    rec.on("GET /api/v2/public/ticker", ticker)
    snap = await venue.snapshot(watch=[PUT])
    assert snap.marks[CALL].ts_ms == 1_767_225_594_950
    assert snap.marks[PERP].ts_ms == 1_767_225_599_950


async def test_snapshot_takes_held_option_delta_from_its_ticker_only(deribit: Harness) -> None:
    """The held call's venue_delta is the ticker's Black-Scholes 0.5343 per BTC, from one
    public/ticker call; the perp gets none and no other option's ticker is read."""
    venue, rec = deribit
    rec.on("GET /api/v2/public/ticker?instrument_name=BTC-25DEC26-60000-C", "ticker_call")
    snap = await venue.snapshot(watch=[PUT])
    assert snap.marks[CALL].venue_delta == 0.5343
    assert snap.marks[CALL].mark_iv == 0.60, "the mark itself still comes from the summary"
    assert snap.marks[PUT].venue_delta is None, "watched, not held: no ticker"
    assert snap.marks[PERP].venue_delta is None
    tickers = [c.params for c in rec.calls if c.path == "/api/v2/public/ticker"]
    assert tickers == [{"instrument_name": "BTC-25DEC26-60000-C"}]


class TestSnapshotFromTickers:
    """Holding a perp and a call, a ticker each costs what the summary plus the call's
    ticker would: the snapshot reads the two tickers and not the chain."""

    @pytest.fixture
    def rec(self, deribit: Harness) -> Harness:
        venue, rec = deribit
        rec.on("GET /api/v2/public/ticker?instrument_name=BTC-25DEC26-60000-C", "ticker_call")
        rec.on("GET /api/v2/public/ticker?instrument_name=BTC-PERPETUAL", "ticker_perp")
        return venue, rec

    async def test_reads_one_ticker_per_held_instrument_and_no_summary(self, rec: Harness) -> None:
        """Two public/ticker calls, no get_book_summary_by_currency."""
        venue, recorder = rec
        await venue.snapshot()
        names = sorted(c.params["instrument_name"] for c in recorder.calls if "ticker" in c.path)
        assert names == ["BTC-25DEC26-60000-C", "BTC-PERPETUAL"]
        assert "/api/v2/public/get_book_summary_by_currency" not in recorder.paths()

    async def test_marks_carry_the_ticker_fields_and_the_call_delta(self, rec: Harness) -> None:
        """The call's mark, IV, forward, best levels and delta, the perp's stamp and funding and
        the index all come from the tickers' own names (timestamp, best_bid_price, greeks.delta)."""
        venue, _ = rec
        snap = await venue.snapshot()
        call, perp = snap.marks[CALL], snap.marks[PERP]
        assert (call.mark_price, call.mark_iv, call.underlying_usd) == (0.06854, 0.60, 60000.0)
        assert (call.bid, call.ask, call.venue_delta) == (0.068, 0.0695, 0.5343)
        assert (perp.ts_ms, perp.bid, perp.venue_delta) == (1_767_225_599_950, 60000.0, None)
        assert perp.funding_rate == 8.1e-06, "the perpetual's funding_8h, as from a summary"
        assert snap.index_usd == {Currency("BTC"): 59990.0}
        assert snap.index_ts_ms == {Currency("BTC"): call.ts_ms}, "the newest ticker's reading"

    async def test_a_ticker_for_another_instrument_is_refused(self, rec: Harness) -> None:
        """An answer naming another instrument stops the snapshot, naming both."""
        venue, recorder = rec
        recorder.on("GET /api/v2/public/ticker?instrument_name=BTC-PERPETUAL", "ticker_call")
        with pytest.raises(MalformedResponseError, match="BTC/USD:BTC: answer is for"):
            await venue.snapshot()


async def test_option_ticker_without_greeks_names_the_field(deribit: Harness) -> None:
    """A held option's ticker lacking greeks stops the snapshot instead of a silent None."""
    venue, rec = deribit
    broken = load("deribit", "ticker_call")
    del broken["result"]["greeks"]
    rec.on("GET /api/v2/public/ticker", broken)
    with pytest.raises(MalformedResponseError, match=r"BTC/USD:BTC-261225-60000-C\.greeks"):
        await venue.snapshot(watch=[PUT])


async def test_missing_mark_is_an_error_not_a_gap(deribit: Harness) -> None:
    """A requested instrument without a book summary raises naming it."""
    venue, rec = deribit
    rec.on("GET /api/v2/public/get_book_summary_by_currency", {"jsonrpc": "2.0", "result": []})
    with pytest.raises(MalformedResponseError, match="no mark for BTC/USD:BTC"):
        await venue.fetch_marks([PERP])


async def test_position_without_size_names_the_field(deribit: Harness) -> None:
    """A position payload lacking 'size' is refused with the field and instrument named."""
    venue, rec = deribit
    broken = load("deribit", "get_positions")
    del broken["result"][0]["size"]
    rec.on("GET /api/v2/private/get_positions", broken)
    with pytest.raises(MalformedResponseError, match=r"BTC/USD:BTC.*'size'"):
        await venue.fetch_positions()


async def test_ioc_order_sends_label_and_maps_fill(deribit: Harness) -> None:
    """An IOC buy of 15,500 USD carries the client id as label and returns its fill in BTC fees."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/buy", "buy_perp_filled")
    request = OrderRequest(CID, VENUE, PERP, Side.BUY, 15500.0, 62010.0)
    outcome = await venue.create_order(request)
    assert isinstance(outcome, Accepted)
    report, fill = outcome.report, outcome.fills[0]
    assert (report.state, report.filled_amount, report.average_price) == (
        OrderState.FILLED,
        15500.0,
        62000.0,
    )
    assert (report.client_id, fill.client_id) == (CID, CID)
    assert (fill.amount, fill.price, fill.fee, fill.fee_currency) == (
        15500.0,
        62000.0,
        0.000125,
        "BTC",
    )
    sent = rec.calls[-1].params
    assert (sent["label"], sent["time_in_force"], sent["amount"], sent["type"]) == (
        CID,
        "immediate_or_cancel",
        "15500",
        "limit",
    )


async def test_ioc_remainder_is_canceled_with_partial_fill(deribit: Harness) -> None:
    """Deribit's 'cancelled' IOC with 0.3 of 0.5 filled maps to CANCELED, filled 0.3 BTC."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/buy", "buy_option_partial_ioc")
    request = OrderRequest(ClientOrderId("opt-hedge-1"), VENUE, CALL, Side.BUY, 0.5, 0.0695)
    outcome = await venue.create_order(request)
    assert isinstance(outcome, Accepted)
    assert (outcome.report.state, outcome.report.filled_amount) == (OrderState.CANCELED, 0.3)


async def test_an_option_limit_in_implied_vol_is_sent_as_implv(deribit: Harness) -> None:
    """limit_iv 0.62 goes out as price 62 with advanced=implv (Deribit's IV order)."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/buy", "buy_option_partial_ioc")
    request = OrderRequest(
        ClientOrderId("opt-hedge-1"), VENUE, CALL, Side.BUY, 0.5, 0.0695, limit_iv=0.62
    )
    assert isinstance(await venue.create_order(request), Accepted)
    sent = rec.calls[-1].params
    assert (sent["advanced"], float(sent["price"])) == ("implv", 62.0)


async def test_not_enough_funds_is_rejected(deribit: Harness) -> None:
    """Deribit error 10009 goes through ccxt's error table to InsufficientFunds: Rejected."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/buy", "error_not_enough_funds", status=400)
    outcome = await venue.create_order(OrderRequest(CID, VENUE, PERP, Side.BUY, 15500.0))
    assert isinstance(outcome, Rejected)
    assert "InsufficientFunds" in outcome.reason


async def test_off_lot_amount_is_refused_before_sending(deribit: Harness) -> None:
    """15,505 USD is not a multiple of the 10 USD lot: Rejected and nothing sent."""
    venue, rec = deribit
    await venue.load_instruments()
    sent_before = len(rec.calls)
    outcome = await venue.create_order(OrderRequest(CID, VENUE, PERP, Side.BUY, 15505.0))
    assert isinstance(outcome, Rejected)
    assert "lot" in outcome.reason
    assert len(rec.calls) == sent_before


async def test_find_order_by_label_in_history(deribit: Harness) -> None:
    """Not open any more, the order is found in the history by its label."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/get_open_orders_by_instrument", "open_orders_empty")
    rec.on("GET /api/v2/private/get_order_history_by_instrument", "order_history_perp")
    rec.on("GET /api/v2/private/get_user_trades_by_instrument", "user_trades_perp")
    report = await venue.find_order(CID, PERP)
    assert report is not None
    assert (report.venue_order_id, report.state, report.filled_amount) == (
        "BTC-349249",
        OrderState.FILLED,
        15500.0,
    )
    assert await venue.find_order(ClientOrderId("db-other"), PERP) is None


async def test_subaccount_transfer_reports_completed(deribit: Harness) -> None:
    """A confirmed Deribit sub-account transfer is COMPLETED and keeps our transfer id."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/submit_transfer_to_subaccount", "submit_transfer_to_subaccount")
    request = TransferRequest(
        TransferId("tr-1"), VENUE, TransferKind.SUBACCOUNT, Currency("BTC"), 0.25, "7"
    )
    report = await venue.transfer_to_subaccount(request)
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.state, report.amount) == (
        "tr-1",
        TransferState.COMPLETED,
        0.25,
    )
    sent = rec.calls[-1].params
    assert sent["destination"] == "7"
    assert set(sent) == {"currency", "amount", "destination"}, "Deribit takes no client id"


async def test_withdrawal_reads_the_result_ccxt_skips(deribit: Harness) -> None:
    """ccxt parses the withdraw envelope, not its result: raw 'unconfirmed' is PROCESSING."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/withdraw", "withdraw")
    request = TransferRequest(
        TransferId("wd-1"), VENUE, TransferKind.WITHDRAWAL, Currency("BTC"), 0.5, "2NBqq"
    )
    report = await venue.withdraw(request)
    assert isinstance(report, TransferReport)
    assert (report.transfer_id, report.venue_transfer_id, report.state, report.fee) == (
        "wd-1",
        "4",
        TransferState.PROCESSING,
        0.0001,
    )


async def test_deposit_and_withdrawal_history_states(deribit: Harness) -> None:
    """A completed deposit is COMPLETED; an interrupted withdrawal is FAILED."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/get_deposits", "get_deposits")
    rec.on("GET /api/v2/private/get_withdrawals", "get_withdrawals")
    rec.on("GET /api/v2/private/get_current_deposit_address", "get_current_deposit_address")
    (deposit,) = await venue.deposit_status(Currency("BTC"), 0)
    assert (deposit.kind, deposit.state, deposit.amount) == (
        TransferKind.DEPOSIT,
        TransferState.COMPLETED,
        5.0,
    )
    (withdrawal,) = await venue.withdrawal_status(Currency("BTC"), 0)
    assert withdrawal.state is TransferState.FAILED
    address = await venue.deposit_address(Currency("BTC"))
    assert address.address == "2N8udZGBc1hLRCFsU9kGwMPpmYUwMFTuCwB"


async def test_cancel_reports_the_canceled_order(deribit: Harness) -> None:
    """private/cancel answers with the order: CANCELED, nothing filled, our label kept."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/cancel", "cancel")
    outcome = await venue.cancel_order("BTC-349300", PERP)
    assert isinstance(outcome, Accepted)
    assert (outcome.report.state, outcome.report.filled_amount, outcome.report.client_id) == (
        OrderState.CANCELED,
        0.0,
        "maker-1",
    )
    assert rec.calls[-1].params["order_id"] == "BTC-349300"


async def test_perpetual_mark_carries_its_8h_funding_rate(deribit: Harness) -> None:
    """The perpetual's book summary funding_8h (0.0000081) is its funding rate per 8 h; an
    option has none."""
    venue, _ = deribit
    marks = await venue.fetch_marks([CALL, PERP])
    assert (marks[PERP].funding_rate, marks[CALL].funding_rate) == (0.0000081, None)


async def test_delivery_prices_are_read_by_utc_day(deribit: Harness) -> None:
    """public/get_delivery_prices of btc_usd (Deribit's documented example) maps each day to
    its delivery price in USD."""
    venue, rec = deribit
    rec.on("GET /api/v2/public/get_delivery_prices?index_name=btc_usd", "get_delivery_prices")
    prices = await venue.fetch_delivery_prices(Currency("BTC"))
    assert prices == {"2020-01-02": 7131.214606410254, "2019-12-21": 7150.943217777777}


async def test_a_delivery_day_that_is_not_a_date_is_named(deribit: Harness) -> None:
    """A row whose date is not YYYY-MM-DD is a malformed answer naming the value."""
    venue, rec = deribit
    rec.on(
        "GET /api/v2/public/get_delivery_prices?index_name=btc_usd",
        {"jsonrpc": "2.0", "result": {"data": [{"date": "2/1/20", "delivery_price": 1.0}]}},
    )
    with pytest.raises(MalformedResponseError, match="'2/1/20' is not YYYY-MM-DD"):
        await venue.fetch_delivery_prices(Currency("BTC"))
