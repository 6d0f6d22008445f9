"""Serve recorded venue payloads to a real ccxt client, offline.

The ccxt client is built exactly as production builds it; only its ``fetch``
(the one method that does HTTP) is replaced. ccxt still signs, routes and
parses, and error payloads still go through ccxt's own ``handle_errors``, so a
test exercises the real parser on bytes shaped as the venue documents them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "venues"

Responder = Callable[[dict[str, str]], tuple[int, Any]]
"""Builds (HTTP status, JSON body) from the request's parameters."""


def load(exchange: str, name: str) -> Any:
    """One recorded payload, ``tests/fixtures/venues/<exchange>/<name>.json``."""
    return json.loads((FIXTURES / exchange / f"{name}.json").read_text())


@dataclass
class Route:
    method: str
    path: str
    query: Mapping[str, str]
    respond: Responder


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


def _params(url: str, body: Any) -> dict[str, str]:
    params = dict(parse_qsl(urlsplit(url).query))
    if isinstance(body, str) and body:
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = dict(parse_qsl(body))
        if isinstance(decoded, dict):
            params.update({k: str(v) for k, v in decoded.items()})
    return params


@dataclass
class RecordedExchange:
    """A fake ``fetch`` for one ccxt client: routes by method, path and query subset."""

    client: Any
    routes: list[Route] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client.fetch = self.fetch

    def on(self, spec: str, respond: Responder | str | Any, status: int = 200) -> None:
        """Serve ``respond`` for ``"GET /path?k=v"`` (query keys must match; others ignored).

        ``respond`` is a fixture name, a JSON value, or a function of the params.
        """
        method, _, target = spec.partition(" ")
        parts = urlsplit(target)
        body = load(self.client.id, respond) if isinstance(respond, str) else respond

        def fixed(_params: dict[str, str]) -> tuple[int, Any]:
            return status, body

        responder: Responder = respond if callable(respond) else fixed
        self.routes.insert(0, Route(method, parts.path, dict(parse_qsl(parts.query)), responder))

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        path = urlsplit(url).path
        params = _params(url, body)
        self.calls.append(Call(method, path, params, dict(headers or {})))
        for route in self.routes:
            if (
                route.method == method
                and route.path == path
                and all(params.get(k) == v for k, v in route.query.items())
            ):
                status, payload = route.respond(params)
                break
        else:
            raise AssertionError(f"no recorded response for {method} {path} {params}")
        text = json.dumps(payload)
        self.client.handle_errors(status, "", url, method, {}, text, payload, headers, body)
        self.client.handle_http_status_code(status, "", url, method, text)
        return payload


Harness = tuple[Any, RecordedExchange]
"""A recorded-payload venue and its fake exchange, as the test fixtures yield them."""

START_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: the recorded payloads' 'now'."""


class FakeTime:
    """Monotonic seconds that move only when something sleeps: budgets and retries run instantly."""

    def __init__(self) -> None:
        self.now_s = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_s += seconds


def recorded_venue(exchange: str, venue: str | None = None) -> tuple[Any, RecordedExchange, Any]:
    """A :class:`CcxtVenue` over a production-built ccxt client serving recorded payloads.

    Returns (venue, recorded exchange, manual clock at :data:`START_MS`).
    """
    from pydantic import SecretStr

    from bot.clock import ManualClock
    from bot.domain.ids import VenueId
    from bot.secrets import VenueCredentials
    from bot.venues.ccxt_venue import CcxtVenue
    from bot.venues.clients import ccxt_client
    from bot.venues.errors import RetryPolicy, TokenBucket
    from bot.venues.normalise import normaliser_for

    creds = VenueCredentials(SecretStr("test-key"), SecretStr("test-secret"), SecretStr("pass"))
    client = ccxt_client(exchange, credentials=creds)
    recorded = RecordedExchange(client)
    clock = ManualClock(START_MS)
    fake = FakeTime()
    normaliser = normaliser_for(exchange)
    order_rate = normaliser.order_rate
    adapter = CcxtVenue(
        VenueId(venue or f"{exchange}-a"),
        client,
        normaliser,
        account="main",
        budget=TokenBucket(100, 50, fake.monotonic, fake.sleep),
        order_budget=None
        if order_rate is None
        else TokenBucket(*order_rate, fake.monotonic, fake.sleep),
        clock_ms=clock.now_ms,
        retry=RetryPolicy(attempts=3, base_s=0.1, max_s=1.0),
        sleep=fake.sleep,
    )
    return adapter, recorded, clock
