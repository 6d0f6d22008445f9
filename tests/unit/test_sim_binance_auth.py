"""Binance's signed-request checks of the emulator (developers.binance.com, "SIGNED Endpoint
security"): HMAC-SHA256 over query + body, ``timestamp`` and ``recvWindow``."""

from __future__ import annotations

import pytest

from bot.sim.binance_auth import (
    AHEAD_TOLERANCE_MS,
    DEFAULT_RECV_WINDOW_MS,
    MAX_RECV_WINDOW_MS,
    sign,
    verify,
)
from bot.sim.binance_errors import (
    BAD_RECV_WINDOW,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    MANDATORY_PARAM,
    BinanceError,
)

KEY, SECRET = (  # the example pair printed in Binance's documentation, not a real key
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
)
NOW_MS = 1_499_827_319_559
HEADERS = {"X-MBX-APIKEY": KEY}


def _secret(key: str) -> str | None:
    return SECRET if key == KEY else None


def _verify(query: str, body: str = "", now_ms: int = NOW_MS) -> dict[str, str]:
    _, params = verify(HEADERS, query, body, secret_for_key=_secret, now_ms=now_ms)
    return params


def _signed(params: str) -> str:
    return f"{params}&signature={sign(SECRET, params)}"


def test_binances_documented_example_signature() -> None:
    """The signature of Binance's own example request (its key, secret and totalParams)."""
    total = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sign(SECRET, total) == (
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )
    assert _verify(_signed(total))["symbol"] == "LTCBTC"


def test_query_and_body_are_signed_together() -> None:
    """Parameters split between query and form body verify over their concatenation."""
    query, body = "symbol=BTCUSDT&side=BUY", f"quantity=1&timestamp={NOW_MS}"
    signed_body = f"{body}&signature={sign(SECRET, query + body)}"
    assert _verify(query, signed_body) == {"symbol": "BTCUSDT", "side": "BUY", "quantity": "1",
                                           "timestamp": str(NOW_MS)}  # fmt: skip


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (f"timestamp={NOW_MS - DEFAULT_RECV_WINDOW_MS - 1}", INVALID_TIMESTAMP),
        (f"timestamp={NOW_MS - 20_000}&recvWindow=10000", INVALID_TIMESTAMP),
        (f"timestamp={NOW_MS + AHEAD_TOLERANCE_MS}", INVALID_TIMESTAMP),
        (f"timestamp={NOW_MS}&recvWindow={MAX_RECV_WINDOW_MS + 1}", BAD_RECV_WINDOW),
        ("symbol=BTCUSDT", MANDATORY_PARAM),
    ],
    ids=["behind-default-window", "behind-own-window", "ahead", "window-too-long", "no-time"],
)
def test_timing_security_refuses_with_binances_code(params: str, code: int) -> None:
    """Outside recvWindow or 1 s ahead is -1021, a window over 60 s -1131, no timestamp
    -1102, each before the signature is checked."""
    with pytest.raises(BinanceError) as refused:
        _verify(_signed(params))
    assert refused.value.code == code


def test_a_request_at_the_edge_of_its_window_is_served() -> None:
    """A timestamp exactly recvWindow old, or just under 1 s ahead, is accepted."""
    assert _verify(_signed(f"timestamp={NOW_MS - 10_000}&recvWindow=10000"))
    assert _verify(_signed(f"timestamp={NOW_MS + AHEAD_TOLERANCE_MS - 1}"))


def test_a_tampered_parameter_breaks_the_signature() -> None:
    """Changing one signed parameter after signing is -1022."""
    signed = _signed(f"symbol=BTCUSDT&quantity=1&timestamp={NOW_MS}")
    with pytest.raises(BinanceError) as refused:
        _verify(signed.replace("quantity=1", "quantity=9"))
    assert refused.value.code == INVALID_SIGNATURE
