"""Build the configured venues for the run mode (docs/architecture.md §6).

- ``sim``: ccxt ``deribit`` aimed at the Deribit emulator on loopback. The
  daemon starts the emulators and passes each venue's :class:`SimEndpoint`
  (URL and the simulated account's key pair, which guard fake money only).
- ``paper``: a :class:`PaperVenue` over a ccxt client that is never given
  credentials; orders fill locally against the real bid/ask.
- ``sandbox``: the exchange testnet. ccxt's ``set_sandbox_mode(True)`` runs
  before any ``api_url`` override; keys come from
  ``DELTABOT_VENUE_<NAME>_TESTNET_API_KEY`` / ``_TESTNET_API_SECRET`` (and
  ``_TESTNET_API_PASSWORD`` for OKX).
- ``live``: real money. Refuses to start unless the config says
  ``mode = "live"`` **and** the environment carries
  ``DELTABOT_LIVE_CONFIRM=yes-trade-real-money`` (a second, deliberate act
  that a copied config file cannot perform). Keys come from
  ``DELTABOT_VENUE_<NAME>_API_KEY`` / ``_API_SECRET``.

Keys reach the ccxt client and nothing else. Testnet keys aimed at a mainnet
host, or live keys at a testnet host, stop the start with a message saying
which (see :func:`bot.venues.clients.check_network`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

from bot.config import Config, Mode, VenueConfig
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.paper_book import PaperBook
from bot.secrets import CredentialsError, VenueCredentials, credential_vars, venue_credentials
from bot.venues.base import StartupError, Venue
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.clients import ccxt_client, check_network
from bot.venues.errors import Sleep, TokenBucket
from bot.venues.normalise import Normaliser, normaliser_for
from bot.venues.paper import MarginOf, PaperVenue
from bot.venues.stream import DeribitEvents, VenueStream

LIVE_CONFIRM_VAR = "DELTABOT_LIVE_CONFIRM"
LIVE_CONFIRM_VALUE = "yes-trade-real-money"


@dataclass(frozen=True, slots=True)
class SimEndpoint:
    """Where one venue's emulator listens, and the simulated account's key pair."""

    base_url: str
    credentials: VenueCredentials


@dataclass(frozen=True, slots=True)
class Runtime:
    """The shell's time sources (wall clock for stamps, monotonic clock for the budget) and
    where a venue reports being rate limited."""

    clock_ms: Callable[[], int]
    monotonic_s: Callable[[], float] = time.monotonic
    sleep: Sleep = asyncio.sleep
    on_rate_limited: Callable[[VenueId, str], None] | None = None
    """Told ``(venue, error)`` whenever a venue asks us to slow down (the daemon alerts)."""


@dataclass(frozen=True, slots=True)
class PaperSettings:
    """Starting cash per currency of each paper venue (absent: none), the fee rate and the
    declared book."""

    cash: Mapping[VenueId, Mapping[Currency, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    taker_fee_rate: float = 0.0005
    book: Mapping[VenueId, Mapping[Symbol, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """The declared book (shadow paper) per venue: symbol to signed size."""
    restore: Callable[[VenueId], PaperBook | None] = lambda _venue: None
    """What a venue held when the daemon last stopped (the journal's ``paper`` store)."""
    save: Callable[[VenueId, PaperBook], None] | None = None
    """Where each change of a paper venue's book goes (the journal)."""
    margin: Callable[[VenueId], MarginOf | None] = lambda _venue: None
    """The margin model of each paper venue (``[margin]``; None: margin reported as 0)."""


def live_confirmation_problem(mode: Mode, environ: Mapping[str, str]) -> str | None:
    """Why live trading may not start here (no explicit confirmation); None when it may."""
    if mode is Mode.LIVE and environ.get(LIVE_CONFIRM_VAR) != LIVE_CONFIRM_VALUE:
        return (
            f"mode is live: trading real money needs {LIVE_CONFIRM_VAR}={LIVE_CONFIRM_VALUE} "
            "in the environment"
        )
    return None


def check_live_confirmation(mode: Mode, environ: Mapping[str, str]) -> None:
    """Refuse live trading without the explicit environment confirmation."""
    problem = live_confirmation_problem(mode, environ)
    if problem is not None:
        raise StartupError(problem)


def venue_problem(venue: VenueConfig, mode: Mode, environ: Mapping[str, str]) -> str | None:
    """Why ``venue`` cannot be built for ``mode``, found without any network; None when it can.

    A half-set key pair is refused in every mode; sandbox and live need the pair
    and hosts of the keys' own network (ccxt's URL tables, after ``api_url``).
    ``check-config`` and ``run`` ask this same question before anything starts.
    """
    try:
        credentials = venue_credentials(venue.name, testnet=venue.testnet, environ=environ)
    except CredentialsError as exc:
        return str(exc)
    if mode in (Mode.SIM, Mode.PAPER):
        return None
    if credentials is None:
        names = credential_vars(venue.name, testnet=venue.testnet)
        return f"mode {mode.value} needs credentials: set {names.api_key} and {names.api_secret}"
    exchange = venue.exchange.value
    client = ccxt_client(exchange, testnet=venue.testnet, api_url=venue.api_url)
    try:
        check_network(exchange, client, testnet=venue.testnet)
    except StartupError as exc:
        return str(exc)
    return None


def _budget(client: object, runtime: Runtime) -> TokenBucket:
    """The venue's documented rate as ccxt encodes it: one cost unit per ``rateLimit`` ms."""
    rate = 1000.0 / float(getattr(client, "rateLimit", 100) or 100)
    return TokenBucket(max(1.0, rate), rate, runtime.monotonic_s, runtime.sleep)


def _order_budget(normaliser: Normaliser, runtime: Runtime) -> TokenBucket | None:
    """The venue's separate budget for order requests, when it keeps one (Deribit)."""
    if normaliser.order_rate is None:
        return None
    burst, rate = normaliser.order_rate
    return TokenBucket(burst, rate, runtime.monotonic_s, runtime.sleep)


def _ccxt_venue(venue: VenueConfig, client: object, runtime: Runtime) -> CcxtVenue:
    normaliser = normaliser_for(venue.exchange.value)
    return CcxtVenue(
        venue.name,
        client,
        normaliser,
        account=venue.account,
        budget=_budget(client, runtime),
        order_budget=_order_budget(normaliser, runtime),
        clock_ms=runtime.clock_ms,
        sleep=runtime.sleep,
        subaccounts=venue.subaccounts,
        subaccount_wallet=venue.subaccount_wallet,
        on_rate_limited=runtime.on_rate_limited,
    )


def build_venue(
    venue: VenueConfig,
    mode: Mode,
    environ: Mapping[str, str],
    runtime: Runtime,
    *,
    sim: SimEndpoint | None = None,
    paper: PaperSettings | None = None,
) -> Venue:
    """One venue for ``mode`` of a validated config (which refuses a venue its mode cannot
    use); StartupError says what is missing or unsafe."""
    problem = venue_problem(venue, mode, environ)
    if problem is not None:
        raise StartupError(f"venue {venue.name}: {problem}")
    exchange = venue.exchange.value
    if mode is Mode.SIM:
        if sim is None:
            raise StartupError(f"venue {venue.name}: mode sim needs the emulator's URL")
        client = ccxt_client(exchange, credentials=sim.credentials, api_url=sim.base_url)
        return _ccxt_venue(venue, client, runtime)
    if mode is Mode.PAPER:
        settings = paper or PaperSettings()
        public = ccxt_client(exchange, testnet=venue.testnet, api_url=venue.api_url)
        return PaperVenue(
            venue.name,
            _ccxt_venue(venue, public, runtime),
            starting_cash=settings.cash.get(venue.name, {}),
            clock_ms=runtime.clock_ms,
            account=venue.account,
            taker_fee_rate=settings.taker_fee_rate,
            starting_positions=settings.book.get(venue.name, {}),
            restored=settings.restore(venue.name),
            on_change=None if settings.save is None else partial(settings.save, venue.name),
            margin=settings.margin(venue.name),
        )
    check_live_confirmation(mode, environ)
    credentials = venue_credentials(venue.name, testnet=venue.testnet, environ=environ)
    assert credentials is not None  # venue_problem refuses a mode that trades without them
    client = ccxt_client(
        exchange,
        credentials=credentials,
        testnet=venue.testnet,
        api_url=venue.api_url,
    )
    return _ccxt_venue(venue, client, runtime)


def build_venues(
    config: Config,
    environ: Mapping[str, str],
    runtime: Runtime,
    *,
    sim_endpoints: Mapping[VenueId, SimEndpoint] | None = None,
    paper: PaperSettings | None = None,
) -> dict[VenueId, Venue]:
    """Every configured venue; nothing is built if one of them cannot be."""
    check_live_confirmation(config.mode, environ)
    endpoints = sim_endpoints or {}
    return {
        v.name: build_venue(
            v, config.mode, environ, runtime, sim=endpoints.get(v.name), paper=paper
        )
        for v in config.venues
    }


def build_streams(
    config: Config,
    environ: Mapping[str, str],
    *,
    sim_endpoints: Mapping[VenueId, SimEndpoint] | None = None,
) -> dict[VenueId, VenueStream]:
    """The event stream of every venue ``[stream]`` streams (none in mode paper: its account
    is local), on the same hosts and keys as its REST client."""
    if config.mode is Mode.PAPER:
        return {}
    stream = config.stream
    underlyings = tuple(dict.fromkeys(Currency(h.underlying) for h in config.hedges))
    streams = {}
    for venue in config.venues:
        if not stream.streams(venue.name, venue.exchange.value):
            continue
        exchange = venue.exchange.value
        sim = (sim_endpoints or {}).get(venue.name)
        if config.mode is Mode.SIM:
            if sim is None:
                raise StartupError(f"venue {venue.name}: mode sim needs the emulator's URL")
            client = ccxt_client(
                exchange, credentials=sim.credentials, api_url=sim.base_url, make=DeribitEvents
            )
        else:
            credentials = venue_credentials(venue.name, testnet=venue.testnet, environ=environ)
            client = ccxt_client(
                exchange,
                credentials=credentials,
                testnet=venue.testnet,
                api_url=venue.api_url,
                make=DeribitEvents,
            )
        streams[venue.name] = VenueStream(
            venue.name,
            client,
            underlyings,
            heartbeat_s=round(stream.stale_after_s / 3),
            reconnect_min_s=stream.reconnect_min_s,
            reconnect_max_s=stream.reconnect_max_s,
        )
    return streams
