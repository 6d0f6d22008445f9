"""The Binance USDⓈ-M emulator through unmodified ccxt ``binanceusdm``: refusals, clock
skew, a lost answer, funding and the request-weight limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.clock import Clock, ManualClock, SystemClock
from bot.config import Mode, VenueConfig
from bot.domain.ids import ClientOrderId, Symbol, VenueId
from bot.domain.orders import (
    Accepted,
    Ambiguous,
    OrderRequest,
    OrderState,
    Rejected,
    Side,
    TimeInForce,
    client_order_id,
)
from bot.secrets import VenueCredentials
from bot.sim.binance_api import BinanceApi, build_binance_app
from bot.sim.binance_auth import sign
from bot.sim.binance_errors import UNKNOWN
from bot.sim.binance_limits import Limits
from bot.sim.dialect import Dialect
from bot.sim.exchange import SimExchange
from bot.sim.faults import FaultAction, Faults
from bot.sim.market import MarketModel
from bot.sim.server import run_emulator
from bot.sim.spec import AccountSpec, ExchangeSpec, default_main_account
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
    auth_clock: Clock | None = None, account: AccountSpec = MAIN
) -> AsyncIterator[World]:
    clock = ManualClock(START_MS)
    exchange = _exchange(clock, account)
    async with run_emulator(exchange, auth_clock=auth_clock) as emulator:
        keys = VenueCredentials(SecretStr(MAIN.client_id), SecretStr(MAIN.client_secret))
        settings = VenueConfig.model_validate(
            {"name": "sim-b", "exchange": "binanceusdm", "role": ["hedge"]}
        )
        venue = build_venue(
            settings, Mode.SIM, {}, Runtime(clock_ms=clock.now_ms),
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
