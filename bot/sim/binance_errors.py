"""Binance USDⓈ-M error codes and the engine's (Deribit-coded) refusals in Binance's words.

Codes and messages are Binance's "Error Codes" page for USDⓈ-M futures
(developers.binance.com, derivatives/usds-margined-futures/error-code). The
engine raises :class:`~bot.sim.errors.SimError` with Deribit codes; the Binance
facade answers with :func:`from_engine`, so ccxt's ``binanceusdm`` raises the
same exception classes as against fapi.binance.com.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sim import errors as deribit

UNKNOWN = -1000
TOO_MANY_REQUESTS = -1003
TOO_MANY_ORDERS = -1015
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
MANDATORY_PARAM = -1102
BAD_PRECISION = -1111
INVALID_TIF = -1115
INVALID_ORDER_TYPE = -1116
INVALID_SIDE = -1117
BAD_SYMBOL = -1121
INVALID_PARAMETER = -1130
BAD_RECV_WINDOW = -1131
NEW_ORDER_REJECTED = -2010
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015
MARGIN_NOT_SUFFICIENT = -2019
REDUCE_ONLY_REJECT = -2022
INVALID_QUANTITY = -4003
PRICE_NOT_ON_TICK = -4014
NO_NEED_TO_CHANGE_MARGIN_TYPE = -4046
DUPLICATED_CLIENT_ORDER_ID = -4116
MIN_NOTIONAL = -4164
GTX_ORDER_REJECT = -5022

MESSAGES: dict[int, str] = {
    UNKNOWN: "An unknown error occurred while processing the request.",
    TOO_MANY_REQUESTS: "Too many requests; current limit is %s requests per minute.",
    TOO_MANY_ORDERS: "Too many new orders; current limit is %s orders per %s.",
    INVALID_TIMESTAMP: "Timestamp for this request is outside of the recvWindow.",
    INVALID_SIGNATURE: "Signature for this request is not valid.",
    MANDATORY_PARAM: "Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
    BAD_PRECISION: "Precision is over the maximum defined for this asset.",
    INVALID_TIF: "Invalid timeInForce.",
    INVALID_ORDER_TYPE: "Invalid orderType.",
    INVALID_SIDE: "Invalid side.",
    BAD_SYMBOL: "Invalid symbol.",
    INVALID_PARAMETER: "Invalid data sent for a parameter.",
    BAD_RECV_WINDOW: "recvWindow must be less than 60000",
    NEW_ORDER_REJECTED: "NEW_ORDER_REJECTED",
    CANCEL_REJECTED: "Unknown order sent.",
    NO_SUCH_ORDER: "Order does not exist.",
    BAD_API_KEY_FMT: "API-key format invalid.",
    REJECTED_MBX_KEY: "Invalid API-key, IP, or permissions for action.",
    MARGIN_NOT_SUFFICIENT: "Margin is insufficient.",
    REDUCE_ONLY_REJECT: "ReduceOnly Order is rejected.",
    INVALID_QUANTITY: "Quantity less than or equal to zero.",
    PRICE_NOT_ON_TICK: "Price not increased by tick size.",
    NO_NEED_TO_CHANGE_MARGIN_TYPE: "No need to change margin type.",
    DUPLICATED_CLIENT_ORDER_ID: "ClientOrderId is duplicated.",
    MIN_NOTIONAL: "Order's notional must be no smaller than %s (unless you choose reduce only).",
    GTX_ORDER_REJECT: (
        "Due to the order could not be executed as maker, the Post Only order will be rejected. "
        "The order will not be recorded in the order history"
    ),
}


@dataclass(frozen=True, slots=True)
class BinanceError(Exception):
    """A refusal in Binance's shape: ``{"code": code, "msg": msg}`` with an HTTP status."""

    code: int
    msg: str
    status: int = 400
    retry_after_s: int | None = None

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


HTTP_STATUS: dict[int, int] = {TOO_MANY_REQUESTS: 429, TOO_MANY_ORDERS: 429, UNKNOWN: 503}
"""The HTTP status Binance answers a code with when not 400 ("HTTP Return Codes": 429 rate
limit; 503 with "Unknown error": sent, execution status unknown)."""


def binance_error(code: int, *args: object, status: int | None = None) -> BinanceError:
    """The error ``code`` with Binance's message, ``%s`` filled from ``args``; ``status``
    defaults to the code's own (:data:`HTTP_STATUS`, else 400)."""
    template = MESSAGES.get(code, "injected error")
    msg = template % args if args else template.replace("%s", "?")
    return BinanceError(code, msg, HTTP_STATUS.get(code, 400) if status is None else status)


_FROM_DERIBIT: dict[int, int] = {
    deribit.NOT_ENOUGH_FUNDS: MARGIN_NOT_SUFFICIENT,
    deribit.POST_ONLY_REJECT: GTX_ORDER_REJECT,
    deribit.OTHER_REJECT: REDUCE_ONLY_REJECT,  # the engine's only other_reject is reduce-only
    deribit.QTY_TOO_LOW: INVALID_QUANTITY,
    deribit.INVALID_AMOUNT: BAD_PRECISION,
    deribit.PRICE_WRONG_TICK: PRICE_NOT_ON_TICK,
    deribit.INVALID_PRICE: MANDATORY_PARAM,
    deribit.INVALID_INSTRUMENT: BAD_SYMBOL,
    deribit.BOOK_CLOSED: BAD_SYMBOL,
    deribit.ORDER_NOT_FOUND: NO_SUCH_ORDER,
    deribit.ALREADY_FILLED: CANCEL_REJECTED,
    deribit.ALREADY_CLOSED: CANCEL_REJECTED,
    deribit.BAD_REQUEST: INVALID_PARAMETER,
    deribit.POST_ONLY_NOT_ALLOWED: INVALID_TIF,
}


def from_engine(exc: deribit.SimError) -> BinanceError:
    """Binance's answer to an engine refusal; the engine's reason rides in the message."""
    code = _FROM_DERIBIT.get(exc.code, UNKNOWN)
    data = exc.data or {}
    base = binance_error(code, data.get("param", "?")) if "%s" in MESSAGES[code] else None
    base = base or binance_error(code)
    reason = data.get("reason")
    status = 500 if code == UNKNOWN else 400
    return BinanceError(code, f"{base.msg} ({reason})" if reason else base.msg, status)
