"""The Binance USDⓈ-M emulator through unmodified ccxt ``binanceusdm``: refusals, clock
skew, a lost answer, funding, the request-weight limit, the fault knobs, post-only, tiered
margin and liquidation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import aiohttp
import ccxt.async_support as ccxt
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.clock import Clock, ManualClock, SystemClock
from bot.config import Mode, VenueConfig
from bot.config.risk import RiskConfig
from bot.domain.freshness import skew_problem
from bot.domain.ids import ClientOrderId, Symbol, VenueId
from bot.domain.margin.linear import tiered_margin
from bot.domain.orders import (
    Accepted,
    Ambiguous,
    OrderRequest,
    OrderState,
    Rejected,
    SendOutcome,
    Side,
    TimeInForce,
    client_order_id,
)
from bot.secrets import VenueCredentials
from bot.sim.accounts import BINANCE_TIERS
from bot.sim.binance_api import BinanceApi, build_binance_app
from bot.sim.binance_auth import sign
from bot.sim.binance_errors import NEW_ORDER_REJECTED, UNKNOWN
from bot.sim.binance_limits import Limits
from bot.sim.dialect import Dialect
from bot.sim.exchange import SimExchange
from bot.sim.faults import FaultAction, Faults
from bot.sim.market import MarketModel
from bot.sim.server import run_emulator
from bot.sim.spec import AccountSpec, ExchangeSpec, PositionSpec, default_main_account
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.factory import Runtime, SimEndpoint, build_venue

START_MS = 1_736_150_400_000  # 2025-01-06T08:00:00Z
PERP = Symbol("BTC/USDT:USDT")
ORDER = "POST /fapi/v1/order"
MAIN = default_main_account(Dialect.BINANCE_USDM)


@dataclass
class World:
    venue: CcxtVenue
    exchange: SimExchange
    faults: Faults
    clock: ManualClock


def _exchange(clock: Clock, account: AccountSpec = MAIN) -> SimExchange:
    spec = ExchangeSpec.default(
        "sim-b", START_MS, accounts=(account,), dialect=Dialect.BINANCE_USDM
    )
    market = MarketModel.default(START_MS, seed=3, underlyings=spec.underlyings)
    return SimExchange(market, clock, spec)


@asynccontextmanager
async def _world(
    auth_clock: Clock | None = None, account: AccountSpec = MAIN, *, venue_ahead_ms: int = 0
) -> AsyncIterator[World]:
    """The emulator and a venue on it; ``venue_ahead_ms`` sets its clock ahead of ours."""
    clock = ManualClock(START_MS)
    exchange = _exchange(clock, account)
    async with run_emulator(exchange, auth_clock=auth_clock) as emulator:
        keys = VenueCredentials(SecretStr(MAIN.client_id), SecretStr(MAIN.client_secret))
        settings = VenueConfig.model_validate(
            {"name": "sim-b", "exchange": "binanceusdm", "role": ["hedge"]}
        )
        venue = build_venue(
            settings, Mode.SIM, {}, Runtime(clock_ms=lambda: clock.now_ms() - venue_ahead_ms),
            sim=SimEndpoint(emulator.base_url, keys),
        )  # fmt: skip
        assert isinstance(venue, CcxtVenue)
        venue.client.timeout = 400
        try:
            yield World(venue, exchange, emulator.faults, clock)
        finally:
            await venue.close()


def _cid(seq: int) -> ClientOrderId:
    return client_order_id("binance-test", VenueId("sim-b"), PERP, seq)


def _buy(venue: CcxtVenue, seq: int, amount: float, *, reduce_only: bool = False) -> OrderRequest:
    return OrderRequest(_cid(seq), venue.venue_id, PERP, Side.BUY, amount, reduce_only=reduce_only)


class TestRefusals:
    async def test_min_notional_is_rejected_with_the_venue_reason(self) -> None:
        """An order below BTCUSDT's 100 USDT notional is Rejected naming Binance's -4164."""
        async with _world() as w:
            outcome = await w.venue.create_order(_buy(w.venue, 0, 0.001))
            assert isinstance(outcome, Rejected), outcome
            assert "-4164" in outcome.reason and "notional" in outcome.reason
            assert w.exchange.order_log() == []

    async def test_reduce_only_without_a_position_is_rejected(self) -> None:
        """A reduce-only order with nothing to reduce is Rejected with -2022."""
        async with _world() as w:
            outcome = await w.venue.create_order(_buy(w.venue, 1, 0.01, reduce_only=True))
            assert isinstance(outcome, Rejected), outcome
            assert "-2022" in outcome.reason

    async def test_margin_refusal_is_rejected(self) -> None:
        """An order the USDT balance cannot margin is Rejected with -2019, nothing on the book."""
        async with _world() as w:
            big = OrderRequest(_cid(2), w.venue.venue_id, PERP, Side.BUY, 900.0, 50_000.0,
                               TimeInForce.GTC)  # fmt: skip
            outcome = await w.venue.create_order(big)
            assert isinstance(outcome, Rejected), outcome
            assert "-2019" in outcome.reason
            assert await w.venue.fetch_positions() == ()


async def test_clock_skew_is_refused_as_1021() -> None:
    """A client clock 30 s behind the venue's (ccxt sends recvWindow 10 s) is refused with -1021
    before anything trades."""

    class Ahead(SystemClock):
        def now_ms(self) -> int:
            return super().now_ms() + 30_000

    async with _world(auth_clock=Ahead()) as w:
        outcome = await w.venue.create_order(_buy(w.venue, 3, 0.01))
        assert isinstance(outcome, Rejected), outcome
        assert "-1021" in outcome.reason and "recvWindow" in outcome.reason
        assert w.exchange.order_log() == []


async def test_clock_skew_is_detected_by_server_time_and_the_1021_reported() -> None:
    """A venue 30 s ahead of us: its serverTime shows the skew beyond the default limit (the
    reader's alarm), and an order signed on our clock is Rejected naming -1021."""

    class Ahead(SystemClock):
        def now_ms(self) -> int:
            return super().now_ms() + 30_000

    async with _world(auth_clock=Ahead(), venue_ahead_ms=30_000) as w:
        clock = await w.venue.read_clock()
        outcome = await w.venue.create_order(_buy(w.venue, 16, 0.01))
    assert clock.skew_ms == 30_000
    problem = skew_problem(w.venue.venue_id, clock, RiskConfig().max_clock_skew_ms)
    assert problem is not None and problem.startswith("clock skew: sim-b is 30 s ahead of ours")
    assert isinstance(outcome, Rejected) and "-1021" in outcome.reason, outcome


async def test_lost_answer_is_found_by_orig_client_order_id_and_never_resent() -> None:
    """A fill whose answer is lost is Ambiguous, then found FILLED by origClientOrderId; the
    venue saw one order."""
    async with _world() as w:
        w.faults.drop(FaultAction.FILL_THEN_DROP, method=ORDER)
        outcome = await w.venue.create_order(_buy(w.venue, 4, 0.01))
        assert isinstance(outcome, Ambiguous), outcome
        found = await w.venue.find_order(_cid(4), PERP)
        assert found is not None and found.state is OrderState.FILLED
        assert found.filled_amount == pytest.approx(0.01)
        assert len(w.exchange.order_log()) == 1


async def test_filled_answer_carries_its_usdt_fills() -> None:
    """A filled IOC comes back with its trades (read by orderId), fees in USDT."""
    async with _world() as w:
        outcome = await w.venue.create_order(_buy(w.venue, 5, 0.02))
        assert isinstance(outcome, Accepted), outcome
        assert sum(f.amount for f in outcome.fills) == pytest.approx(0.02)
        assert {(f.fee_currency, f.client_id) for f in outcome.fills} == {("USDT", _cid(5))}


async def test_funding_is_settled_every_8_hours_and_reported_as_income() -> None:
    """A long pays coin x mark x rate at 16:00 UTC, debited in USDT and listed as FUNDING_FEE."""
    async with _world() as w:
        assert isinstance(await w.venue.create_order(_buy(w.venue, 6, 0.5)), Accepted)
        w.clock.advance(8 * 3_600_000)  # 08:00 -> 16:00 UTC
        income = await w.venue.client.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})
        (entry,) = income
        premium = await w.venue.client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
        expected = -0.5 * float(premium["markPrice"]) * float(premium["lastFundingRate"])
        assert (entry["symbol"], entry["asset"]) == ("BTCUSDT", "USDT")
        assert float(entry["income"]) == pytest.approx(expected, rel=0.02)  # mark moved since
        assert float(entry["income"]) < 0, "a long pays a positive rate"


