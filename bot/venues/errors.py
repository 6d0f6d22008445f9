"""The one place that decides what a ccxt exception means, and the request budget.

A write that fails is either **Rejected** (the venue refused it or it never
left the process: it is definitely not live) or **Ambiguous** (it may be live:
look it up by client id, never resend). When in doubt it is Ambiguous: a
wrongly Rejected order that is in fact live is how a hedger doubles its
position. Reads may be retried with bounded exponential backoff; writes never
are, by us or by ccxt (``maxRetriesOnFailure`` = 0, see :func:`no_write_retries`).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeVar

import aiohttp
import ccxt

from bot.domain.orders import Ambiguous, Rejected
from bot.secrets import looks_secret

T = TypeVar("T")


class WriteOutcome(StrEnum):
    REJECTED = "rejected"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """What one ccxt exception class means for a write and for a read."""

    error: type[BaseException]
    on_write: WriteOutcome
    read_retryable: bool
    backoff: bool
    """The venue asked us to slow down: wait longer before the next request."""
    why: str


_R, _A = WriteOutcome.REJECTED, WriteOutcome.AMBIGUOUS

ERROR_TABLE: Final[tuple[ErrorRule, ...]] = (
    # Most specific first: the first isinstance match wins.
    ErrorRule(ccxt.DuplicateOrderId, _A, False, False, "an order with this id exists: look it up"),
    ErrorRule(ccxt.OrderNotFound, _R, False, False, "the venue has no such order"),
    ErrorRule(ccxt.InsufficientFunds, _R, False, False, "refused for margin"),
    ErrorRule(ccxt.InvalidOrder, _R, False, False, "refused as invalid"),
    ErrorRule(ccxt.BadSymbol, _R, False, False, "unknown instrument"),
    ErrorRule(ccxt.AuthenticationError, _R, False, False, "credentials refused"),
    ErrorRule(ccxt.ArgumentsRequired, _R, False, False, "refused by ccxt before sending"),
    ErrorRule(ccxt.NotSupported, _R, False, False, "refused by ccxt before sending"),
    ErrorRule(ccxt.InvalidAddress, _R, False, False, "address refused"),
    ErrorRule(ccxt.OperationRejected, _R, False, False, "refused by the venue"),
    ErrorRule(ccxt.BadRequest, _R, False, False, "refused as a bad request"),
    ErrorRule(ccxt.ExchangeClosedByUser, _R, False, False, "client closed before sending"),
    ErrorRule(ccxt.InvalidProxySettings, _R, False, False, "refused by ccxt before sending"),
    # Venues refuse a rate-limited request before processing it (HTTP 429).
    ErrorRule(ccxt.RateLimitExceeded, _R, True, True, "rate limited"),
    # An edge (CDN) error may come back after the origin acted.
    ErrorRule(ccxt.DDoSProtection, _A, True, True, "blocked at the venue's edge"),
    ErrorRule(ccxt.InvalidNonce, _R, True, False, "signature nonce refused"),
    ErrorRule(ccxt.RequestTimeout, _A, True, False, "no answer in time"),
    ErrorRule(ccxt.OnMaintenance, _A, True, True, "venue in maintenance"),
    ErrorRule(ccxt.ExchangeNotAvailable, _A, True, False, "connection failed or dropped"),
    ErrorRule(ccxt.NetworkError, _A, True, False, "network failure"),
    ErrorRule(ccxt.BadResponse, _A, True, False, "answer could not be parsed"),
    ErrorRule(ccxt.CancelPending, _A, True, False, "cancel still pending"),
    ErrorRule(ccxt.OperationFailed, _A, True, False, "operation failed"),
    ErrorRule(ccxt.ExchangeError, _A, False, False, "unclassified venue error"),
    ErrorRule(TimeoutError, _A, True, False, "no answer in time"),
)

UNKNOWN_ERROR: Final = ErrorRule(Exception, _A, False, False, "unexpected error")
"""Anything not in the table: a write is Ambiguous, a read is not retried."""


def classify(exc: BaseException) -> ErrorRule:
    """The first rule of :data:`ERROR_TABLE` that ``exc`` is an instance of."""
    return next((rule for rule in ERROR_TABLE if isinstance(exc, rule.error)), UNKNOWN_ERROR)


_QUERY_PAIR = re.compile(r"([?&])([^=&#\s]+)=([^&#\s]*)")


def redact(message: str) -> str:
    """``message`` with the values of secret-looking query parameters masked.

    ccxt error texts include request URLs; Binance signs in the query string.
    """

    def mask(m: re.Match[str]) -> str:
        return m.group(0) if not looks_secret(m.group(2)) else f"{m.group(1)}{m.group(2)}=***"

    return _QUERY_PAIR.sub(mask, message)


def describe(exc: BaseException, limit: int = 300) -> str:
    """``ClassName: message`` of an exception, redacted and cut to ``limit`` characters."""
    text = redact(f"{type(exc).__name__}: {exc}")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def write_outcome(exc: BaseException) -> Rejected | Ambiguous:
    """The outcome of a write that raised ``exc`` (never raises itself)."""
    rule = classify(exc)
    reason = f"{describe(exc)} ({rule.why})"
    return Rejected(reason) if rule.on_write is WriteOutcome.REJECTED else Ambiguous(reason)


def no_write_retries(client: Any) -> None:
    """Make sure ccxt itself never repeats a request.

    ccxt's ``fetch2`` loops ``maxRetriesOnFailure`` times on OperationFailed,
    which includes timeouts: a resent order. The default is 0 but any option or
    call param could raise it, so it is pinned here and checked on every write.
    """
    client.options["maxRetriesOnFailure"] = 0
    client.options["maxRetriesOnFailureDelay"] = 0


def no_resent_requests(client: Any) -> None:
    """Stop aiohttp from silently resending a request when the server drops the connection.

    aiohttp repeats "idempotent" methods (GET included) once after a server
    disconnect on a kept-alive connection, and ccxt places Deribit orders with
    GET: a lost reply would become a second order. ``_retry_connection`` is the
    session switch aiohttp's own test client turns off; if a future aiohttp
    drops it, this raises rather than trade without the guard. Needs a running
    event loop (ccxt creates its session lazily).
    """
    if "_retry_connection" not in getattr(aiohttp.ClientSession, "ATTRS", ()):
        raise RuntimeError(
            f"aiohttp {aiohttp.__version__} has no ClientSession._retry_connection: "
            "cannot stop it from resending orders after a dropped connection"
        )
    if client.session is None:
        client.open()
    client.session._retry_connection = False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff for reads: ``base_s``, 2·``base_s``, ... up to ``max_s``."""

    attempts: int = 3
    base_s: float = 0.2
    max_s: float = 5.0
    backoff_factor: float = 4.0
    """Extra multiplier when the venue asked us to slow down."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")
        if not (0 <= self.base_s <= self.max_s and math.isfinite(self.max_s)):
            raise ValueError("RetryPolicy needs 0 <= base_s <= max_s < inf")

    def delay_s(self, attempt: int, rule: ErrorRule) -> float:
        """Wait before retry number ``attempt`` (1-based) after an error matching ``rule``."""
        factor = self.backoff_factor if rule.backoff else 1.0
        return min(self.max_s, self.base_s * factor * 2.0 ** (attempt - 1))


Sleep = Callable[[float], Awaitable[None]]


async def retry_read(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    on_slow_down: Callable[[BaseException], None] = lambda exc: None,
) -> T:
    """``await call()``, retried on retryable errors up to ``policy.attempts`` times in all.

    Only for reads: a read repeated is harmless. The last error propagates. When the
    venue asks us to slow down (a rule with ``backoff``: rate limited, 10028),
    ``on_slow_down`` runs first with the error, e.g. to empty the request budget.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except Exception as exc:
            rule = classify(exc)
            if rule.backoff:
                on_slow_down(exc)
            if not rule.read_retryable or attempt == policy.attempts:
                raise
            await sleep(policy.delay_s(attempt, rule))
    raise AssertionError("unreachable: the loop returns or raises")


