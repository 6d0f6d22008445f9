"""One suite every venue adapter passes: ccxt over the Deribit and the Binance USDⓈ-M
emulators, and the paper venue.

Each adapter comes with hooks that make its venue lose a reply, time out or
refuse an order, so the same assertions pin the same guarantees: units in the
snapshot, IOC fills, recovery of a lost answer by client id, and Rejected vs
Ambiguous exactly where the truth is known vs unknown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.clock import ManualClock
from bot.config import Mode, VenueConfig
from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, InstrumentKind
from bot.domain.orders import (
    Accepted,
    Ambiguous,
    OrderRequest,
    OrderState,
    Rejected,
    SendOutcome,
    Side,
    TimeInForce,
    client_order_id,
)
from bot.secrets import VenueCredentials
from bot.sim.binance_errors import MARGIN_NOT_SUFFICIENT
from bot.sim.dialect import Dialect
from bot.sim.exchange import SimExchange
from bot.sim.faults import DropMode, FaultAction, Faults
from bot.sim.market import MarketModel
from bot.sim.server import run_emulator
from bot.sim.spec import ExchangeSpec, default_main_account
from bot.venues.base import Venue
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.factory import Runtime, SimEndpoint, build_venue
from bot.venues.paper import PaperVenue
from tests.contract import paper_fake

EMULATOR_START_MS = 1_736_150_400_000  # 2025-01-06T08:00:00Z
PERP = Symbol("BTC/USD:BTC")
BINANCE_PERP = Symbol("BTC/USDT:USDT")
CLIENT_TIMEOUT_MS = 400
NOT_ENOUGH_FUNDS = 10009
"""Deribit's error code for an order the margin does not cover."""


@dataclass
class Adapter:
    """A venue under test plus the knobs that make its venue misbehave."""

    name: str
    venue: Venue
    clock: ManualClock
    perp: Symbol
    lot: float
    lose_next_reply: Callable[[], None]
    make_timeout: Callable[[], None]
    timeout_outcome: type[SendOutcome]
    refused_request: Callable[[ClientOrderId], OrderRequest]
    """Arms the venue to refuse, and returns the request it will refuse."""
    secrets: tuple[str, ...] = ()
    faults: Faults | None = None
    amount_unit: AmountUnit = AmountUnit.USD
    lists_options: bool = True
    collateral: str = "BTC"


@dataclass(frozen=True)
class _Counter:
    name: str

    def cid(self, seq: int) -> ClientOrderId:
        return client_order_id(self.name, VenueId("contract"), PERP, seq)


def _order(adapter: Adapter, cid: ClientOrderId, amount: float | None = None) -> OrderRequest:
    return OrderRequest(cid, adapter.venue.venue_id, adapter.perp, Side.BUY, amount or adapter.lot)


@pytest.fixture
async def emulator_adapter() -> AsyncIterator[Adapter]:
    main = default_main_account()
    clock = ManualClock(EMULATOR_START_MS)
    config = ExchangeSpec.default("sim-a", EMULATOR_START_MS, accounts=(main,))
    market = MarketModel.default(EMULATOR_START_MS, seed=7, underlyings=config.underlyings)
    exchange = SimExchange(market, clock, config)
    async with run_emulator(exchange) as emulator:
        keys = VenueCredentials(SecretStr(main.client_id), SecretStr(main.client_secret))
        settings = VenueConfig.model_validate(
            {"name": "sim-a", "exchange": "deribit", "role": ["hedge"]}
        )
        venue = build_venue(
            settings,
            Mode.SIM,
            {},
            Runtime(clock_ms=clock.now_ms),
            sim=SimEndpoint(emulator.base_url, keys),
        )
        assert isinstance(venue, CcxtVenue)
        venue.client.timeout = CLIENT_TIMEOUT_MS
        faults = emulator.faults

        def refused(cid: ClientOrderId) -> OrderRequest:
            faults.inject_error(NOT_ENOUGH_FUNDS, method="private/buy", count=1)
            return OrderRequest(cid, venue.venue_id, PERP, Side.BUY, 10.0)

        yield Adapter(
            name="ccxt-emulator",
            venue=venue,
            clock=clock,
            perp=PERP,
            lot=10.0,
            lose_next_reply=lambda: faults.drop(
                FaultAction.FILL_THEN_DROP, method="private/buy", count=1
            ),
            make_timeout=lambda: faults.drop(
                FaultAction.DROP_BEFORE_SEEN, method="private/buy", count=1
            ),
            timeout_outcome=Ambiguous,
            refused_request=refused,
            secrets=(main.client_id, main.client_secret),
            faults=faults,
        )
        await venue.close()


