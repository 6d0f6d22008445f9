"""The emulator's websocket API, through unmodified ccxt.pro deribit and a raw JSON-RPC socket."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.venues.stream import DeribitEvents
from tests.integration.test_emulator_ccxt import MAIN, PERP
from tests.integration.ws_helpers import (
    STEP_MS,
    WAIT_S,
    RawWs,
    emulator_on,
    pro_client,
    raw_ws,
)

IOC_BUY = (PERP, "market", "buy", 100, None, {"timeInForce": "IOC"})
RAW_TICKER = "ticker.BTC-PERPETUAL.raw"
PUSH_T0_MS = 1_000_000
"""The injected push clock's start: on an interval boundary, so a step of one interval ends
the interval the first change fell in."""
INTERVAL_MS = 100
MOVES = 3


class TestCcxtPro:
    """ccxt.pro's watch_* calls resolve on the emulator's pushes."""

    async def test_watch_ticker_sees_the_next_market_step(self) -> None:
        """A subscribed ticker is pushed when the clock crosses a market step, at the new time."""
        async with emulator_on() as (emulator, clock), pro_client(emulator) as client:
            first = await client.fetch_ticker(PERP)
            watch = asyncio.create_task(client.watch_ticker(PERP))
            await asyncio.sleep(0.2)
            clock.advance(STEP_MS)
            ticker = await asyncio.wait_for(watch, WAIT_S)
            assert ticker["symbol"] == PERP
            assert ticker["timestamp"] == first["timestamp"] + STEP_MS == clock.now_ms()
            assert ticker["markPrice"] != first["markPrice"]

    async def test_watch_orders_and_my_trades_see_a_rest_order(self) -> None:
        """An IOC order placed over REST reaches watch_orders and watch_my_trades."""
        async with emulator_on() as (emulator, _clock), pro_client(emulator) as client:
            orders = asyncio.create_task(client.watch_orders())
            trades = asyncio.create_task(client.watch_my_trades())
            await asyncio.sleep(0.2)
            placed = await client.create_order(*IOC_BUY)
            seen = await asyncio.wait_for(orders, WAIT_S)
            assert [o["id"] for o in seen] == [placed["id"]]
            assert seen[0]["status"] == "closed" and seen[0]["filled"] == 100
            fills = await asyncio.wait_for(trades, WAIT_S)
            assert {t["order"] for t in fills} == {placed["id"]}
            assert sum(t["amount"] for t in fills) == 100

    async def test_watch_balance_follows_the_fee_of_a_trade(self) -> None:
        """watch_balance resolves on a portfolio push after a trade changed the BTC account."""
        async with emulator_on() as (emulator, _clock), pro_client(emulator) as client:
            before = await client.fetch_balance({"currency": "BTC"})
            watch = asyncio.create_task(client.watch_balance())
            await asyncio.sleep(0.2)
            await client.create_order(*IOC_BUY)
            balance = await asyncio.wait_for(watch, WAIT_S)
            assert balance["BTC"]["total"] != before["BTC"]["total"]


class TestChannels:
    """Channels ccxt does not watch, read off a raw socket."""

    async def test_index_channel_pushes_the_move_with_its_timestamp(self) -> None:
        """deribit_price_index.btc_usd is pushed at a market step, stamped with the venue's time."""
        async with emulator_on() as (emulator, clock), raw_ws(emulator) as ws:
            answer = await ws.call("public/subscribe", channels=["deribit_price_index.btc_usd"])
            assert answer["result"] == ["deribit_price_index.btc_usd"]
            clock.advance(STEP_MS)
            data = (await ws.push())["params"]["data"]
            assert data["index_name"] == "btc_usd" and data["timestamp"] == clock.now_ms()
            rest = emulator.exchange.index_price("btc_usd").index_price
            assert data["price"] == pytest.approx(rest)

    async def test_user_changes_carries_order_trades_and_position_together(self) -> None:
        """user.changes.future.BTC.raw pushes the order, its fills and the new position at once."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            await ws.login()
            await ws.call("private/subscribe", channels=["user.changes.future.BTC.raw"])
            answer = await ws.call(
                "private/buy", instrument_name="BTC-PERPETUAL", amount=100, type="market"
            )
            order_id = answer["result"]["order"]["order_id"]
            data = (await ws.push("user.changes"))["params"]["data"]
            assert data["instrument_name"] == "BTC-PERPETUAL"
            assert [o["order_id"] for o in data["orders"]] == [order_id]
            assert sum(t["amount"] for t in data["trades"]) == 100
            assert [p["size"] for p in data["positions"]] == [100]

    async def test_a_channel_gets_only_its_kind(self) -> None:
        """A perpetual's fill goes to the future channel, not the option one (both before the
        order's answer, which the emulator writes after the pushes)."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            await ws.login()
            channels = ["user.trades.option.any.raw", "user.trades.future.any.raw"]
            await ws.call("private/subscribe", channels=channels)
            await ws.call("private/buy", instrument_name="BTC-PERPETUAL", amount=100, type="market")
            pushed = [ws.pushes.get_nowait() for _ in range(ws.pushes.qsize())]
            assert [p["params"]["channel"] for p in pushed] == ["user.trades.future.any.raw"]


