"""Deribit's JSON-RPC 2.0 envelope, shared by the HTTP and the websocket facades.

Every answer carries ``usIn``/``usOut``/``usDiff`` (wall-clock microseconds) and
``testnet: true``, so nothing mistakes the emulator for production.
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

from bot.sim.errors import SimError

METHOD_NOT_FOUND = -32601
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INTERNAL_SERVER_ERROR = 11094
dumps = partial(json.dumps, allow_nan=False, separators=(",", ":"))


def envelope(
    us_in: int, rpc_id: Any, *, result: Any = None, error: SimError | None = None
) -> dict[str, Any]:
    """The JSON-RPC answer to one request: its ``result`` or its ``error``."""
    out: dict[str, Any] = {"jsonrpc": "2.0"}
    if rpc_id is not None:
        out["id"] = rpc_id
    if error is None:
        out["result"] = result
    else:
        out["error"] = {"code": error.code, "message": error.message}
        if error.data is not None:
            out["error"]["data"] = error.data
    us_out = max(now_us(), us_in)
    out.update(usIn=us_in, usOut=us_out, usDiff=us_out - us_in, testnet=True)
    return out


def parse_request(body: str, path_method: str | None) -> tuple[str, dict[str, Any], Any]:
    """Method, params and id of a JSON-RPC request (an empty body on a method path is fine)."""
    if not body.strip():
        if path_method is None:
            raise SimError(INVALID_REQUEST, "Invalid Request", {"reason": "empty body"})
        return path_method, {}, None
    try:
        message = json.loads(body)
    except ValueError:
        raise SimError(PARSE_ERROR, "Parse error") from None
    if not isinstance(message, dict):
        raise SimError(INVALID_REQUEST, "Invalid Request", {"reason": "expected a JSON object"})
    method = message.get("method", path_method)
    if not isinstance(method, str) or (path_method is not None and method != path_method):
        raise SimError(INVALID_REQUEST, "Invalid Request", {"reason": "method mismatch"})
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise SimError(INVALID_REQUEST, "Invalid Request", {"reason": "params must be an object"})
    return method, params, message.get("id")


def internal_error() -> SimError:
    """11094 ``internal_server_error``: an emulator bug, never a venue answer."""
    return SimError(INTERNAL_SERVER_ERROR, "internal_server_error")


def now_us() -> int:
    """Wall-clock microseconds, as Deribit stamps ``usIn``/``usOut``."""
    return time.time_ns() // 1000
