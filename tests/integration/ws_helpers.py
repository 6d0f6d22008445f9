"""Shared helpers of the websocket tests: ccxt.pro aimed at the emulator, and a raw JSON-RPC
websocket for what ccxt does not watch (``user.changes``, the index, heartbeats)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro

from bot.sim.server import RunningEmulator, run_emulator
from tests.integration.test_emulator_ccxt import MAIN, make_exchange

WAIT_S = 3.0
"""Longest wait for a push in a test (a failure, never a measured time)."""
STEP_MS = 1000
"""The default market grid step: advancing the clock by it moves the index."""


@asynccontextmanager
async def pro_client(emulator: RunningEmulator) -> AsyncIterator[Any]:
    """Unmodified ccxt.pro deribit with REST and websocket URLs on the emulator."""
    client = ccxtpro.deribit(
        {"apiKey": MAIN.client_id, "secret": MAIN.client_secret, "timeout": 1500}
    )
    client.urls["api"]["rest"] = emulator.base_url
    client.urls["api"]["ws"] = emulator.ws_url
    try:
        await client.load_markets()
        yield client
    finally:
        await client.close()


class RawWs:
    """A plain JSON-RPC websocket: requests answered in order, pushes kept aside."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self.pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                queue = self._answers if "id" in data else self.pushes
                queue.put_nowait(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """The whole answer (``result`` or ``error``) to one request."""
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        await self.ws.send_str(json.dumps(request))
        return await asyncio.wait_for(self._answers.get(), WAIT_S)

    async def login(self) -> None:
        answer = await self.call(
            "public/auth",
            grant_type="client_credentials",
            client_id=MAIN.client_id,
            client_secret=MAIN.client_secret,
        )
        assert "access_token" in answer["result"]

    async def push(self, channel_prefix: str = "") -> dict[str, Any]:
        """The next push whose channel starts with ``channel_prefix`` (others are skipped)."""
        while True:
            message = await asyncio.wait_for(self.pushes.get(), WAIT_S)
            if message["params"].get("channel", "").startswith(channel_prefix):
                return message

    def stop(self) -> None:
        """Stop reading (the connection closes with its session)."""
        self._reader.cancel()

    async def closed(self) -> bool:
        """Whether the server closes the connection within the wait."""
        await asyncio.wait_for(self._reader, WAIT_S)
        return self.ws.closed


@asynccontextmanager
async def raw_ws(emulator: RunningEmulator) -> AsyncIterator[RawWs]:
    async with aiohttp.ClientSession() as session, session.ws_connect(str(emulator.ws_url)) as ws:
        raw = RawWs(ws)
        try:
            yield raw
        finally:
            raw.stop()


@asynccontextmanager
async def emulator_on(**kwargs: Any) -> AsyncIterator[tuple[RunningEmulator, Any]]:
    """An emulator (heartbeats allowed from 50 ms) and its manual clock."""
    exchange, clock = make_exchange()
    async with run_emulator(exchange, ws_min_heartbeat_s=0.05, **kwargs) as emulator:
        yield emulator, clock
