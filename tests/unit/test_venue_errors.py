"""The error table, read retries, write no-resend, the request budget and redaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import ccxt
import pytest

from bot.domain.ids import ClientOrderId, Symbol, VenueId
from bot.domain.orders import Ambiguous, OrderRequest, Rejected, Side
from bot.venues.errors import (
    ERROR_TABLE,
    UNKNOWN_ERROR,
    RetryPolicy,
    TokenBucket,
    WriteOutcome,
    classify,
    redact,
    retry_read,
    write_outcome,
)
from tests.contract.recorded import FakeTime, Harness, recorded_venue

REJECTED = [
    ccxt.InsufficientFunds,
    ccxt.InvalidOrder,
    ccxt.BadRequest,
    ccxt.AuthenticationError,
    ccxt.PermissionDenied,
    ccxt.BadSymbol,
    ccxt.OrderNotFound,
    ccxt.ArgumentsRequired,
]
AMBIGUOUS = [
    ccxt.RequestTimeout,
    ccxt.NetworkError,
    ccxt.ExchangeNotAvailable,
    ccxt.OnMaintenance,
    ccxt.ExchangeError,
    ccxt.DuplicateOrderId,
    ccxt.BadResponse,
    ccxt.DDoSProtection,
    TimeoutError,
]


def _all_ccxt_errors() -> list[type[BaseException]]:
    out: list[type[BaseException]] = []
    todo: list[type[BaseException]] = [ccxt.BaseError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(c for c in cls.__subclasses__() if c.__module__.startswith("ccxt"))
    return out


@pytest.mark.parametrize("error", REJECTED, ids=lambda c: c.__name__)
def test_definite_refusals_are_rejected(error: type[Exception]) -> None:
    """Venue refusals mean the order is definitely not live."""
    outcome = write_outcome(error("venue says no"))
    assert isinstance(outcome, Rejected)
    assert outcome.reason.startswith(error.__name__)


@pytest.mark.parametrize("error", AMBIGUOUS, ids=lambda c: c.__name__)
def test_unknown_outcomes_are_ambiguous(error: type[Exception]) -> None:
    """Timeouts, lost connections, maintenance and unclassified errors on a write are unknowns."""
    assert isinstance(write_outcome(error("lost")), Ambiguous)


def test_a_duplicate_client_id_means_the_first_send_landed() -> None:
    """DuplicateOrderId is an InvalidOrder to ccxt but evidence of a live order to us."""
    assert issubclass(ccxt.DuplicateOrderId, ccxt.InvalidOrder)
    assert classify(ccxt.DuplicateOrderId("dup")).on_write is WriteOutcome.AMBIGUOUS


def test_rate_limits_are_back_off_signals() -> None:
    """RateLimitExceeded and DDoSProtection ask for a longer wait on the next read."""
    for error in (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.OnMaintenance):
        rule = classify(error("slow down"))
        assert rule.backoff and rule.read_retryable


def test_unexpected_exceptions_are_ambiguous_and_not_retried() -> None:
    """An exception the table does not know is never read as a refusal."""
    assert classify(KeyError("x")) is UNKNOWN_ERROR
    assert isinstance(write_outcome(KeyError("x")), Ambiguous)
    assert not UNKNOWN_ERROR.read_retryable


def test_no_rule_is_shadowed_by_an_earlier_one() -> None:
    """A rule listed after one of its base classes could never match."""
    for i, early in enumerate(ERROR_TABLE):
        for late in ERROR_TABLE[i + 1 :]:
            assert not issubclass(late.error, early.error), (late.error, early.error)


def test_every_ccxt_error_has_an_explicit_rule() -> None:
    """Every ccxt exception class except the bare base and websocket ones is in the table."""
    skipped = {ccxt.BaseError, ccxt.UnsubscribeError}
    for error in _all_ccxt_errors():
        if error not in skipped:
            assert classify(error("x")) is not UNKNOWN_ERROR, error.__name__


def test_redact_masks_signatures_and_keys_in_urls() -> None:
    """Secret-looking query values are masked, others kept."""
    text = "GET https://x/eapi/v1/order?symbol=BTC&signature=abc123&apiKey=k1&timestamp=5"
    assert redact(text) == (
        "GET https://x/eapi/v1/order?symbol=BTC&signature=***&apiKey=***&timestamp=5"
    )


async def test_reads_retry_with_exponential_backoff_then_give_up() -> None:
    """A read that keeps timing out is tried 3 times, waiting 0.1 s then 0.2 s, then raises."""
    time = FakeTime()
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        raise ccxt.RequestTimeout("slow")

    with pytest.raises(ccxt.RequestTimeout):
        await retry_read(read, RetryPolicy(attempts=3, base_s=0.1, max_s=1.0), time.sleep)
    assert calls == 3
    assert time.slept == [pytest.approx(0.1), pytest.approx(0.2)]


async def test_backoff_errors_wait_longer_and_success_returns() -> None:
    """A 429 waits backoff_factor times longer; the next success is returned."""
    time = FakeTime()
    answers: list[Exception | int] = [ccxt.RateLimitExceeded("429"), 7]

    async def read() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    policy = RetryPolicy(attempts=3, base_s=0.1, max_s=5.0, backoff_factor=4.0)
    assert await retry_read(read, policy, time.sleep) == 7
    assert time.slept == [pytest.approx(0.4)]


async def test_refusals_are_not_retried() -> None:
    """An authentication error fails at once, without sleeping."""
    time = FakeTime()

    async def read() -> int:
        raise ccxt.AuthenticationError("bad key")

    with pytest.raises(ccxt.AuthenticationError):
        await retry_read(read, RetryPolicy(attempts=5), time.sleep)
    assert time.slept == []


async def test_token_bucket_spends_burst_then_waits_for_refill() -> None:
    """Capacity 2 at 1/s: two requests pass, the third waits one second."""
    time = FakeTime()
    bucket = TokenBucket(2, 1.0, time.monotonic, time.sleep)
    await bucket.acquire()
    await bucket.acquire()
    assert time.slept == []
    assert bucket.wait_s() == pytest.approx(1.0)
    await bucket.acquire()
    assert time.slept == [pytest.approx(1.0)]


def test_token_bucket_refuses_nonsense() -> None:
    """Zero capacity, zero rate and over-capacity costs are errors."""
    time = FakeTime()
    with pytest.raises(ValueError, match="capacity"):
        TokenBucket(0, 1.0, time.monotonic, time.sleep)
    with pytest.raises(ValueError, match="rate_per_s"):
        TokenBucket(1, 0.0, time.monotonic, time.sleep)


@pytest.fixture
async def deribit() -> AsyncIterator[Harness]:
    venue, rec, _clock = recorded_venue("deribit", "deribit-a")
    rec.on("GET /api/v2/public/get_instruments", "get_instruments")
    rec.on("GET /api/v2/public/get_currencies", "get_currencies")
    yield venue, rec
    await venue.close()


REQUEST = OrderRequest(
    ClientOrderId("db-x"), VenueId("deribit-a"), Symbol("BTC/USD:BTC"), Side.BUY, 100.0
)


async def test_a_timed_out_order_is_sent_once_and_ambiguous(deribit: Harness) -> None:
    """Even with ccxt's retry option raised, a timed-out buy goes out exactly once."""
    venue, rec = deribit

    def timeout(_params: dict[str, str]) -> tuple[int, object]:
        raise ccxt.RequestTimeout("deribit GET /api/v2/private/buy")

    rec.on("GET /api/v2/private/buy", timeout)
    venue.client.options["maxRetriesOnFailure"] = 3
    outcome = await venue.create_order(REQUEST)
    assert isinstance(outcome, Ambiguous)
    assert rec.paths().count("/api/v2/private/buy") == 1
    assert venue.client.options["maxRetriesOnFailure"] == 0


