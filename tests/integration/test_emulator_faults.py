"""Fault knobs of the emulator, seen through unmodified ccxt deribit."""

from __future__ import annotations

import json

import aiohttp
import ccxt.async_support as ccxt
import pytest

from bot.sim.faults import DropMode, FaultAction, FaultRule, Faults
from bot.sim.server import run_emulator
from tests.integration.test_emulator_ccxt import PERP, make_exchange, venue

IOC_BUY = (PERP, "market", "buy", 100, None, {"timeInForce": "IOC", "label": "h-1"})


@pytest.mark.parametrize(
    ("code", "exception"),
    [
        (10028, ccxt.DDoSProtection),
        (10040, ccxt.ExchangeNotAvailable),
        (10041, ccxt.OnMaintenance),
        (10009, ccxt.InsufficientFunds),
        (13009, ccxt.AuthenticationError),
    ],
)
async def test_injected_error_reaches_ccxt_and_not_the_engine(
    code: int, exception: type[Exception]
) -> None:
    """An injected code is raised as ccxt's class for it and the order never reaches the engine."""
    async with venue() as (emulator, client, _clock):
        emulator.faults.inject_error(code, method="private/buy", count=1)
        with pytest.raises(exception):
            await client.create_order(*IOC_BUY)
        assert emulator.exchange.order_log() == []
        await client.create_order(*IOC_BUY)  # the count is spent: the next one goes through
        assert len(emulator.exchange.order_log()) == 1


async def test_error_count_applies_to_matching_methods_only() -> None:
    """A rule fires on exactly its next N matching calls, spares others, and clear() ends it."""
    async with venue() as (emulator, client, _clock):
        emulator.faults.inject_error(10028, method="private/get_positions", count=2)
        await client.fetch_balance()
        for _ in range(2):
            with pytest.raises(ccxt.DDoSProtection):
                await client.fetch_positions()
        assert await client.fetch_positions() == []
        emulator.faults.inject_error(10040, method="private/get_positions")
        emulator.faults.clear()
        assert await client.fetch_positions() == []


