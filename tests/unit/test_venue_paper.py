"""Paper venue: local fills at the touch, fees, P&L in settlement currency, no credentials."""

from __future__ import annotations

from typing import Any

import pytest

from bot.clock import ManualClock
from bot.domain.ids import ClientOrderId, Currency, Symbol
from bot.domain.margin.account import CurrencyMargin
from bot.domain.orders import (
    Accepted,
    OrderRequest,
    OrderState,
    Rejected,
    Side,
    TimeInForce,
    TransferId,
    TransferKind,
    TransferReport,
    TransferRequest,
)
from bot.domain.snapshot import Mark, VenueSnapshot
from bot.venues.paper import PaperVenue, value_in_settle
from tests.contract.paper_fake import BTC, CALL, PERP, START_MS, VENUE, FakeMarketData, instruments


def paper(fee_rate: float = 0.0005) -> tuple[PaperVenue, FakeMarketData, ManualClock]:
    data, clock = FakeMarketData(), ManualClock(START_MS)
    venue = PaperVenue(
        VENUE, data, starting_cash={BTC: 1.0}, clock_ms=clock.now_ms, taker_fee_rate=fee_rate
    )
    return venue, data, clock


def shadow_venue(data: FakeMarketData, **extra: Any) -> PaperVenue:
    """A paper venue with 1 BTC of cash and a declared short of 2 calls (a shadow book)."""
    return PaperVenue(
        VENUE,
        data,
        starting_cash={BTC: 1.0},
        clock_ms=ManualClock(START_MS).now_ms,
        starting_positions={CALL: -2.0},
        **extra,
    )


def order(
    cid: str, symbol: Symbol, side: Side, amount: float, limit: float | None = None
) -> OrderRequest:
    return OrderRequest(ClientOrderId(cid), VENUE, symbol, side, amount, limit)


def test_inverse_value_change_is_the_coin_pnl() -> None:
    """Short 30,000 USD from 60,000 to 50,000 earns 30,000 x (1/50,000 - 1/60,000) = 0.1 BTC."""
    inst = instruments()[PERP]
    pnl = value_in_settle(inst, -30000.0, 50000.0) - value_in_settle(inst, -30000.0, 60000.0)
    assert pnl == pytest.approx(0.1)


async def test_buy_fills_at_the_ask_with_fee_in_coin() -> None:
    """An IOC buy of 30,000 USD fills at the 60,000 ask; fee 0.05% of 0.5 BTC = 0.00025 BTC."""
    venue, _, _ = paper()
    outcome = await venue.create_order(order("c1", PERP, Side.BUY, 30000.0))
    assert isinstance(outcome, Accepted)
    (fill,) = outcome.fills
    assert (fill.price, fill.amount, fill.fee_currency) == (60000.0, 30000.0, BTC)
    assert fill.fee == pytest.approx(0.00025)
    assert (outcome.report.state, outcome.report.filled_amount) == (OrderState.FILLED, 30000.0)
    (position,) = await venue.fetch_positions()
    assert position.size == 30000.0


async def test_equity_tracks_pnl_at_mark_after_a_short() -> None:
    """Short 30,000 USD at the 59,999.5 bid, mark falls to 50,000: equity gains about 0.1 BTC."""
    venue, data, _ = paper(fee_rate=0.0)
    await venue.create_order(order("c1", PERP, Side.SELL, 30000.0))
    data.marks[PERP] = Mark(PERP, 50000.0, 50000.0, START_MS, bid=49999.5, ask=50000.0)
    (btc,) = await venue.fetch_balances()
    expected = 1.0 + 30000.0 / 50000.0 - 30000.0 / 59999.5
    assert btc.equity == pytest.approx(expected)
    assert (btc.initial_margin, btc.maintenance_margin) == (0.0, 0.0)


async def test_option_premium_is_paid_in_coin_and_revalued_at_mark() -> None:
    """Buying 1 BTC of call at 0.0695 BTC and marking at 0.06854 loses 0.00096 BTC plus fee."""
    venue, _, _ = paper(fee_rate=0.0)
    await venue.create_order(order("c1", CALL, Side.BUY, 1.0, 0.07))
    balances = await venue.fetch_balances()
    assert balances[0].equity == pytest.approx(1.0 - 0.0695 + 0.06854)


