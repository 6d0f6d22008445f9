"""Signatures as ccxt produces them, and the JSON-RPC envelope over GET and POST."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt
import pytest

from bot.clock import SystemClock
from bot.sim.auth import authenticate, parse_authorization, request_data, signature
from bot.sim.errors import SimError
from bot.sim.server import run_emulator
from tests.integration.test_emulator_ccxt import MAIN, make_exchange

KEY, SECRET = "sim-key", "sim-secret-value"


def _ccxt_signed(path: str, params: dict[str, object]) -> tuple[str, str]:
    """The Authorization header and URI ccxt's deribit would send for ``private/<path>``."""
    client = ccxt.deribit({"apiKey": KEY, "secret": SECRET})
    signed = client.sign(path, ["private"], "GET", params)
    url = urlsplit(signed["url"])
    return signed["headers"]["Authorization"], f"{url.path}?{url.query}" if url.query else url.path


def _check(header: str, uri: str, *, now_ms: int, method: str = "GET", body: str = "") -> str:
    return authenticate(
        header,
        method=method,
        uri=uri,
        body=body,
        secret_for_key={KEY: SECRET}.get,
        now_ms=now_ms,
    )


def test_ccxt_signature_is_accepted() -> None:
    """A request signed by unmodified ccxt deribit authenticates as its client id."""
    header, uri = _ccxt_signed("buy", {"instrument_name": "BTC-PERPETUAL", "amount": "10"})
    ts_ms = parse_authorization(header).ts_ms
    assert uri == "/api/v2/private/buy?instrument_name=BTC-PERPETUAL&amount=10"
    assert _check(header, uri, now_ms=ts_ms + 1_000) == KEY


def test_signature_matches_deribit_formula() -> None:
    """The signature is HMAC-SHA256(secret, ts\\nnonce\\nGET\\nURI\\n\\n) in hex, as documented."""
    header, uri = _ccxt_signed("get_positions", {"currency": "BTC"})
    signed = parse_authorization(header)
    assert request_data("get", uri, "") == f"GET\n{uri}\n\n"
    assert signed.sig == signature(SECRET, signed.ts_ms, signed.nonce, f"GET\n{uri}\n\n")


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("query", 13009),
        ("method", 13009),
        ("body", 13009),
        ("unknown_key", 13004),
        ("stale", 13009),
        ("future", 13009),
        ("missing", 13009),
        ("garbled", 13009),
    ],
)
def test_tampered_requests_are_refused(tamper: str, code: int) -> None:
    """Any change to a signed request, an unknown key or a clock skew > 60 s is an auth error."""
    header, uri = _ccxt_signed("get_positions", {"currency": "BTC"})
    now_ms = parse_authorization(header).ts_ms
    method, body = "GET", ""
    if tamper == "query":
        uri = uri.replace("BTC", "ETH")
    elif tamper == "method":
        method = "POST"
    elif tamper == "body":
        body = '{"x":1}'
    elif tamper == "unknown_key":
        header = header.replace(f"id={KEY}", "id=someone-else")
    elif tamper == "stale":
        now_ms += 60_001
    elif tamper == "future":
        now_ms -= 60_001
    elif tamper == "missing":
        header = ""
    elif tamper == "garbled":
        header = "deri-hmac-sha256 id=x,ts=notanumber,sig=ab,nonce=1"
    with pytest.raises(SimError) as err:
        _check(header, uri, now_ms=now_ms, method=method, body=body)
    assert err.value.code == code


def test_error_never_echoes_the_secret() -> None:
    """A refused request's error text names the problem and never contains the secret."""
    header, uri = _ccxt_signed("get_positions", {"currency": "BTC"})
    now_ms = parse_authorization(header).ts_ms
    with pytest.raises(SimError) as err:
        _check(header, uri + "x", now_ms=now_ms)
    assert err.value.data == {"reason": "invalid signature"}
    assert SECRET not in str(err.value)


async def _post(base_url: str, path: str, body: str, headers: dict[str, str] | None = None) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(base_url + path, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_jsonrpc_post_envelope_echoes_the_id() -> None:
    """A JSON-RPC body POSTed to /api/v2 gets Deribit's envelope with the request id."""
    exchange, _ = make_exchange()
    async with run_emulator(exchange) as emulator:
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 42, "method": "public/get_index_price",
             "params": {"index_name": "btc_usd"}}
        )  # fmt: skip
        status, reply = await _post(emulator.base_url, "/api/v2", body)
    assert status == 200
    assert (reply["jsonrpc"], reply["id"], reply["testnet"]) == ("2.0", 42, True)
    assert reply["result"]["index_price"] > 0
    assert reply["usDiff"] == reply["usOut"] - reply["usIn"] >= 0


async def test_signed_post_reaches_the_account_of_the_key() -> None:
    """A POST signed over its body authenticates; the same body altered is refused."""
    exchange, _ = make_exchange()
    path = "/api/v2/private/get_account_summary"
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "params": {"currency": "BTC"}})
    ts_ms, nonce = SystemClock().now_ms(), "n0nce"
    sig = signature(MAIN.client_secret, ts_ms, nonce, request_data("POST", path, body))
    auth = f"deri-hmac-sha256 id={MAIN.client_id},ts={ts_ms},sig={sig},nonce={nonce}"
    async with run_emulator(exchange) as emulator:
        status, reply = await _post(emulator.base_url, path, body, {"Authorization": auth})
        assert status == 200 and reply["result"]["equity"] == pytest.approx(10.0)
        altered = body.replace("BTC", "ETH")
        status, reply = await _post(emulator.base_url, path, altered, {"Authorization": auth})
        assert status == 400 and reply["error"]["code"] == 13009


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/v2", "{not json", -32700),
        ("/api/v2", "[1, 2]", -32600),
        ("/api/v2/public/no_such_method", "", -32601),
        ("/api/v2/private/no_such_method", "", -32601),
    ],
)
async def test_malformed_requests_get_jsonrpc_errors(path: str, body: str, code: int) -> None:
    """Bad JSON, a non-object body or an unknown method is a JSON-RPC error with HTTP 400."""
    exchange, _ = make_exchange()
    async with run_emulator(exchange) as emulator:
        status, reply = await _post(emulator.base_url, path, body)
    assert (status, reply["error"]["code"]) == (400, code)