async def test_request_weight_over_the_limit_is_429_with_retry_after() -> None:
    """Past the minute's weight, Binance answers 429 -1003 with Retry-After, counting weight."""
    exchange = _exchange(ManualClock(START_MS))
    api = BinanceApi(exchange, Faults(), limits=Limits(weight_per_minute=3))
    async with aiohttp.ClientSession() as session:
        server = TestServer(build_binance_app(api))
        await server.start_server()
        try:
            url = str(server.make_url("/fapi/v1/time"))
            weights = []
            for _ in range(3):
                async with session.get(url) as resp:
                    weights.append(resp.headers["X-MBX-USED-WEIGHT-1M"])
            async with session.get(url) as resp:
                body, status, retry = await resp.json(), resp.status, resp.headers["Retry-After"]
        finally:
            await server.close()
    assert weights == ["1", "2", "3"]
    assert (status, body["code"]) == (429, -1003)
    assert 1 <= int(retry) <= 60


async def test_order_over_the_order_limit_is_a_clean_reject() -> None:
    """A send refused with 429 -1015 (Binance refuses before matching) is Rejected, not
    Ambiguous; the venue holds the first order only."""
    clock = ManualClock(START_MS)
    exchange = _exchange(clock)
    api = BinanceApi(exchange, Faults(), limits=Limits(orders_per_10s=1))
    server = TestServer(build_binance_app(api))
    await server.start_server()
    keys = VenueCredentials(SecretStr(MAIN.client_id), SecretStr(MAIN.client_secret))
    settings = VenueConfig.model_validate(
        {"name": "sim-b", "exchange": "binanceusdm", "role": ["hedge"]}
    )
    venue = build_venue(
        settings, Mode.SIM, {}, Runtime(clock_ms=clock.now_ms),
        sim=SimEndpoint(str(server.make_url("")).rstrip("/"), keys),
    )  # fmt: skip
    assert isinstance(venue, CcxtVenue)
    try:
        assert isinstance(await venue.create_order(_buy(venue, 7, 0.01)), Accepted)
        outcome = await venue.create_order(_buy(venue, 8, 0.01))
    finally:
        await venue.close()
        await server.close()
    assert isinstance(outcome, Rejected), outcome
    assert "-1015" in outcome.reason and "send again later" in outcome.reason
    assert len(exchange.order_log()) == 1