async def test_limit_that_does_not_cross_cancels_with_no_fill() -> None:
    """A buy limited below the ask is an IOC that filled nothing: CANCELED, no position."""
    venue, _, _ = paper()
    outcome = await venue.create_order(order("c1", PERP, Side.BUY, 100.0, 59000.0))
    assert isinstance(outcome, Accepted)
    assert (outcome.report.state, outcome.report.filled_amount, outcome.fills) == (
        OrderState.CANCELED,
        0.0,
        (),
    )
    assert await venue.fetch_positions() == ()


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (order("c1", Symbol("ETH/USD:ETH"), Side.BUY, 10.0), "unknown instrument"),
        (order("c1", PERP, Side.BUY, 15.0), "whole number of 10.0 usd lots"),
        (
            OrderRequest(ClientOrderId("c1"), VENUE, PERP, Side.BUY, 10.0, 1.0, TimeInForce.GTC),
            "IOC and FOK orders only",
        ),
    ],
)
async def test_unfillable_requests_are_rejected(request_: OrderRequest, message: str) -> None:
    """Unknown symbols, off-lot amounts and GTC orders are refused with the reason."""
    venue, _, _ = paper()
    outcome = await venue.create_order(request_)
    assert isinstance(outcome, Rejected)
    assert message in outcome.reason


async def test_a_quote_timeout_fills_nothing() -> None:
    """If the quote cannot be read nothing was filled: Rejected, and the book stays flat."""
    venue, data, _ = paper()
    data.fail = TimeoutError("public ticker")
    outcome = await venue.create_order(order("c1", PERP, Side.BUY, 100.0))
    assert isinstance(outcome, Rejected)
    assert "no quote" in outcome.reason
    assert await venue.fetch_positions() == ()


async def test_missing_side_of_the_book_is_rejected() -> None:
    """Without a bid there is nothing to sell into."""
    venue, data, _ = paper()
    data.marks[CALL] = Mark(CALL, 0.06854, 60000.0, START_MS, 0.6, bid=None, ask=0.0695)
    outcome = await venue.create_order(order("c1", CALL, Side.SELL, 0.1))
    assert isinstance(outcome, Rejected)
    assert "no bid" in outcome.reason


async def test_orders_and_fills_are_found_by_client_id_and_time() -> None:
    """find_order returns the journaled report; fetch_fills filters by time and symbol."""
    venue, _, clock = paper()
    await venue.create_order(order("c1", PERP, Side.BUY, 100.0))
    clock.advance(1000)
    await venue.create_order(order("c2", CALL, Side.BUY, 0.1))
    report = await venue.find_order(ClientOrderId("c1"), PERP)
    assert report is not None and report.filled_amount == 100.0
    assert await venue.find_order(ClientOrderId("c1"), CALL) is None
    fills = await venue.fetch_fills(START_MS + 1, [PERP, CALL])
    assert [f.client_id for f in fills] == ["c2"]
    assert isinstance(await venue.create_order(order("c1", PERP, Side.BUY, 10.0)), Rejected)


async def test_transfers_move_cash_out_or_are_rejected() -> None:
    """Moving 0.4 BTC out leaves 0.6; moving more than the cash is refused."""
    venue, _, _ = paper()
    out = TransferRequest(TransferId("t1"), VENUE, TransferKind.SUBACCOUNT, BTC, 0.4, "sub")
    assert isinstance(await venue.transfer_to_subaccount(out), TransferReport)
    (btc,) = await venue.fetch_balances()
    assert btc.equity == pytest.approx(0.6)
    too_much = TransferRequest(TransferId("t2"), VENUE, TransferKind.WITHDRAWAL, BTC, 5.0, "addr")
    assert isinstance(await venue.withdraw(too_much), Rejected)


async def test_snapshot_holds_positions_balances_and_watched_marks() -> None:
    """A snapshot carries held positions, their marks, watched marks, the read time and
    the market data's clock."""
    venue, data, _ = paper()
    await venue.create_order(order("c1", CALL, Side.BUY, 0.5))
    snapshot = await venue.snapshot(watch=[PERP])
    assert set(snapshot.marks) == {CALL, PERP}
    assert [p.instrument.symbol for p in snapshot.positions] == [CALL]
    assert snapshot.ts_ms == START_MS
    assert snapshot.clock is not None and snapshot.clock.venue_ms == START_MS
    await venue.close()
    assert data.closed


