"""The emulator's websocket API, through unmodified ccxt.pro deribit and a raw JSON-RPC socket."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import pytest

from bot.venues.stream import DeribitEvents
from tests.integration.test_emulator_ccxt import MAIN, PERP
from tests.integration.ws_helpers import STEP_MS, WAIT_S, emulator_on, pro_client, raw_ws

IOC_BUY = (PERP, "market", "buy", 100, None, {"timeInForce": "IOC"})


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