async def test_every_http_request_pays_the_budget(deribit: Harness) -> None:
    """ccxt's throttle hook draws one token per request, at ccxt's per-endpoint cost."""
    venue, rec = deribit
    assert venue.client.throttle.__self__ is venue
    before = venue.budget.tokens
    await venue.load_instruments()
    assert sorted(rec.paths()) == [
        "/api/v2/public/get_currencies",
        "/api/v2/public/get_instruments",
    ]
    assert venue.budget.tokens == pytest.approx(before - 2)


async def test_aiohttp_resend_is_switched_off_before_the_first_request(deribit: Harness) -> None:
    """After any request the ccxt session no longer repeats GETs on a dropped connection."""
    venue, _rec = deribit
    await venue.load_instruments()
    assert venue.client.session._retry_connection is False


async def test_orders_pay_their_own_budget_so_a_burst_of_reads_never_delays_a_hedge(
    deribit: Harness,
) -> None:
    """Deribit keeps matching-engine credits apart: with the read budget spent, an order goes
    out at once and pays one order credit, and reads keep theirs."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/buy", "buy_perp_filled")
    await venue.load_instruments()
    venue.budget.drain()
    orders_before = venue.order_budget.tokens
    outcome = await venue.create_order(REQUEST)
    assert not isinstance(outcome, Rejected)
    assert venue.order_budget.tokens == pytest.approx(orders_before - 1)
    assert venue.budget.tokens == pytest.approx(0.0)  # no time passed: nothing slept for it


async def test_too_many_requests_on_an_order_empties_the_order_budget(deribit: Harness) -> None:
    """Deribit 10028 on a send is never retried (looked up instead) and the next order waits
    for the credits to refill: the order budget is emptied."""
    venue, rec = deribit
    rec.on("GET /api/v2/private/buy", "error_too_many_requests", status=429)
    await venue.load_instruments()
    outcome = await venue.create_order(REQUEST)
    assert isinstance(outcome, Ambiguous)
    assert rec.paths().count("/api/v2/private/buy") == 1
    assert venue.order_budget.tokens <= 0.0


def test_a_drained_budget_waits_for_a_full_credit() -> None:
    """After drain, the next request waits cost / rate seconds: 2 s for 1 token at 0.5/s."""
    fake = FakeTime()
    bucket = TokenBucket(10, 0.5, fake.monotonic, fake.sleep)
    bucket.drain()
    assert bucket.wait_s(1.0) == pytest.approx(2.0)
    fake.now_s += 2.0
    assert bucket.wait_s(1.0) == pytest.approx(0.0)