class TestShadowBook:
    def shadow(self) -> tuple[PaperVenue, FakeMarketData]:
        data = FakeMarketData()
        return shadow_venue(data), data

    async def test_the_declared_book_is_held_from_the_first_read(self) -> None:
        """A declared short call shows as a position; equity starts at the cash."""
        venue, _ = self.shadow()
        (position,) = await venue.fetch_positions()
        (btc,) = await venue.fetch_balances()
        assert (position.instrument.symbol, position.size, btc.equity) == (CALL, -2.0, 1.0)

    async def test_it_is_marked_from_the_public_data(self) -> None:
        """The call's mark rising by 0.01 BTC costs the short 2 calls 0.02 BTC of equity."""
        venue, data = self.shadow()
        await venue.fetch_positions()
        old = data.marks[CALL]
        data.marks[CALL] = Mark(CALL, old.mark_price + 0.01, old.underlying_usd, START_MS)
        (btc,) = await venue.fetch_balances()
        assert btc.equity == pytest.approx(1.0 - 0.02)

    async def test_an_unlisted_declared_symbol_is_named(self) -> None:
        """A [[paper.book]] symbol the venue does not list is an error naming it."""
        data, clock = FakeMarketData(), ManualClock(START_MS)
        venue = PaperVenue(
            VENUE,
            data,
            starting_cash={},
            clock_ms=clock.now_ms,
            starting_positions={Symbol("BTC/USD:BTC-NOPE"): 1.0},
        )
        with pytest.raises(ValueError, match="not listed there: BTC/USD:BTC-NOPE"):
            await venue.fetch_positions()


class TestRestart:
    async def test_a_restored_book_is_held_again_not_the_declared_one(self) -> None:
        """After a restart the saved book (cash, sizes, cost bases) is held, not re-taken."""
        from bot.domain.paper_book import PaperBook

        saved: list[PaperBook] = []
        data = FakeMarketData()
        first = shadow_venue(data, on_change=saved.append)
        await first.create_order(order("c1", PERP, Side.BUY, 30000.0))
        old = data.marks[CALL]
        data.marks[CALL] = Mark(CALL, old.mark_price + 0.01, old.underlying_usd, START_MS)
        again = shadow_venue(data, restored=saved[-1])
        assert {p.instrument.symbol: p.size for p in await again.fetch_positions()} == {
            CALL: -2.0,
            PERP: 30000.0,
        }
        assert (await again.fetch_balances())[0].equity == pytest.approx(
            (await first.fetch_balances())[0].equity
        )


class TestPaperMargin:
    async def test_declared_short_calls_report_the_model_margin(self) -> None:
        """With a margin model, the BTC balance reports its IM and MM of the held book at the
        read's marks, and available is equity less IM."""
        seen: list[tuple[float, ...]] = []

        def margin(read: VenueSnapshot) -> dict[Currency, CurrencyMargin]:
            seen.append(tuple(p.size for p in read.positions))
            return {BTC: CurrencyMargin(0.3, 0.2)}

        venue = shadow_venue(FakeMarketData(), margin=margin)
        (btc,) = (await venue.snapshot()).balances
        assert (btc.initial_margin, btc.maintenance_margin) == (0.3, 0.2)
        assert btc.available == pytest.approx(btc.equity - 0.3)
        assert seen == [(-2.0,)]

    async def test_cash_only_asks_the_model_nothing(self) -> None:
        """Holding no position, the model is not asked and margin is 0."""

        def margin(read: VenueSnapshot) -> dict[Currency, CurrencyMargin]:
            raise AssertionError("asked without positions")

        data, clock = FakeMarketData(), ManualClock(START_MS)
        venue = PaperVenue(
            VENUE, data, starting_cash={BTC: 1.0}, clock_ms=clock.now_ms, margin=margin
        )
        (btc,) = await venue.fetch_balances()
        assert (btc.equity, btc.initial_margin, btc.maintenance_margin) == (1.0, 0.0, 0.0)