class TestIntervals:
    """Aggregated channels push at most once per interval, with the latest state; ``raw``
    pushes each change. The interval runs on an injected clock the test steps."""

    @pytest.mark.parametrize("interval", ["100ms", "agg2"])
    async def test_changes_within_one_interval_are_one_push_of_the_latest(
        self, interval: str
    ) -> None:
        """Three ticker moves in one interval: three raw pushes, then one aggregated push
        (once the interval ends) equal to the last raw one."""
        push_clock = ManualClock(PUSH_T0_MS)
        aggregated = f"ticker.BTC-PERPETUAL.{interval}"
        async with (
            emulator_on(ws_push_clock=push_clock) as (emulator, clock),
            raw_ws(emulator) as ws,
        ):
            # aggregated first: a push of it in a round would arrive before the raw one
            await ws.call("public/subscribe", channels=[aggregated, RAW_TICKER])
            raw = []
            for _ in range(MOVES):
                clock.advance(STEP_MS)
                raw.append((await ws.push(RAW_TICKER))["params"]["data"])
            assert _pushed(ws, aggregated) == [], "held until the interval ends"
            push_clock.advance(INTERVAL_MS)
            data = (await ws.push(aggregated))["params"]["data"]
            assert data == raw[-1] and len({r["mark_price"] for r in raw}) == MOVES
            clock.advance(STEP_MS)  # one more round: nothing else was held
            await ws.push(RAW_TICKER)
            assert _pushed(ws, aggregated) == []

    async def test_an_aggregated_orders_channel_pushes_each_order_once_in_a_list(self) -> None:
        """Two orders in one interval of user.orders.any.any.100ms: one push, both orders in
        their final state (raw: an order per push)."""
        push_clock = ManualClock(PUSH_T0_MS)
        async with (
            emulator_on(ws_push_clock=push_clock) as (emulator, _clock),
            raw_ws(emulator) as ws,
        ):
            await ws.login()
            await ws.call("private/subscribe", channels=["user.orders.any.any.100ms"])
            ids = []
            for _ in range(2):
                answer = await ws.call(
                    "private/buy", instrument_name="BTC-PERPETUAL", amount=100, type="market"
                )
                ids.append(answer["result"]["order"]["order_id"])
            assert ws.pushes.empty(), "held until the interval ends"
            push_clock.advance(INTERVAL_MS)
            (orders,) = [(await ws.push("user.orders"))["params"]["data"]]
            assert [o["order_id"] for o in orders] == ids
            assert {o["order_state"] for o in orders} == {"filled"}

    async def test_unmodified_ccxt_pro_reads_the_aggregated_ticker(self) -> None:
        """ccxt.pro's watch_ticker (its default 100ms channel) resolves on the interval's
        push with the latest mark."""
        push_clock = ManualClock(PUSH_T0_MS)
        async with (
            emulator_on(ws_push_clock=push_clock) as (emulator, clock),
            pro_client(emulator) as client,
        ):
            watch = asyncio.create_task(client.watch_ticker(PERP))
            await asyncio.sleep(0.2)
            for _ in range(MOVES):
                clock.advance(STEP_MS)
            latest = await client.fetch_ticker(PERP)
            push_clock.advance(INTERVAL_MS)
            ticker = await asyncio.wait_for(watch, WAIT_S)
            assert ticker["markPrice"] == latest["markPrice"]