async def test_order_answered_503_unknown_is_ambiguous() -> None:
    """A send answered 503 "unknown error" (Binance: execution status unknown) is Ambiguous."""
    async with _world() as w:
        w.faults.inject_error(UNKNOWN, method=ORDER, count=1)
        outcome = await w.venue.create_order(_buy(w.venue, 9, 0.01))
        assert isinstance(outcome, Ambiguous), outcome
        assert "503" in outcome.reason or "-1000" in outcome.reason


async def test_wrong_signature_is_1022() -> None:
    """A request signed with another secret is refused with -1022."""
    async with _world() as w, aiohttp.ClientSession() as session:
        query = f"timestamp={SystemClock().now_ms()}"
        url = f"{w.venue.client.urls['api']['fapiPrivateV2']}/account?{query}"
        url += f"&signature={sign('not-the-secret', query)}"
        async with session.get(url, headers={"X-MBX-APIKEY": MAIN.client_id}) as resp:
            assert (resp.status, (await resp.json())["code"]) == (400, -1022)


async def test_funding_payments_are_read_through_the_income_endpoint() -> None:
    """The venue reads FUNDING_FEE income as funding payments in USDT with Binance's id."""
    async with _world() as w:
        assert isinstance(await w.venue.create_order(_buy(w.venue, 7, 0.5)), Accepted)
        w.clock.advance(8 * 3_600_000)  # 08:00 -> 16:00 UTC
        payments = await w.venue.fetch_funding(START_MS)
    assert [(p.symbol, p.underlying, p.currency) for p in payments] == [(PERP, "BTC", "USDT")]
    assert payments[0].payment_id and payments[0].amount != 0


async def test_non_usdt_assets_are_reported_and_read_as_no_margin() -> None:
    """Single-asset mode: the account and balance endpoints say marginAvailable false for BTC
    (true for USDT), and the normalised BTC balance is no margin though it keeps its equity."""
    holder = replace(MAIN, balances={"USDT": 100_000.0, "BTC": 2.0})
    async with _world(account=holder) as w:
        account = await w.venue.client.fapiPrivateV3GetAccount()
        balance = await w.venue.client.fapiPrivateV2GetBalance()
        balances = {b.currency: b for b in await w.venue.fetch_balances()}
    flags = {a["asset"]: a["marginAvailable"] for a in account["assets"]}
    assert flags == {a["asset"]: a["marginAvailable"] for a in balance}
    assert flags == {"USDT": True, "USDC": False, "BTC": False, "ETH": False}
    assert account["multiAssetsMargin"] is False
    assert balances["USDT"].margin and not balances["BTC"].margin
    assert balances["BTC"].equity == pytest.approx(2.0)


