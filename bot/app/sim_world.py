"""Mode sim: the embedded simulated market, one emulated Deribit per configured venue.

``[sim]`` describes one market (seed, start, underlyings) shared by every
venue, and the starting book and cash of each venue. Each venue gets its own
emulator on loopback, so the daemon reaches it exactly as it would a real
exchange: unmodified ccxt over HTTP, signed requests, Deribit error codes.
Every run draws fresh API keys for the simulated accounts; they guard fake
money and live only in this process.

A venue with ``api_url`` set in mode sim is a standalone emulator
(``deltabot sim-venue``) that outlives the daemon, e.g. across a crash and
restart. Its account is whatever that emulator holds; the daemon then runs on
the wall clock, as the standalone emulator does, so times agree across
restarts. Embedded and standalone venues cannot be mixed.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from pydantic import SecretStr

from bot.app.errors import SimSetupError
from bot.clock import AcceleratedClock, Clock
from bot.config import Config, SimPosition
from bot.domain.ids import VenueId
from bot.domain.instruments import InstrumentKind, OptionType, Settlement
from bot.secrets import VenueCredentials, venue_credentials
from bot.sim.contracts import expiry_code
from bot.sim.dialect import Dialect
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults
from bot.sim.grid import default_expiries, monthly_expiries, strike_ladder
from bot.sim.market import MarketEvent, MarketModel, UnderlyingSpec
from bot.sim.network import SimNetwork
from bot.sim.server import RunningEmulator, run_emulator
from bot.sim.spec import (
    PERP_BASIS_FRAC,
    AccountSpec,
    ExchangeSpec,
    PositionSpec,
    binance_usdm_spec,
    default_main_account,
)
from bot.venues.factory import SimEndpoint


@dataclass(frozen=True, slots=True)
class SimVenue:
    """One emulated venue: its exchange, fault knobs and the account's key pair."""

    exchange: SimExchange
    faults: Faults
    credentials: VenueCredentials


@dataclass(frozen=True, slots=True)
class SimWorldSetup:
    """The shared clock and market, and every venue's exchange."""

    clock: Clock
    market: MarketModel
    venues: Mapping[VenueId, SimVenue]


def instrument_name(pos: SimPosition, dialect: Dialect = Dialect.DERIBIT) -> str:
    """The venue's name of a ``[[sim.book]]`` position: Deribit's ``BTC-25DEC26-65000-C``,
    Binance USDⓈ-M's ``BTCUSDT`` (the only contract it lists: a linear perpetual)."""
    u = pos.underlying
    if dialect is Dialect.BINANCE_USDM:
        if pos.kind is not InstrumentKind.PERPETUAL or pos.settlement is not Settlement.LINEAR:
            raise SimSetupError(
                f"the simulated Binance USDⓈ-M lists {u} linear perpetuals only, not "
                f"{pos.settlement.value} {pos.kind.value}s"
            )
        return f"{u}USDT"
    if pos.kind is InstrumentKind.PERPETUAL:
        return f"{u}-PERPETUAL" if pos.settlement is Settlement.INVERSE else f"{u}_USDC-PERPETUAL"
    if pos.settlement is not Settlement.INVERSE:
        raise SimSetupError(
            f"{u} linear {pos.kind.value}s are not listed by the simulated Deribit "
            "(it lists inverse options and futures, and linear perpetuals)"
        )
    assert pos.expiry is not None  # the config requires it for options and futures
    code = expiry_code(int(pos.expiry.timestamp() * 1000))
    if pos.kind is InstrumentKind.FUTURE:
        return f"{u}-{code}"
    cp = "C" if pos.option_type is OptionType.CALL else "P"
    return f"{u}-{code}-{pos.strike_usd:.0f}-{cp}"