def _pushed(ws: RawWs, channel: str) -> list[dict[str, Any]]:
    """The pushes of ``channel`` already received (others stay queued)."""
    kept, out = [], []
    while not ws.pushes.empty():
        message = ws.pushes.get_nowait()
        (out if message["params"]["channel"] == channel else kept).append(message)
    for message in kept:
        ws.pushes.put_nowait(message)
    return out


class TestSession:
    """Logins, subscription rules and heartbeats."""

    async def test_private_subscribe_needs_a_login(self) -> None:
        """private/subscribe before public/auth is 13009 unauthorized, and subscribes nothing."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            answer = await ws.call("private/subscribe", channels=["user.orders.any.any.raw"])
            assert answer["error"]["code"] == 13009

    async def test_wrong_secret_is_invalid_credentials(self) -> None:
        """client_credentials with a wrong secret is 13004 invalid_credentials."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            answer = await ws.call(
                "public/auth",
                grant_type="client_credentials",
                client_id=MAIN.client_id,
                client_secret="wrong",
            )
            assert answer["error"]["code"] == 13004

    async def test_signature_login_and_refresh_token(self) -> None:
        """The client_signature flow logs in; its refresh token logs in a second connection."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            ts_ms, nonce = time.time_ns() // 1_000_000, "n0nce"
            message = f"{ts_ms}\n{nonce}\n".encode()
            sig = hmac.new(MAIN.client_secret.encode(), message, hashlib.sha256).hexdigest()
            answer = await ws.call(
                "public/auth",
                grant_type="client_signature",
                client_id=MAIN.client_id,
                timestamp=ts_ms,
                nonce=nonce,
                signature=sig,
                data="",
            )
            refresh = answer["result"]["refresh_token"]
            async with raw_ws(emulator) as again:
                answer = await again.call(
                    "public/auth", grant_type="refresh_token", refresh_token=refresh
                )
                assert "access_token" in answer["result"]

    async def test_unknown_channel_is_invalid_params(self) -> None:
        """A channel the emulator does not serve is -32602, not a silent subscription."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            answer = await ws.call("public/subscribe", channels=["book.BTC-PERPETUAL.raw"])
            assert answer["error"]["code"] == -32602

    async def test_heartbeat_asks_then_closes_a_silent_client(self) -> None:
        """After set_heartbeat a test_request arrives; no answer through an interval closes."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            assert (await ws.call("public/set_heartbeat", interval=0.1))["result"] == "ok"
            push = await asyncio.wait_for(ws.pushes.get(), WAIT_S)
            assert push == {
                "jsonrpc": "2.0",
                "method": "heartbeat",
                "params": {"type": "test_request"},
            }
            assert await ws.closed()

    async def test_answering_heartbeats_keeps_the_connection(self) -> None:
        """A client answering each test_request with public/test stays connected."""
        async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
            await ws.call("public/set_heartbeat", interval=0.1)
            for _ in range(3):
                await asyncio.wait_for(ws.pushes.get(), WAIT_S)
                assert "version" in (await ws.call("public/test"))["result"]
            assert not ws.ws.closed


async def test_the_daemons_stream_client_answers_heartbeats() -> None:
    """The event layer's ccxt.pro subclass answers test_request: past two heartbeat intervals
    its one connection is still the one pushing index ticks."""
    async with emulator_on() as (emulator, clock):
        client = DeribitEvents({"apiKey": MAIN.client_id, "secret": MAIN.client_secret})
        client.urls["api"]["rest"], client.urls["api"]["ws"] = emulator.base_url, emulator.ws_url
        try:
            await client.watch_deltabot_events(["BTC"], 1)  # subscribed
            connection = client.client(emulator.ws_url)
            await asyncio.sleep(2.5)  # two test_requests, each answered with public/test
            clock.advance(STEP_MS)
            events = await asyncio.wait_for(client.watch_deltabot_events(["BTC"], 1), WAIT_S)
            assert [e["channel"] for e in events] == ["deribit_price_index.btc_usd"]
            assert client.client(emulator.ws_url) is connection
        finally:
            await client.close()
