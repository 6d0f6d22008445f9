"""Binance ``HMAC SHA256`` signed requests, verified as Binance specifies.

The key travels in the ``X-MBX-APIKEY`` header. ``signature`` is the hex
HMAC-SHA256 of ``totalParams`` keyed by the secret, where ``totalParams`` is
the query string concatenated with the request body (each without its
``signature`` pair). A signed request carries ``timestamp`` (ms) and an
optional ``recvWindow`` (default 5,000 ms, at most 60,000); the server
processes it only if ``timestamp < serverTime + 1000`` and
``serverTime - timestamp <= recvWindow``, else ``-1021``. Pure functions: the
caller supplies the wall-clock time and the key lookup.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from bot.sim.binance_errors import (
    BAD_API_KEY_FMT,
    BAD_RECV_WINDOW,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    MANDATORY_PARAM,
    REJECTED_MBX_KEY,
    BinanceError,
    binance_error,
)

DEFAULT_RECV_WINDOW_MS = 5_000
MAX_RECV_WINDOW_MS = 60_000
AHEAD_TOLERANCE_MS = 1_000
"""A timestamp may be at most this far ahead of the server's clock."""


def sign(secret: str, total_params: str) -> str:
    """Hex HMAC-SHA256 of ``total_params`` keyed by ``secret``."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def _split_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` without its trailing ``signature=...`` pair, and that signature."""
    head, sep, sig = raw.rpartition("signature=")
    if not sep or "&" in sig or (head and not head.endswith("&")):
        return raw, None
    return head.removesuffix("&"), sig


def api_key_of(headers: Mapping[str, str], secret_for_key: Callable[[str], str | None]) -> str:
    """The request's known API key (``-2014`` absent, ``-2015`` unknown)."""
    key = headers.get("X-MBX-APIKEY", "")
    if not key:
        raise binance_error(BAD_API_KEY_FMT, status=401)
    if secret_for_key(key) is None:
        raise binance_error(REJECTED_MBX_KEY, status=401)
    return key


def verify(
    headers: Mapping[str, str],
    query: str,
    body: str,
    *,
    secret_for_key: Callable[[str], str | None],
    now_ms: int,
) -> tuple[str, dict[str, str]]:
    """(API key, parameters) of a correctly signed request; a Binance error otherwise."""
    key = api_key_of(headers, secret_for_key)
    secret = secret_for_key(key)
    assert secret is not None  # api_key_of refused unknown keys
    query_part, query_sig = _split_signature(query)
    body_part, body_sig = _split_signature(body)
    signature = query_sig or body_sig
    if not signature:
        raise binance_error(MANDATORY_PARAM, "signature")
    params = dict(parse_qsl(query_part, keep_blank_values=True))
    params.update(parse_qsl(body_part, keep_blank_values=True))
    _check_time(params, now_ms)
    total = query_part + body if query_sig else query + body_part
    if not hmac.compare_digest(sign(secret, total), signature.lower()):
        raise binance_error(INVALID_SIGNATURE)
    return key, params


def _check_time(params: Mapping[str, str], now_ms: int) -> None:
    """Binance's timing security: ``-1021`` outside the window, ``-1131`` a bad window."""
    try:
        ts = int(params["timestamp"])
    except (KeyError, ValueError):
        raise binance_error(MANDATORY_PARAM, "timestamp") from None
    try:
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
    except ValueError:
        raise binance_error(BAD_RECV_WINDOW) from None
    if not 0 < window <= MAX_RECV_WINDOW_MS:
        raise binance_error(BAD_RECV_WINDOW)
    if ts >= now_ms + AHEAD_TOLERANCE_MS:
        raise BinanceError(
            INVALID_TIMESTAMP,
            f"Timestamp for this request was {AHEAD_TOLERANCE_MS}ms ahead of the server's time.",
        )
    if now_ms - ts > window:
        raise binance_error(INVALID_TIMESTAMP)