@pytest.fixture
async def binance_adapter() -> AsyncIterator[Adapter]:
    main = default_main_account(Dialect.BINANCE_USDM)
    clock = ManualClock(EMULATOR_START_MS)
    config = ExchangeSpec.default(
        "sim-b", EMULATOR_START_MS, accounts=(main,), dialect=Dialect.BINANCE_USDM
    )
    market = MarketModel.default(EMULATOR_START_MS, seed=7, underlyings=config.underlyings)
    exchange = SimExchange(market, clock, config)
    async with run_emulator(exchange) as emulator:
        keys = VenueCredentials(SecretStr(main.client_id), SecretStr(main.client_secret))
        settings = VenueConfig.model_validate(
            {"name": "sim-b", "exchange": "binanceusdm", "role": ["hedge"]}
        )
        venue = build_venue(
            settings,
            Mode.SIM,
            {},
            Runtime(clock_ms=clock.now_ms),
            sim=SimEndpoint(emulator.base_url, keys),
        )
        assert isinstance(venue, CcxtVenue)
        venue.client.timeout = CLIENT_TIMEOUT_MS
        faults = emulator.faults
        order = "POST /fapi/v1/order"

        def refused(cid: ClientOrderId) -> OrderRequest:
            faults.inject_error(MARGIN_NOT_SUFFICIENT, method=order, count=1)
            return OrderRequest(cid, venue.venue_id, BINANCE_PERP, Side.BUY, 0.01)

        yield Adapter(
            name="ccxt-binance-emulator",
            venue=venue,
            clock=clock,
            perp=BINANCE_PERP,
            lot=0.01,
            lose_next_reply=lambda: faults.drop(FaultAction.FILL_THEN_DROP, method=order),
            make_timeout=lambda: faults.drop(FaultAction.DROP_BEFORE_SEEN, method=order),
            timeout_outcome=Ambiguous,
            refused_request=refused,
            secrets=(main.client_id, main.client_secret),
            faults=faults,
            amount_unit=AmountUnit.COIN,
            lists_options=False,
            collateral="USDT",
        )
        await venue.close()


@pytest.fixture
async def paper_adapter() -> AsyncIterator[Adapter]:
    data, clock = paper_fake.FakeMarketData(), ManualClock(paper_fake.START_MS)
    venue = PaperVenue(paper_fake.VENUE, data, starting_cash={Currency("BTC"): 1.0},
                       clock_ms=clock.now_ms)  # fmt: skip

    def timeout() -> None:
        data.fail = TimeoutError("public ticker")

    def refused(cid: ClientOrderId) -> OrderRequest:
        return OrderRequest(cid, venue.venue_id, paper_fake.PERP, Side.BUY, 10.0, 1.0,
                            TimeInForce.GTC)  # fmt: skip

    yield Adapter(
        name="paper",
        venue=venue,
        clock=clock,
        perp=paper_fake.PERP,
        lot=10.0,
        lose_next_reply=lambda: None,  # a local fill has no reply to lose
        make_timeout=timeout,
        timeout_outcome=Rejected,  # a quote that never came means nothing filled
        refused_request=refused,
    )
    await venue.close()


@pytest.fixture(params=["emulator_adapter", "binance_adapter", "paper_adapter"])
def adapter(request: pytest.FixtureRequest) -> Adapter:
    fixture: Adapter = request.getfixturevalue(request.param)
    return fixture


async def test_instruments_load_with_unit_facts(adapter: Adapter) -> None:
    """Instruments belong to the venue; an inverse perp counts USD, a linear one coin."""
    instruments = await adapter.venue.load_instruments()
    assert instruments and all(i.venue == adapter.venue.venue_id for i in instruments.values())
    perp = instruments[adapter.perp]
    assert (perp.kind, perp.amount_unit) == (InstrumentKind.PERPETUAL, adapter.amount_unit)
    assert adapter.lot / perp.lot_size == pytest.approx(round(adapter.lot / perp.lot_size))
    has_options = any(i.is_option and i.price_currency == "BTC" for i in instruments.values())
    assert has_options == adapter.lists_options


async def test_ioc_order_is_accepted_with_fills(adapter: Adapter) -> None:
    """An IOC buy of two lots fills; fills add up to the report and to the position."""
    cid = _Counter(adapter.name).cid(0)
    outcome = await adapter.venue.create_order(_order(adapter, cid, 2 * adapter.lot))
    assert isinstance(outcome, Accepted), outcome
    report = outcome.report
    assert (report.client_id, report.state) == (cid, OrderState.FILLED)
    assert sum(f.amount for f in outcome.fills) == pytest.approx(report.filled_amount)
    assert report.filled_amount == pytest.approx(2 * adapter.lot)
    positions = {p.instrument.symbol: p.size for p in await adapter.venue.fetch_positions()}
    assert positions[adapter.perp] == pytest.approx(2 * adapter.lot)


async def test_snapshot_units(adapter: Adapter) -> None:
    """The snapshot carries perp positions in their unit, coin-priced option marks, IV as
    fractions, and the collateral's equity."""
    await adapter.venue.create_order(_order(adapter, _Counter(adapter.name).cid(1)))
    chain = await adapter.venue.fetch_option_chain(Currency("BTC"))
    assert bool(chain) == adapter.lists_options
    for mark in chain.values():
        assert mark.mark_iv is not None and 0.01 < mark.mark_iv < 5.0, "IV must be a fraction"
        assert 0 < mark.mark_price < 1.0, "a BTC option is priced in BTC"
        assert mark.underlying_usd > 1000.0, "the forward is in USD"
    snapshot = await adapter.venue.snapshot(watch=list(chain)[:3])
    assert snapshot.ts_ms == adapter.clock.now_ms()
    (position,) = [p for p in snapshot.positions if p.instrument.symbol == adapter.perp]
    assert position.size == pytest.approx(adapter.lot)
    assert set(chain).issuperset(s for s in snapshot.marks if s != adapter.perp)
    assert snapshot.marks[adapter.perp].underlying_usd == snapshot.marks[adapter.perp].mark_price
    assert any(b.currency == adapter.collateral and b.equity > 0 for b in snapshot.balances)


