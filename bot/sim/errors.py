"""Errors raised by the simulated exchange, with Deribit's JSON-RPC error codes.

Codes and messages are Deribit API v2.1.1's "RPC Error Codes" table
(docs.deribit.com, section "Errors"); the HTTP facade passes them through
unchanged, so ccxt maps them to the same exceptions as against the real venue.
"""

from __future__ import annotations

from typing import Any

# Deribit API v2.1.1, RPC error codes.
ERROR = 10001  # "error": general failure
QTY_TOO_LOW = 10002  # "qty_too_low"
ORDER_NOT_FOUND = 10004  # "order_not_found"
NOT_ENOUGH_FUNDS = 10009  # "not_enough_funds"
ALREADY_CLOSED = 10010  # "already_closed"
BOOK_CLOSED = 10012  # "book_closed"
INVALID_INSTRUMENT = 10020  # "invalid_or_unsupported_instrument"
INVALID_AMOUNT = 10021  # "invalid_amount"
INVALID_PRICE = 10023  # "invalid_price"
TOO_MANY_REQUESTS = 10028  # "too_many_requests"
RETRY = 10040  # "retry"
SETTLEMENT_IN_PROGRESS = 10041  # "settlement_in_progress"
PRICE_WRONG_TICK = 10043  # "price_wrong_tick"
ALREADY_FILLED = 11008  # "already_filled"
OTHER_REJECT = 11030  # "other_reject <Reason>"
NOT_OPEN_ORDER = 11044  # "not_open_order"
BAD_REQUEST = 11050  # "bad_request"
POST_ONLY_REJECT = 11054  # "post_only_reject"
POST_ONLY_NOT_ALLOWED = 11055  # "post_only_not_allowed"
INVALID_ADDR = 11090  # "invalid_addr"
INVALID_TRANSFER_ADDRESS = 11091  # "invalid_transfer_address"
TRANSFER_NOT_ALLOWED = 12100  # "transfer_not_allowed"
UNAUTHORIZED = 13009  # "unauthorized"
UNAVAILABLE_IN_SUBACCOUNT = 13012  # "unavailable_in_subaccount"

MESSAGES: dict[int, str] = {
    ERROR: "error",
    QTY_TOO_LOW: "qty_too_low",
    ORDER_NOT_FOUND: "order_not_found",
    NOT_ENOUGH_FUNDS: "not_enough_funds",
    ALREADY_CLOSED: "already_closed",
    BOOK_CLOSED: "book_closed",
    INVALID_INSTRUMENT: "invalid_or_unsupported_instrument",
    INVALID_AMOUNT: "invalid_amount",
    INVALID_PRICE: "invalid_price",
    TOO_MANY_REQUESTS: "too_many_requests",
    RETRY: "retry",
    SETTLEMENT_IN_PROGRESS: "settlement_in_progress",
    PRICE_WRONG_TICK: "price_wrong_tick",
    ALREADY_FILLED: "already_filled",
    OTHER_REJECT: "other_reject",
    NOT_OPEN_ORDER: "not_open_order",
    BAD_REQUEST: "bad_request",
    POST_ONLY_REJECT: "post_only_reject",
    POST_ONLY_NOT_ALLOWED: "post_only_not_allowed",
    INVALID_ADDR: "invalid_addr",
    INVALID_TRANSFER_ADDRESS: "invalid_transfer_address",
    TRANSFER_NOT_ALLOWED: "transfer_not_allowed",
    UNAUTHORIZED: "unauthorized",
    UNAVAILABLE_IN_SUBACCOUNT: "unavailable_in_subaccount",
}


class SimError(Exception):
    """A refusal by the simulated exchange: Deribit ``code``, ``message`` and optional ``data``.

    ``data`` follows Deribit's shape, e.g. ``{"param": "amount", "reason": "..."}``.
    """

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {message}" + (f" {data}" if data else ""))
        self.code = code
        self.message = message
        self.data = data


def sim_error(code: int, **data: Any) -> SimError:
    """A :class:`SimError` with Deribit's standard message for ``code``."""
    return SimError(code, MESSAGES[code], dict(data) or None)


def bad_param(param: str, reason: str) -> SimError:
    """Invalid input: names the parameter and why, as Deribit's ``data`` does."""
    return SimError(BAD_REQUEST, MESSAGES[BAD_REQUEST], {"param": param, "reason": reason})