def test_probabilistic_faults_are_reproducible_from_the_seed() -> None:
    """The same seed fires a probability rule on the same requests; another seed differs."""

    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed=seed, rules=[FaultRule(FaultAction.ERROR, "*", 10040, None, 0.5)])
        return [faults.decide("private/buy") is not None for _ in range(64)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 0 < sum(pattern(1)) < 64


async def test_latency_beyond_the_client_timeout_is_a_request_timeout() -> None:
    """Latency longer than ccxt's timeout on one method times out that method only."""
    async with venue() as (emulator, client, _clock):
        emulator.faults.set_latency(5_000, method="public/ticker")
        await client.fetch_order_book(PERP)
        with pytest.raises(ccxt.RequestTimeout):
            await client.fetch_ticker(PERP)


async def test_fill_then_drop_times_out_but_the_order_filled() -> None:
    """The engine fills the order, ccxt sees RequestTimeout, and a label lookup recovers it."""
    async with venue() as (emulator, client, _clock):
        emulator.faults.drop(FaultAction.FILL_THEN_DROP, method="private/buy", count=1)
        with pytest.raises(ccxt.RequestTimeout):
            await client.create_order(*IOC_BUY)
        [order] = emulator.exchange.order_log()
        assert (order.label, order.order_state, order.filled_amount) == ("h-1", "filled", 100)
        found = await client.private_get_get_order_state_by_label(
            {"currency": "BTC", "label": "h-1"}
        )
        assert [o["order_state"] for o in found["result"]] == ["filled"]
        assert [p["contracts"] for p in await client.fetch_positions([PERP])] == [100]


async def test_fill_then_close_is_silently_resent_by_aiohttp() -> None:
    """A closed connection after a fill makes aiohttp resend the GET: the order fills twice.

    ccxt places Deribit orders with GET, which aiohttp treats as idempotent and
    retries once on a server disconnect. This pins the hazard that the venue
    adapter's guard ``bot.venues.errors.no_resent_requests`` removes (the
    contract suite shows the adapter's order fills once).
    """
    async with venue() as (emulator, client, _clock):
        emulator.faults.drop(
            FaultAction.FILL_THEN_DROP, method="private/buy", count=1, mode=DropMode.CLOSE
        )
        order = await client.create_order(*IOC_BUY)
        assert order["status"] == "closed"
        assert [o.label for o in emulator.exchange.order_log()] == ["h-1", "h-1"]
        assert [p["contracts"] for p in await client.fetch_positions([PERP])] == [200]


async def test_drop_before_seen_never_reaches_the_engine() -> None:
    """A request lost on the way in times out (hang) or disconnects (close), with no order."""
    async with venue() as (emulator, client, _clock):
        emulator.faults.drop(FaultAction.DROP_BEFORE_SEEN, method="private/buy", count=1)
        with pytest.raises(ccxt.RequestTimeout):
            await client.create_order(*IOC_BUY)
        # Two closes: aiohttp retries a GET once after a disconnect.
        emulator.faults.drop(
            FaultAction.DROP_BEFORE_SEEN, method="private/buy", count=2, mode=DropMode.CLOSE
        )
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await client.create_order(*IOC_BUY)
        assert emulator.exchange.order_log() == []


async def test_stale_marks_freeze_tickers_until_switched_off() -> None:
    """With stale marks on, tickers keep their last values while the clock moves on."""
    async with venue() as (emulator, client, clock):
        before = await client.fetch_ticker(PERP)
        emulator.faults.set_stale_marks()
        clock.advance(3_600_000)
        frozen = await client.fetch_ticker(PERP)
        assert (frozen["timestamp"], frozen["markPrice"]) == (
            before["timestamp"],
            before["markPrice"],
        )
        emulator.faults.set_stale_marks(None)
        fresh = await client.fetch_ticker(PERP)
        assert fresh["timestamp"] == before["timestamp"] + 3_600_000


async def test_empty_positions_hide_a_real_position() -> None:
    """The empty-positions knob answers [] although the engine still holds the position."""
    async with venue() as (emulator, client, _clock):
        await client.create_order(*IOC_BUY)
        emulator.faults.set_empty_positions()
        assert await client.fetch_positions() == []
        held = emulator.exchange.all_positions()
        assert [p.size for p in held[1]] == [100]


async def test_admin_endpoints_report_state_and_set_faults() -> None:
    """/_sim serves orders, positions, balances and faults; POST /_sim/faults sets knobs."""
    async with venue() as (emulator, client, _clock), aiohttp.ClientSession() as http:
        await client.create_order(*IOC_BUY)
        base = emulator.base_url
        async with http.get(f"{base}/_sim/orders") as resp:
            assert [o["label"] for o in await resp.json()] == ["h-1"]
        async with http.get(f"{base}/_sim/positions") as resp:
            assert [p["size"] for p in (await resp.json())["1"]] == [100]
        async with http.get(f"{base}/_sim/balances") as resp:
            assert (await resp.json())["2"]["BTC"]["equity"] == pytest.approx(1.0)
        rules = [{"action": "error", "code": 10041, "method": "private/*", "count": 1}]
        async with http.post(f"{base}/_sim/faults", data=json.dumps({"rules": rules})) as resp:
            assert resp.status == 200
        async with http.get(f"{base}/_sim/faults") as resp:
            assert (await resp.json())["rules"][0]["code"] == 10041
        with pytest.raises(ccxt.OnMaintenance):
            await client.fetch_balance()
        kept = {"rules": [{"action": "error", "code": 10040, "method": "private/withdraw"}]}
        async with http.post(f"{base}/_sim/faults", data=json.dumps(kept)) as resp:
            assert resp.status == 200
        for bad, problem in (
            ({"rules": [{"action": "error"}]}, "error code"),
            ({"rules": ["error"]}, "JSON object"),
            ({"latency_ms": "slow"}, "latency_ms"),
            ({"stale": True}, "unknown field"),
        ):
            async with http.post(f"{base}/_sim/faults", data=json.dumps(bad)) as resp:
                assert resp.status == 400
                assert problem in (await resp.json())["error"]
        async with http.get(f"{base}/_sim/faults") as resp:
            assert [r["code"] for r in (await resp.json())["rules"]] == [10040]  # unchanged


async def test_non_loopback_host_is_refused() -> None:
    """Binding anything but loopback needs an explicit opt-in."""
    exchange, _ = make_exchange()
    with pytest.raises(ValueError, match="non-loopback"):
        async with run_emulator(exchange, host="0.0.0.0"):
            pass
