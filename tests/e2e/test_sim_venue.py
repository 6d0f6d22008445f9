"""``deltabot sim-venue`` as a subprocess: ready line, real ccxt traffic, clean SIGTERM exit."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt
import pytest

REPO = Path(__file__).resolve().parents[2]
KEY, SECRET = "e2e-key", "e2e-secret-do-not-print"
STARTUP_LIMIT_S = 60.0  # a safety net for a wedged child, not a speed assertion


async def _start(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sim-venue",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@asynccontextmanager
async def _sim_venue(*args: str, env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """``deltabot sim-venue`` started with ``args``, killed on the way out if still running."""
    proc = await _start(*args, env=env)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _terminate(proc: asyncio.subprocess.Process) -> str:
    """TERM, then everything the process printed after its ready line."""
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT_S)
    return stdout.decode() + stderr.decode()


async def _read_until_ready(proc: asyncio.subprocess.Process) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    while not (lines and lines[-1].endswith(": ready")):
        raw = await proc.stdout.readline()
        if not raw:
            raise AssertionError(f"sim-venue exited before ready; stdout so far: {lines}")
        lines.append(raw.decode().rstrip())
    return lines


async def _ws_version(url: str) -> str:
    """The version ``public/test`` answers over a JSON-RPC websocket at ``url``."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "public/test", "params": {}})
        answer = await asyncio.wait_for(ws.receive_json(), STARTUP_LIMIT_S)
    return str(answer["result"]["version"])


async def test_sim_venue_serves_ccxt_and_exits_zero_on_sigterm() -> None:
    """The CLI prints its REST and websocket URLs, serves ccxt with env keys and --faults, exits 0
    on TERM."""
    env = {**os.environ, "DELTABOT_SIM_API_KEY": KEY, "DELTABOT_SIM_API_SECRET": SECRET}
    faults = '{"rules": [{"action": "error", "code": 10028, "method": "private/*", "count": 1}]}'
    args = ("--port", "0", "--seed", "3", "--name", "e2e-venue", "--faults", faults)
    async with _sim_venue(*args, env=env) as proc:
        lines = await asyncio.wait_for(_read_until_ready(proc), STARTUP_LIMIT_S)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)$", "\n".join(lines), re.M)
        assert match is not None, lines
        ws_match = re.search(r"websocket on (ws://127\.0\.0\.1:\d+/ws/api/v2)$", lines[1])
        assert ws_match is not None, lines
        assert await _ws_version(ws_match.group(1)), "the printed websocket URL answers"
        client = ccxt.deribit({"apiKey": KEY, "secret": SECRET, "timeout": 5000})
        client.urls["api"]["rest"] = match.group(1)
        try:
            await client.load_markets()
            assert client.market("BTC/USD:BTC")["contractSize"] == 10.0
            with pytest.raises(ccxt.DDoSProtection):  # the --faults rule, once
                await client.fetch_balance()
            assert (await client.fetch_balance())["BTC"]["total"] > 0
        finally:
            await client.close()
        output = "\n".join(lines) + await _terminate(proc)
    assert proc.returncode == 0, output
    assert "stopped" in output
    assert SECRET not in output


async def test_sim_venue_refuses_half_credentials() -> None:
    """A key without a secret is bad input: exit 2 with a message naming the variables."""
    env = {**os.environ, "DELTABOT_SIM_API_KEY": KEY}
    env.pop("DELTABOT_SIM_API_SECRET", None)
    proc = await _start("--port", "0", "--seed", "1", env=env)
    _, stderr = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT_S)
    assert proc.returncode == 2
    assert "DELTABOT_SIM_API_SECRET" in stderr.decode()


async def test_sim_venue_speaks_binance_usdm_to_ccxt() -> None:
    """--exchange binanceusdm prints "listening on http://..." (no websocket line), serves the
    unmodified ccxt binanceusdm client (markets, a signed order with --faults honoured in
    Binance codes) and exits 0 on TERM."""
    env = {**os.environ, "DELTABOT_SIM_API_KEY": KEY, "DELTABOT_SIM_API_SECRET": SECRET}
    faults = '{"rules": [{"action": "error", "code": -2019, "method": "POST /fapi/*", "count": 1}]}'
    args = ("--exchange", "binanceusdm", "--port", "0", "--seed", "3", "--faults", faults)
    async with _sim_venue(*args, env=env) as proc:
        lines = await asyncio.wait_for(_read_until_ready(proc), STARTUP_LIMIT_S)
        match = re.search(r"binanceusdm-sim: listening on (http://127\.0\.0\.1:\d+)$", lines[0])
        assert match is not None and len(lines) == 2, lines
        base = match.group(1)
        client = ccxt.binanceusdm(
            {"apiKey": KEY, "secret": SECRET, "timeout": 5000,
             "options": {"fetchMarkets": {"types": ["linear"]}}}
        )  # fmt: skip
        client.has["fetchCurrencies"] = False  # sapi's coin list: the emulator has none
        client.urls["api"] = {  # every API family on the emulator, its path kept
            name: base + urlsplit(url).path if isinstance(url, str) else url
            for name, url in client.urls["api"].items()
        }
        try:
            await client.load_markets()
            assert client.market("BTC/USDT:USDT")["linear"]
            with pytest.raises(ccxt.ExchangeError, match="-2019"):  # the --faults rule, once
                await client.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
            order = await client.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
            assert order["status"] == "closed" and order["filled"] == pytest.approx(0.01)
        finally:
            await client.close()
        output = "\n".join(lines) + await _terminate(proc)
    assert proc.returncode == 0, output
    assert SECRET not in output
