"""Binance USDⓈ-M request-weight and order-count limits, on the wall clock.

fapi/v1/exchangeInfo ``rateLimits``: REQUEST_WEIGHT 2,400 a minute (per IP),
ORDERS 1,200 a minute and 300 per 10 seconds (per account). Windows are fixed
and aligned to the clock, as Binance counts them. Every answer reports the
weight used (``X-MBX-USED-WEIGHT-1M``) and orders counted
(``X-MBX-ORDER-COUNT-1M``); a request over a limit is refused with HTTP 429,
``-1003``/``-1015`` and ``Retry-After`` (seconds to the window's end) and is
not executed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.sim.binance_errors import TOO_MANY_ORDERS, TOO_MANY_REQUESTS, BinanceError, binance_error

MINUTE_MS = 60_000
TEN_SECONDS_MS = 10_000


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits exchangeInfo publishes (lowered in tests to reach them quickly)."""

    weight_per_minute: int = 2_400
    orders_per_minute: int = 1_200
    orders_per_10s: int = 300

    def rate_limits(self) -> list[dict[str, object]]:
        """exchangeInfo's ``rateLimits`` array."""
        return [
            _limit("REQUEST_WEIGHT", "MINUTE", 1, self.weight_per_minute),
            _limit("ORDERS", "MINUTE", 1, self.orders_per_minute),
            _limit("ORDERS", "SECOND", 10, self.orders_per_10s),
        ]


def _limit(kind: str, interval: str, num: int, limit: int) -> dict[str, object]:
    return {"rateLimitType": kind, "interval": interval, "intervalNum": num, "limit": limit}


class _Window:
    """A fixed window of ``length_ms`` counting units up to ``limit``."""

    def __init__(self, length_ms: int, limit: int) -> None:
        self.length_ms, self.limit = length_ms, limit
        self.start_ms, self.used = 0, 0

    def roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % self.length_ms
        if start != self.start_ms:
            self.start_ms, self.used = start, 0

    def retry_after_s(self, now_ms: int) -> int:
        return max(1, math.ceil((self.start_ms + self.length_ms - now_ms) / 1000))


class RateMeter:
    """Counts one emulator's request weight and its accounts' orders."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._weight = _Window(MINUTE_MS, self.limits.weight_per_minute)
        self._orders: dict[str, tuple[_Window, _Window]] = {}

    def charge(self, now_ms: int, weight: int) -> int:
        """Count ``weight``; the weight used this minute, or 429 ``-1003`` over the limit."""
        w = self._weight
        w.roll(now_ms)
        if w.used + weight > w.limit:
            raise _too_many(binance_error(TOO_MANY_REQUESTS, w.limit), w.retry_after_s(now_ms))
        w.used += weight
        return w.used

    def count_order(self, now_ms: int, api_key: str) -> int:
        """Count one new order of ``api_key``; its orders this minute, or 429 ``-1015``."""
        minute, ten = self._orders.setdefault(
            api_key,
            (
                _Window(MINUTE_MS, self.limits.orders_per_minute),
                _Window(TEN_SECONDS_MS, self.limits.orders_per_10s),
            ),
        )
        for window, name in ((minute, "MINUTE"), (ten, "10 SECONDS")):
            window.roll(now_ms)
            if window.used + 1 > window.limit:
                error = binance_error(TOO_MANY_ORDERS, window.limit, name)
                raise _too_many(error, window.retry_after_s(now_ms))
        minute.used += 1
        ten.used += 1
        return minute.used

    @property
    def weight_used(self) -> int:
        return self._weight.used


def _too_many(error: BinanceError, retry_after_s: int) -> BinanceError:
    return BinanceError(error.code, error.msg, 429, retry_after_s)