def _exchange_config(
    config: Config, venue: VenueId, key: str, secret: str, dialect: Dialect
) -> ExchangeSpec:
    """The grid (default expiries and strikes plus the book's) and the venue's account."""
    sim = config.sim
    assert sim is not None
    start = sim.start_ms
    book = [p for p in sim.book if p.venue == venue]
    names = [u.name for u in sim.underlyings]
    balances: dict[str, float] = {b.currency: b.amount for b in sim.balances if b.venue == venue}
    account = AccountSpec(
        id=1,
        username=f"sim_{venue.replace('-', '_')}",
        client_id=key,
        client_secret=secret,
        balances=balances,
        positions=tuple(PositionSpec(instrument_name(p, dialect), p.size) for p in book),
    )
    basis = sim.perp_basis_frac.get(venue, PERP_BASIS_FRAC[dialect])
    if dialect is Dialect.BINANCE_USDM:
        return binance_usdm_spec(venue, start, tuple(names), (account,), basis)
    option_expiries = set(default_expiries(start))
    future_expiries = set(monthly_expiries(start, 2)) | set(
        monthly_expiries(start, 2, months=(3, 6, 9, 12))
    )
    strikes = {u.name: set(strike_ladder(u.spot_usd)) for u in sim.underlyings}
    for p in book:
        if p.expiry is None:
            continue
        expiry = int(p.expiry.timestamp() * 1000)
        if p.kind is InstrumentKind.OPTION:
            option_expiries.add(expiry)
            assert p.strike_usd is not None
            strikes[p.underlying].add(p.strike_usd)
        else:
            future_expiries.add(expiry)
    return ExchangeSpec(
        name=venue,
        start_ms=start,
        underlyings=tuple(names),
        option_expiries_ms=tuple(sorted(option_expiries)),
        future_expiries_ms=tuple(sorted(future_expiries)),
        strikes_usd={u: tuple(sorted(k)) for u, k in strikes.items()},
        accounts=(account,),
        perp_basis_frac=basis,
    )


def build_sim_world(
    config: Config, *, events: Iterable[MarketEvent] = (), clock: Clock | None = None
) -> SimWorldSetup:
    """The market and exchanges ``[sim]`` describes; ``clock`` defaults to sim time at
    ``sim.speed`` from ``sim.start``."""
    sim = config.sim
    if sim is None:
        raise SimSetupError("mode sim needs a [sim] section")
    start = sim.start_ms
    sim_clock = clock or AcceleratedClock(start, sim.speed)
    specs: dict[str, UnderlyingSpec] = {
        u.name: UnderlyingSpec.simple(u.spot_usd, u.vol, u.rate) for u in sim.underlyings
    }
    market = MarketModel(specs, seed=sim.seed, start_ms=start, events=events)
    network = SimNetwork()
    venues: dict[VenueId, SimVenue] = {}
    for i, venue in enumerate(config.venues):
        key, secret = f"sim-{venue.name}", secrets.token_hex(16)
        try:
            dialect = Dialect(venue.exchange.value)
            ex_config = _exchange_config(config, venue.name, key, secret, dialect)
            exchange = SimExchange(market, sim_clock, ex_config, network)
        except ValueError as exc:
            raise SimSetupError(f"sim venue {venue.name}: {exc}") from exc
        creds = VenueCredentials(SecretStr(key), SecretStr(secret))
        venues[venue.name] = SimVenue(exchange, Faults(seed=sim.seed + i), creds)
    return SimWorldSetup(sim_clock, market, venues)


def external_sim_endpoints(
    config: Config, environ: Mapping[str, str]
) -> dict[VenueId, SimEndpoint] | None:
    """Endpoints of standalone emulators when every venue names one (None: embed them all).

    Keys come from ``DELTABOT_VENUE_<NAME>_API_KEY``/``_API_SECRET``, else the
    emulator's well-known demo pair (``deltabot sim-venue`` without keys).
    """
    if all(v.api_url is None for v in config.venues):
        return None
    demo = default_main_account()
    out: dict[VenueId, SimEndpoint] = {}
    for venue in config.venues:
        creds = venue_credentials(venue.name, testnet=False, environ=environ)
        if creds is None:
            creds = VenueCredentials(SecretStr(demo.client_id), SecretStr(demo.client_secret))
        assert venue.api_url is not None  # the config refuses api_url on some venues only
        out[venue.name] = SimEndpoint(venue.api_url, creds)
    return out


@asynccontextmanager
async def serve_sim_world(
    world: SimWorldSetup,
) -> AsyncIterator[tuple[dict[VenueId, SimEndpoint], dict[VenueId, RunningEmulator]]]:
    """Every venue's emulator on a free loopback port, stopped when the block exits."""
    async with AsyncExitStack() as stack:
        endpoints: dict[VenueId, SimEndpoint] = {}
        running: dict[VenueId, RunningEmulator] = {}
        for name, venue in world.venues.items():
            emulator = await stack.enter_async_context(
                run_emulator(venue.exchange, faults=venue.faults)
            )
            running[name] = emulator
            endpoints[name] = SimEndpoint(emulator.base_url, venue.credentials)
        yield endpoints, running