async def test_lost_reply_is_recovered_by_client_id(adapter: Adapter) -> None:
    """If the answer to a fill is lost, the order is found by its client id, filled once."""
    cid = _Counter(adapter.name).cid(2)
    adapter.lose_next_reply()
    outcome = await adapter.venue.create_order(_order(adapter, cid))
    assert not isinstance(outcome, Rejected), "a lost answer is never a rejection"
    found = await adapter.venue.find_order(cid, adapter.perp)
    assert found is not None
    assert found.client_id == cid
    assert found.filled_amount == pytest.approx(adapter.lot)
    positions = {p.instrument.symbol: p.size for p in await adapter.venue.fetch_positions()}
    assert positions[adapter.perp] == pytest.approx(adapter.lot), "filled exactly once"


async def test_refusal_is_rejected(adapter: Adapter) -> None:
    """An order the venue refuses comes back Rejected, with nothing on the book."""
    cid = _Counter(adapter.name).cid(3)
    outcome = await adapter.venue.create_order(adapter.refused_request(cid))
    assert isinstance(outcome, Rejected), outcome
    assert await adapter.venue.fetch_positions() == ()


async def test_timeout_outcome(adapter: Adapter) -> None:
    """A request that times out is Ambiguous at a venue; paper knows it filled nothing."""
    cid = _Counter(adapter.name).cid(4)
    adapter.make_timeout()
    outcome = await adapter.venue.create_order(_order(adapter, cid))
    assert isinstance(outcome, adapter.timeout_outcome), outcome
    assert await adapter.venue.find_order(cid, adapter.perp) is None


async def test_secrets_never_reach_the_logs(
    adapter: Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, a full poll and an order log neither the API key nor the secret."""
    caplog.set_level(logging.DEBUG)
    await adapter.venue.snapshot(watch=[adapter.perp])
    await adapter.venue.create_order(_order(adapter, _Counter(adapter.name).cid(5)))
    for secret in adapter.secrets:
        assert secret not in caplog.text


async def test_dropped_connection_after_a_fill_is_not_resent(emulator_adapter: Adapter) -> None:
    """aiohttp would resend the GET /private/buy after a disconnect; the adapter must not."""
    adapter = emulator_adapter
    venue = adapter.venue
    assert isinstance(venue, CcxtVenue)
    cid = _Counter(adapter.name).cid(6)
    await venue.load_instruments()  # opens (and guards) the session on a kept-alive connection
    assert adapter.faults is not None
    adapter.faults.drop(
        FaultAction.FILL_THEN_DROP, method="private/buy", count=1, mode=DropMode.CLOSE
    )
    outcome = await venue.create_order(_order(adapter, cid))
    assert isinstance(outcome, Ambiguous), outcome
    positions = {p.instrument.symbol: p.size for p in await venue.fetch_positions()}
    assert positions[adapter.perp] == pytest.approx(adapter.lot), "the order went out twice"


async def test_held_option_carries_the_venue_delta_of_its_ticker(
    emulator_adapter: Adapter,
) -> None:
    """A snapshot's held option mark carries public/ticker's Black-Scholes greeks.delta per
    coin (the bulk book summary has none); an option only watched does not (two watched:
    the summaries plus one ticker are fewer requests than three tickers)."""
    venue = emulator_adapter.venue
    assert isinstance(venue, CcxtVenue)
    chain = await venue.fetch_option_chain(Currency("BTC"))
    assert all(m.venue_delta is None for m in chain.values()), "bulk marks carry no Greeks"
    calls = sorted(
        (s for s in chain if venue.markets[s].instrument.option_type == "call"),
        key=lambda s: (
            venue.markets[s].instrument.expiry_ms,
            abs((venue.markets[s].instrument.strike_usd or 0.0) - chain[s].underlying_usd),
        ),
    )
    held, watched = calls[0], calls[1]
    ask = chain[held].ask
    assert ask is not None
    cid = _Counter("venue-delta").cid(0)
    outcome = await venue.create_order(OrderRequest(cid, venue.venue_id, held, Side.BUY, 0.5, ask))
    assert isinstance(outcome, Accepted), outcome
    snapshot = await venue.snapshot(watch=[watched, calls[2]])
    ticker = await venue.client.public_get_ticker(
        {"instrument_name": venue.markets[held].market_id}
    )
    delta = snapshot.marks[held].venue_delta
    assert delta == pytest.approx(ticker["result"]["greeks"]["delta"])
    assert delta is not None and 0.0 < delta < 1.0, "a call's delta per coin"
    assert snapshot.marks[watched].venue_delta is None
