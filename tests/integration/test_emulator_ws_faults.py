"""The websocket fault knobs, each set through the ``/_sim/faults`` admin like the REST ones."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.sim.server import RunningEmulator
from tests.integration.test_emulator_ccxt import PERP
from tests.integration.ws_helpers import STEP_MS, RawWs, emulator_on, pro_client, raw_ws

ORDER_AND_TRADES = ["user.orders.future.any.raw", "user.trades.future.any.raw"]


async def set_knobs(emulator: RunningEmulator, knobs: dict[str, Any]) -> dict[str, Any]:
    """POST the knobs to /_sim/faults; the knobs as the emulator now reports them."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emulator.base_url}/_sim/faults", data=json.dumps(knobs)) as resp,
    ):
        body: dict[str, Any] = await resp.json()
        assert resp.status == 200, body
        return body


async def buy(ws: RawWs) -> list[str]:
    """A market buy over the socket; the channels pushed before its answer, in order."""
    await ws.call("private/buy", instrument_name="BTC-PERPETUAL", amount=100, type="market")
    return [ws.pushes.get_nowait()["params"]["channel"] for _ in range(ws.pushes.qsize())]


async def subscribed(ws: RawWs) -> RawWs:
    await ws.login()
    await ws.call("private/subscribe", channels=ORDER_AND_TRADES)
    return ws


async def test_without_knobs_an_order_pushes_order_then_trades() -> None:
    """The baseline the knobs change: the order's push, then its trades', both before the answer."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        assert await buy(await subscribed(ws)) == ORDER_AND_TRADES


async def test_disconnect_closes_every_socket_once() -> None:
    """ws_disconnect closes the open connections; a new one then stays up."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        knobs = await set_knobs(emulator, {"ws_disconnect": True})
        assert knobs["ws_disconnect"] is True
        assert await ws.closed()
        async with raw_ws(emulator) as again:
            assert "version" in (await again.call("public/test"))["result"]
            assert emulator.faults.to_json()["ws_disconnect"] is False


async def test_stall_silences_matching_subscriptions_only() -> None:
    """ws_stall withholds the trades channel's pushes; the orders channel and answers go on."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        await set_knobs(emulator, {"ws_stall": "user.trades.*"})
        assert await buy(await subscribed(ws)) == ORDER_AND_TRADES[:1]
        assert not ws.ws.closed


async def test_drop_loses_exactly_the_next_push() -> None:
    """ws_drop_messages=1 loses the order's push; its trades and the next order's pushes arrive."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        await set_knobs(emulator, {"ws_drop_messages": 1})
        await subscribed(ws)
        assert await buy(ws) == ORDER_AND_TRADES[1:]
        assert await buy(ws) == ORDER_AND_TRADES


async def test_reorder_swaps_pushes_in_pairs() -> None:
    """ws_reorder delivers the trades' push before the order's."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        await set_knobs(emulator, {"ws_reorder": True})
        await subscribed(ws)
        await ws.call("private/buy", instrument_name="BTC-PERPETUAL", amount=100, type="market")
        channels = [(await ws.push())["params"]["channel"] for _ in range(2)]
        assert channels == ORDER_AND_TRADES[::-1]


async def test_delay_holds_pushes_after_the_rest_answer() -> None:
    """With ws_delay_ms the REST answer of an order comes back while its push is still held."""
    async with (
        emulator_on() as (emulator, _clock),
        raw_ws(emulator) as ws,
        pro_client(emulator) as client,
    ):
        await subscribed(ws)
        await set_knobs(emulator, {"ws_delay_ms": 1_000})
        await client.create_order(PERP, "market", "buy", 100, None, {"timeInForce": "IOC"})
        assert ws.pushes.empty()
        assert (await ws.push())["params"]["channel"] == ORDER_AND_TRADES[0]


async def test_refused_relogin_then_accepted() -> None:
    """An error rule on public/auth refuses the next login (13009); the one after succeeds."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        rules = [{"action": "error", "method": "public/auth", "code": 13009, "count": 1}]
        await set_knobs(emulator, {"rules": rules})
        answer = await ws.call("public/auth", grant_type="client_credentials")
        assert answer["error"]["code"] == 13009
        await ws.login()


async def test_rate_limited_subscribe_subscribes_nothing() -> None:
    """10028 on public/subscribe is answered as Deribit's too_many_requests and subscribes
    nothing; the retry subscribes. (ccxt.pro raises it inside its reader and leaves the
    watch waiting: the daemon's stale-stream check is what notices.)"""
    async with emulator_on() as (emulator, clock), raw_ws(emulator) as ws:
        rules = [{"action": "error", "method": "public/subscribe", "code": 10028, "count": 1}]
        await set_knobs(emulator, {"rules": rules})
        channel = ["deribit_price_index.btc_usd"]
        answer = await ws.call("public/subscribe", channels=channel)
        assert answer["error"] == {"code": 10028, "message": "too_many_requests"}
        assert (await ws.call("public/subscribe", channels=channel))["result"] == channel
        clock.advance(STEP_MS)
        assert (await ws.push())["params"]["channel"] == channel[0]


async def test_drop_rule_on_a_socket_request_closes_the_connection() -> None:
    """A drop rule on a websocket method closes the connection without an answer."""
    async with emulator_on() as (emulator, _clock), raw_ws(emulator) as ws:
        await set_knobs(
            emulator, {"rules": [{"action": "drop_before_seen", "method": "public/test"}]}
        )
        await ws.ws.send_str(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "public/test"}))
        assert await ws.closed()


async def test_bad_ws_knobs_are_refused_and_change_nothing() -> None:
    """A malformed ws knob is a 400 naming it, and the knobs stay as they were."""
    async with emulator_on() as (emulator, _clock), aiohttp.ClientSession() as http:
        url = f"{emulator.base_url}/_sim/faults"
        for bad, problem in (
            ({"ws_delay_ms": -1, "ws_stall": "*"}, "ws_delay_ms"),
            ({"ws_reorder": "yes"}, "ws_reorder"),
        ):
            async with http.post(url, data=json.dumps(bad)) as resp:
                assert resp.status == 400
                assert problem in (await resp.json())["error"]
        knobs = emulator.faults.to_json()
        assert (knobs["ws_stall"], knobs["ws_delay_ms"], knobs["ws_reorder"]) == (None, 0, False)