class TestFaultKnobs:
    """The Deribit dialect's fault knobs act on the Binance dialect's requests too."""

    async def test_stale_marks_freeze_the_premium_index_until_switched_off(self) -> None:
        """``stale_marks: true`` (as ``--faults`` or ``/_sim/faults`` send it) replays the last
        premiumIndex, time included, while the market moves; off, the marks move again."""
        async with _world() as w:
            first = await w.venue.client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
            w.faults.update_from_json({"stale_marks": True})
            w.clock.advance(3_600_000)
            frozen = await w.venue.client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
            w.faults.update_from_json({"stale_marks": False})
            live = await w.venue.client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
        assert frozen == first
        assert live["time"] > first["time"] and live["markPrice"] != first["markPrice"]

    async def test_empty_positions_hide_a_real_position_from_position_risk(self) -> None:
        """``set_empty_positions()`` answers positionRisk with nothing though the account holds
        a position; the venue reads no positions."""
        async with _world() as w:
            assert isinstance(await w.venue.create_order(_buy(w.venue, 10, 0.1)), Accepted)
            w.faults.set_empty_positions()
            hidden = await w.venue.fetch_positions()
            w.faults.set_empty_positions(None)
            shown = await w.venue.fetch_positions()
        assert hidden == ()
        assert [(p.instrument.symbol, p.size) for p in shown] == [(PERP, pytest.approx(0.1))]

    async def test_latency_beyond_the_client_timeout_is_a_request_timeout(self) -> None:
        """A latency knob on premiumIndex longer than the client's timeout: ccxt times out."""
        async with _world() as w:
            w.faults.set_latency(10 * int(w.venue.client.timeout), method="GET /fapi/v1/prem*")
            with pytest.raises(ccxt.RequestTimeout):
                await w.venue.client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
            w.faults.set_latency(0)
            assert float((await w.venue.client.fapiPublicGetTime())["serverTime"]) > 0

    async def test_drop_before_seen_is_ambiguous_and_nothing_traded(self) -> None:
        """An order lost on the way in is Ambiguous; the lookup finds no such order."""
        async with _world() as w:
            w.faults.drop(FaultAction.DROP_BEFORE_SEEN, method=ORDER)
            outcome = await w.venue.create_order(_buy(w.venue, 11, 0.01))
            assert isinstance(outcome, Ambiguous), outcome
            assert await w.venue.find_order(_cid(11), PERP) is None
            assert w.exchange.order_log() == []

    async def test_injected_new_order_rejected_is_a_clean_reject(self) -> None:
        """A send refused with -2010 NEW_ORDER_REJECTED (an error knob with a Binance code) is
        Rejected naming the code; nothing reached the engine."""
        async with _world() as w:
            w.faults.inject_error(NEW_ORDER_REJECTED, method=ORDER, count=1)
            outcome = await w.venue.create_order(_buy(w.venue, 12, 0.01))
            assert isinstance(outcome, Rejected), outcome
            assert "-2010" in outcome.reason
            assert w.exchange.order_log() == []


async def _post_only_buy(w: World, seq: int, level: str, factor: float) -> SendOutcome:
    """Send a post-only GTC buy of 0.01 BTC at ``factor`` x the best of the book's ``level``
    ("bids" or "asks"), on BTCUSDT's 0.1 tick."""
    book = await w.venue.client.fetch_order_book("BTC/USDT:USDT", 5)
    price = round(float(book[level][0][0]) * factor, 1)
    request = OrderRequest(_cid(seq), w.venue.venue_id, PERP, Side.BUY, 0.01, price,
                           TimeInForce.GTC, post_only=True)  # fmt: skip
    return await w.venue.create_order(request)


async def test_post_only_that_would_cross_is_rejected_as_5022() -> None:
    """A GTX (post-only) buy priced through the best ask is Rejected with -5022; the book
    keeps nothing of it."""
    async with _world() as w:
        outcome = await _post_only_buy(w, 13, "asks", 1.01)
        assert isinstance(outcome, Rejected), outcome
        assert "-5022" in outcome.reason
        assert w.exchange.order_log() == []


