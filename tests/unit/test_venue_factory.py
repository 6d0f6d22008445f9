"""Modes and client set-up: sandbox before URL override, key/network checks, live confirmation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Config, Mode, VenueConfig
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferReport, TransferRequest
from bot.secrets import VenueCredentials
from bot.venues.base import StartupError
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.clients import ccxt_client, check_network
from bot.venues.factory import (
    LIVE_CONFIRM_VALUE,
    LIVE_CONFIRM_VAR,
    PaperSettings,
    Runtime,
    SimEndpoint,
    build_venue,
    build_venues,
)
from bot.venues.paper import PaperVenue
from tests.contract.recorded import START_MS, RecordedExchange

KEYS = VenueCredentials(SecretStr("live-key-1"), SecretStr("live-secret-1"))
ENV = {
    "DELTABOT_VENUE_DERIBIT_A_API_KEY": "live-key-1",
    "DELTABOT_VENUE_DERIBIT_A_API_SECRET": "live-secret-1",
    "DELTABOT_VENUE_DERIBIT_A_TESTNET_API_KEY": "test-key-1",
    "DELTABOT_VENUE_DERIBIT_A_TESTNET_API_SECRET": "test-secret-1",
}
RUNTIME = Runtime(clock_ms=lambda: START_MS)


def venue_config(**fields: Any) -> VenueConfig:
    return VenueConfig.model_validate(
        {"name": "deribit-a", "exchange": "deribit", "role": ["hedge"]} | fields
    )


async def test_sandbox_mode_is_set_before_the_url_override() -> None:
    """An api_url given with testnet survives set_sandbox_mode; without one ccxt's testnet rules."""
    client = ccxt_client("deribit", testnet=True, api_url="http://127.0.0.1:9999")
    assert client.urls["api"]["rest"] == "http://127.0.0.1:9999"
    plain = ccxt_client("deribit", testnet=True)
    assert plain.urls["api"]["rest"] == "https://test.deribit.com"
    await client.close()
    await plain.close()


async def test_url_override_keeps_binance_api_paths() -> None:
    """Binance serves each API family under its own path; only scheme and host change."""
    client = ccxt_client("binance", api_url="http://127.0.0.1:8080")
    assert client.urls["api"]["eapiPublic"] == "http://127.0.0.1:8080/eapi/v1"
    assert client.urls["api"]["dapiPrivate"] == "http://127.0.0.1:8080/dapi/v1"
    await client.close()


async def test_client_never_retries_and_keeps_debug_records_out() -> None:
    """ccxt retries are pinned to 0 and its DEBUG header dumps are below the client's level."""
    client = ccxt_client("okx", credentials=KEYS)
    assert client.options["maxRetriesOnFailure"] == 0
    assert not client.logger.isEnabledFor(logging.DEBUG)
    assert (client.apiKey, client.secret) == ("live-key-1", "live-secret-1")
    await client.close()


async def test_testnet_keys_against_mainnet_host_refuse_to_start() -> None:
    """Sandbox keys with api_url pointing at www.deribit.com stop the start, naming the host."""
    with pytest.raises(StartupError, match=r"testnet credentials .* www\.deribit\.com"):
        ccxt_client("deribit", credentials=KEYS, testnet=True, api_url="https://www.deribit.com")


async def test_live_keys_against_testnet_host_refuse_to_start() -> None:
    """Live keys aimed at test.deribit.com or Bybit's testnet stop the start."""
    with pytest.raises(StartupError, match=r"live credentials .* test\.deribit\.com"):
        ccxt_client("deribit", credentials=KEYS, api_url="https://test.deribit.com")
    with pytest.raises(StartupError, match=r"api-testnet\.bybit\.com"):
        ccxt_client("bybit", credentials=KEYS, api_url="https://api-testnet.bybit.com")


async def test_okx_network_is_the_demo_header() -> None:
    """OKX's demo shares the host: the simulated-trading header must match the keys."""
    client = ccxt_client("okx", credentials=KEYS, testnet=True)
    assert client.headers["x-simulated-trading"] == "1"
    client.headers = {}
    with pytest.raises(StartupError, match="live trading, not the keys'"):
        check_network("okx", client, testnet=True)
    await client.close()


def test_live_needs_the_environment_confirmation() -> None:
    """mode live without DELTABOT_LIVE_CONFIRM refuses, naming the variable and value."""
    with pytest.raises(StartupError, match=f"{LIVE_CONFIRM_VAR}={LIVE_CONFIRM_VALUE}"):
        build_venue(venue_config(), Mode.LIVE, ENV, RUNTIME)
    with pytest.raises(StartupError, match=LIVE_CONFIRM_VAR):
        build_venue(venue_config(), Mode.LIVE, ENV | {LIVE_CONFIRM_VAR: "yes"}, RUNTIME)


async def test_live_with_confirmation_uses_live_keys() -> None:
    """Confirmed live mode builds a ccxt venue with the live (not testnet) key pair."""
    env = ENV | {LIVE_CONFIRM_VAR: LIVE_CONFIRM_VALUE}
    venue = build_venue(venue_config(), Mode.LIVE, env, RUNTIME)
    assert isinstance(venue, CcxtVenue)
    assert (venue.client.apiKey, venue.client.urls["api"]["rest"]) == (
        "live-key-1",
        "https://www.deribit.com",
    )
    assert "live-secret-1" not in repr(venue.__dict__)
    await venue.close()


