"""The status server over real HTTP on 127.0.0.1: /metrics, /health, /status, and its failures."""

from __future__ import annotations

import math
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.domain.health import Component, Health, Level
from bot.ops.metrics import DaemonMetrics
from bot.ops.status_server import run_status_server

HEALTHY = Health((Component("last_cycle", Level.OK, "1.5 s ago"),), "active", 1.5)


@dataclass
class FakeEngine:
    """Health and status callbacks whose answers (or failures) a test sets directly."""

    health_report: Health = HEALTHY
    status_report: Mapping[str, object] = field(default_factory=dict)
    error: Exception | None = None

    def health(self) -> Health:
        if self.error is not None:
            raise self.error
        return self.health_report

    def status(self) -> Mapping[str, object]:
        if self.error is not None:
            raise self.error
        return self.status_report


async def test_metrics_are_served_as_prometheus_text() -> None:
    """GET /metrics carries prometheus_client's content type and the daemon's current values."""
    metrics, engine = DaemonMetrics(), FakeEngine()
    metrics.set_greeks(
        "BTC",
        delta_coin=0.75,
        delta_usd=45_000.0,
        gamma_coin_per_pct=0.1,
        vega_usd_per_volpt=10.0,
        theta_usd_per_day=-5.0,
    )
    async with (
        run_status_server(metrics, engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
    ):
        assert server.host == "127.0.0.1"
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        async with http.get(f"{server.base_url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
            body = await response.text()
        assert 'deltabot_delta_coin{underlying="BTC"} 0.75\n' in body

        metrics.set_greeks(
            "BTC",
            delta_coin=-0.25,
            delta_usd=-15_000.0,
            gamma_coin_per_pct=0.1,
            vega_usd_per_volpt=10.0,
            theta_usd_per_day=-5.0,
        )
        async with http.get(f"{server.base_url}/metrics") as response:
            assert 'deltabot_delta_coin{underlying="BTC"} -0.25\n' in await response.text()


async def test_health_is_200_when_ok_or_degraded_and_503_when_failing() -> None:
    """/health lists every component with its level and reason; 503 only when one is failing."""
    engine = FakeEngine()
    async with (
        run_status_server(DaemonMetrics(), engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            assert await response.json() == {
                "level": "ok",
                "ok": True,
                "detail": "ok",
                "trading_state": "active",
                "last_cycle_age_s": 1.5,
                "components": [{"name": "last_cycle", "level": "ok", "reason": "1.5 s ago"}],
            }

        reducing = Component("trading", Level.DEGRADED, "reducing by operator: roll")
        engine.health_report = Health((*HEALTHY.components, reducing), "reducing", 1.5)
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200
            body = await response.json()
            assert body["level"] == "degraded"
            assert body["detail"] == "trading: reducing by operator: roll"

        halted = Component("trading", Level.FAILING, "halted by automatic: 5 cycle failures")
        engine.health_report = Health((reducing, halted), "halted", None)
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 503
            body = await response.json()
            assert body["level"] == "failing" and body["ok"] is False
            assert body["detail"] == (
                "trading: reducing by operator: roll; "
                "trading: halted by automatic: 5 cycle failures"
            )
            assert [c["level"] for c in body["components"]] == ["degraded", "failing"]


async def test_status_serves_the_callback_mapping_as_json() -> None:
    """/status is the mapping as JSON: numpy and Decimal numbers as floats, NaN as null."""
    engine = FakeEngine(
        status_report={
            "mode": "sim",
            "cycles": 12,
            "delta_coin": {"BTC": np.float64(0.5), "ETH": Decimal("-1.25")},
            "hedges": (np.int64(3), 2.5),
            "worst_stress_loss_usd": math.nan,
            "started": _Opaque(),
        }
    )
    async with (
        run_status_server(DaemonMetrics(), engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
        http.get(f"{server.base_url}/status") as response,
    ):
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == {
            "mode": "sim",
            "cycles": 12,
            "delta_coin": {"BTC": 0.5, "ETH": -1.25},
            "hedges": [3, 2.5],
            "worst_stress_loss_usd": None,
            "started": "opaque",
        }


class _Opaque:
    """A value json cannot encode: it must come out through default=str."""

    def __str__(self) -> str:
        return "opaque"


async def test_raising_callbacks_give_503_and_500_and_the_server_keeps_serving() -> None:
    """Raising health is a 503 with the error, raising status a JSON 500; then it heals."""
    metrics, engine = DaemonMetrics(), FakeEngine(error=RuntimeError("journal locked"))
    async with (
        run_status_server(metrics, engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 503
            health = await response.json()
        assert health["ok"] is False
        assert "RuntimeError: journal locked" in health["detail"]
        async with http.get(f"{server.base_url}/status") as response:
            assert response.status == 500
            assert response.content_type == "application/json"
            assert "RuntimeError: journal locked" in (await response.json())["error"]
        async with http.get(f"{server.base_url}/metrics") as response:
            assert response.status == 200

        engine.error = None
        engine.status_report = {"cycles": 1}
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200
        async with http.get(f"{server.base_url}/status") as response:
            assert await response.json() == {"cycles": 1}


async def test_an_unencodable_status_is_a_500_not_a_crash() -> None:
    """A status mapping json cannot encode (a reference cycle) gives a JSON 500."""
    looped: dict[str, object] = {}
    looped["self"] = looped
    engine = FakeEngine(status_report=looped)
    async with (
        run_status_server(DaemonMetrics(), engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base_url}/status") as response:
            assert response.status == 500
            assert "error" in await response.json()
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200


async def test_unknown_paths_are_404() -> None:
    """Only the three routes exist."""
    engine = FakeEngine()
    async with (
        run_status_server(DaemonMetrics(), engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
        http.get(f"{server.base_url}/_sim/reset") as response,
    ):
        assert response.status == 404


async def test_the_port_is_released_when_the_block_exits() -> None:
    """After the context exits nothing listens on the port any more."""
    engine = FakeEngine()
    async with run_status_server(DaemonMetrics(), engine.health, engine.status) as server:
        url = f"{server.base_url}/health"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(url)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
async def test_non_loopback_hosts_are_refused(host: str) -> None:
    """A non-loopback host raises ValueError before anything is bound."""
    engine = FakeEngine()
    with pytest.raises(ValueError, match="non-loopback"):
        async with run_status_server(DaemonMetrics(), engine.health, engine.status, host=host):
            pass


async def test_a_port_out_of_range_is_refused() -> None:
    """Ports outside 0..65535 raise ValueError."""
    engine = FakeEngine()
    with pytest.raises(ValueError, match="port"):
        async with run_status_server(DaemonMetrics(), engine.health, engine.status, port=70_000):
            pass


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this host cannot bind ::1")
async def test_ipv6_loopback_is_served_with_a_bracketed_url() -> None:
    """::1 is loopback; its base_url brackets the address so clients can use it as is."""
    engine = FakeEngine()
    async with (
        run_status_server(DaemonMetrics(), engine.health, engine.status, host="::1") as server,
        aiohttp.ClientSession() as http,
        http.get(f"{server.base_url}/health") as response,
    ):
        assert server.base_url == f"http://[::1]:{server.port}"
        assert response.status == 200


class _BrokenMetrics(DaemonMetrics):
    """Metrics whose exposition fails, as a broken custom collector would."""

    def exposition(self) -> tuple[bytes, str]:
        raise RuntimeError("collector exploded")


async def test_a_failing_exposition_is_a_500_and_health_still_answers() -> None:
    """/metrics answers 500 with the error when exposition raises; /health is unaffected."""
    engine = FakeEngine()
    async with (
        run_status_server(_BrokenMetrics(), engine.health, engine.status) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base_url}/metrics") as response:
            assert response.status == 500
            assert "collector exploded" in await response.text()
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200


async def test_a_mount_adds_routes_beside_the_endpoints() -> None:
    """``mount`` adds the caller's routes to the same server; /health still answers."""

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="mounted")

    engine = FakeEngine()
    async with (
        run_status_server(
            DaemonMetrics(),
            engine.health,
            engine.status,
            mount=lambda app: app.router.add_get("/extra", hello),
        ) as server,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{server.base_url}/extra") as response:
            assert await response.text() == "mounted"
        async with http.get(f"{server.base_url}/health") as response:
            assert response.status == 200