class TokenBucket:
    """A venue's request budget: ``capacity`` requests at once, ``rate_per_s`` refilled.

    ``clock`` returns monotonic seconds and ``sleep`` waits; both are injected
    so tests drive time by hand. Acquiring before every request, reads and
    writes alike, keeps the bot under the venue's limit instead of learning
    it from a 429.
    """

    def __init__(
        self, capacity: float, rate_per_s: float, clock: Callable[[], float], sleep: Sleep
    ) -> None:
        if not (capacity >= 1 and math.isfinite(capacity)):
            raise ValueError(f"TokenBucket capacity must be >= 1, got {capacity}")
        if not (rate_per_s > 0 and math.isfinite(rate_per_s)):
            raise ValueError(f"TokenBucket rate_per_s must be > 0, got {rate_per_s}")
        self.capacity = float(capacity)
        self.rate_per_s = float(rate_per_s)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def wait_s(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available (0 if they are now)."""
        self._refill()
        return max(0.0, (cost - self._tokens) / self.rate_per_s)

    def drain(self) -> None:
        """Spend every token: the venue said we were too fast (Deribit 10028 ends the
        session), so the next request waits for the credits to refill."""
        self._refill()
        self._tokens = min(self._tokens, 0.0)

    async def acquire(self, cost: float = 1.0) -> None:
        """Take ``cost`` tokens, sleeping until they have refilled; callers queue in order."""
        if not 0 < cost <= self.capacity:
            raise ValueError(f"cost must be in (0, {self.capacity}], got {cost}")
        async with self._lock:
            while (wait := self.wait_s(cost)) > 0:
                await self._sleep(wait)
            self._tokens -= cost