async def test_configured_subaccounts_and_wallet_reach_the_transfer_request() -> None:
    """subaccounts and subaccount_wallet from [[venues]] fill the Bybit universal transfer."""
    config = VenueConfig.model_validate(
        {
            "name": "bybit-a",
            "exchange": "bybit",
            "role": ["hedge"],
            "subaccounts": {"main": "592324", "hedge1": "592334"},
            "subaccount_wallet": "FUND",
        }
    )
    env = {
        "DELTABOT_VENUE_BYBIT_A_API_KEY": "live-key-1",
        "DELTABOT_VENUE_BYBIT_A_API_SECRET": "live-secret-1",
        LIVE_CONFIRM_VAR: LIVE_CONFIRM_VALUE,
    }
    venue = build_venue(config, Mode.LIVE, env, RUNTIME)
    assert isinstance(venue, CcxtVenue)
    rec = RecordedExchange(venue.client)
    rec.on("POST /v5/asset/transfer/universal-transfer", "universal_transfer")
    request = TransferRequest(
        TransferId("db0123456789abcdef0123456789abcd"),  # the fixture echoes its uuid5
        VenueId("bybit-a"),
        TransferKind.SUBACCOUNT,
        Currency("USDT"),
        5.0,
        "hedge1",
    )
    try:
        outcome = await venue.transfer_to_subaccount(request)
    finally:
        await venue.close()
    assert isinstance(outcome, TransferReport)
    sent = rec.calls[-1].params
    assert (sent["fromMemberId"], sent["toMemberId"], sent["fromAccountType"]) == (
        "592324",
        "592334",
        "FUND",
    )


def test_build_venues_checks_the_confirmation_once_for_all() -> None:
    """A live config without confirmation builds nothing."""
    config = Config.model_validate(
        {"mode": "live", "venues": [venue_config().model_dump(mode="json")]}
    )
    with pytest.raises(StartupError, match=LIVE_CONFIRM_VAR):
        build_venues(config, ENV, RUNTIME)


async def test_sandbox_uses_the_testnet_keys_and_urls() -> None:
    """Sandbox mode reads the _TESTNET_ variables and talks to test.deribit.com."""
    venue = build_venue(venue_config(testnet=True), Mode.SANDBOX, ENV, RUNTIME)
    assert isinstance(venue, CcxtVenue)
    assert (venue.client.apiKey, venue.client.urls["api"]["rest"]) == (
        "test-key-1",
        "https://test.deribit.com",
    )
    await venue.close()


def test_missing_keys_name_the_variables() -> None:
    """Without credentials the error names the two environment variables to set."""
    with pytest.raises(
        StartupError,
        match="set DELTABOT_VENUE_DERIBIT_A_TESTNET_API_KEY and "
        "DELTABOT_VENUE_DERIBIT_A_TESTNET_API_SECRET",
    ):
        build_venue(venue_config(testnet=True), Mode.SANDBOX, {}, RUNTIME)


async def test_paper_never_gets_credentials_even_when_the_environment_has_them() -> None:
    """A paper venue's ccxt client has no key or secret, and its reads are unsigned."""
    venue = build_venue(
        venue_config(),
        Mode.PAPER,
        ENV,
        RUNTIME,
        paper=PaperSettings(cash={VenueId("deribit-a"): {Currency("BTC"): 1.0}}),
    )
    assert isinstance(venue, PaperVenue)
    data = venue.market_data
    assert isinstance(data, CcxtVenue)
    client = data.client
    assert not (client.apiKey or client.secret or client.password)
    assert client.check_required_credentials(False) is False
    recorded = RecordedExchange(client)
    recorded.on("GET /api/v2/public/get_instruments", "get_instruments")
    recorded.on("GET /api/v2/public/get_currencies", "get_currencies")
    recorded.on("GET /api/v2/public/get_book_summary_by_currency", "book_summary_btc")
    recorded.on("GET /api/v2/public/get_time", "get_time")
    snapshot = await venue.snapshot(watch=[Symbol("BTC/USD:BTC")])
    assert snapshot.balances[0].equity == 1.0
    assert all(c.path.startswith("/api/v2/public/") and not c.headers for c in recorded.calls)
    await venue.close()


async def test_sim_points_ccxt_deribit_at_the_emulator() -> None:
    """mode sim builds ccxt deribit on the emulator URL with the simulated account's keys."""
    endpoint = SimEndpoint("http://127.0.0.1:18080", KEYS)
    venue = build_venue(venue_config(), Mode.SIM, {}, RUNTIME, sim=endpoint)
    assert isinstance(venue, CcxtVenue)
    assert venue.client.urls["api"]["rest"] == "http://127.0.0.1:18080"
    await venue.close()


def test_sim_refuses_missing_endpoints() -> None:
    """Sim mode needs the emulator's URL (the config refuses a dialect it does not speak)."""
    with pytest.raises(StartupError, match="needs the emulator's URL"):
        build_venue(venue_config(), Mode.SIM, {}, RUNTIME)