async def test_post_only_below_the_bid_rests_as_gtx_and_is_cancelled() -> None:
    """A GTX buy below the best bid rests: Accepted with no fills, listed open as GTX; the
    cancel by orderId is Accepted CANCELED, and the lookup by origClientOrderId agrees."""
    async with _world() as w:
        outcome = await _post_only_buy(w, 14, "bids", 0.99)
        opened = await w.venue.client.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"})
        assert isinstance(outcome, Accepted) and outcome.fills == (), outcome
        cancelled = await w.venue.cancel_order(outcome.report.venue_order_id, PERP)
        found = await w.venue.find_order(_cid(14), PERP)
        still_open = await w.venue.client.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"})
    assert [(o["clientOrderId"], o["timeInForce"], o["status"]) for o in opened] == [
        (_cid(14), "GTX", "NEW")
    ]
    assert isinstance(cancelled, Accepted), cancelled
    assert cancelled.report.state is OrderState.CANCELED
    assert found is not None and found.state is OrderState.CANCELED and found.filled_amount == 0
    assert still_open == []


async def test_maintenance_margin_follows_binances_tier_table() -> None:
    """A 2 BTC long (beyond the first 50,000 USDT tier) is margined by the domain's BTCUSDT
    tiers, above the first tier's flat rate."""
    async with _world() as w:
        assert isinstance(await w.venue.create_order(_buy(w.venue, 15, 2.0)), Accepted)
        account = await w.venue.client.fapiPrivateV3GetAccount()
    (position,) = account["positions"]
    notional = abs(float(position["notional"]))
    tier_im, tier_mm = tiered_margin(notional, BINANCE_TIERS)
    assert notional > BINANCE_TIERS.upper_usd[0]
    assert float(position["maintMargin"]) == pytest.approx(float(tier_mm), rel=1e-6)
    assert float(position["positionInitialMargin"]) == pytest.approx(float(tier_im), rel=1e-6)
    assert float(tier_mm) > notional * BINANCE_TIERS.mm_rate_frac[0]


async def test_an_account_under_maintenance_is_liquidated_and_ccxt_sees_it() -> None:
    """A long bought 20% above the mark with 1,000 USDT is under maintenance margin: the next
    sync closes it at mark, positionRisk shows none, forceOrders lists one autoclose SELL and
    userTrades its fill with the realised loss."""
    probe = _exchange(ManualClock(START_MS))
    mark = probe.contract_marks("BTCUSDT")[1].mark_price
    entry = round(mark * 1.2, 1)
    underwater = replace(MAIN, balances={"USDT": 1_000.0},
                         positions=(PositionSpec("BTCUSDT", 0.1, entry),))  # fmt: skip
    async with _world(account=underwater) as w:
        w.clock.advance(1_000)
        positions = await w.venue.fetch_positions()
        forced = await w.venue.client.fapiPrivateGetForceOrders({"symbol": "BTCUSDT"})
        trades = await w.venue.client.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
    assert positions == ()
    (order,) = forced
    assert order["clientOrderId"].startswith("autoclose-")
    assert (order["side"], order["status"], float(order["executedQty"])) == ("SELL", "FILLED", 0.1)
    (trade,) = trades
    assert trade["orderId"] == order["orderId"]
    assert float(trade["realizedPnl"]) == pytest.approx(0.1 * (float(trade["price"]) - entry))
    assert float(trade["realizedPnl"]) < -1_000.0


async def test_book_ticker_leverage_margin_type_and_listen_key_through_ccxt() -> None:
    """depth and ticker/24hr answer ccxt's fetch_order_book and fetch_ticker; leverage is kept
    per symbol and shown by positionRisk; cross margin needs no change (-4046), isolated is
    refused; a listen key is issued, kept alive and closed."""
    async with _world() as w:
        c = w.venue.client
        book = await c.fetch_order_book("BTC/USDT:USDT", 5)
        ticker = await c.fetch_ticker("BTC/USDT:USDT")
        await c.set_leverage(7, "BTC/USDT:USDT")
        (risk,) = await c.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})
        refusals = []
        for kind in ("CROSSED", "ISOLATED"):
            with pytest.raises(ccxt.ExchangeError) as refused:
                await c.fapiPrivatePostMarginType({"symbol": "BTCUSDT", "marginType": kind})
            refusals.append(str(refused.value))
        key = (await c.fapiPrivatePostListenKey())["listenKey"]
        kept = await c.fapiPrivatePutListenKey()
        closed = await c.fapiPrivateDeleteListenKey()
    bids, asks = [p for p, _ in book["bids"]], [p for p, _ in book["asks"]]
    assert 0 < len(bids) <= 5 and 0 < len(asks) <= 5
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert ticker["symbol"] == "BTC/USDT:USDT" and ticker["last"] > 0
    assert risk["leverage"] == "7"
    assert "-4046" in refusals[0] and "-1130" in refusals[1]
    assert len(key) == 64 and (kept, closed) == ({}, {})
