"""The daemon: poll-to-ack over loopback, memory over a simulated day (the cycle's
computation alone is :mod:`bench.bench_cycle`).

- Poll-to-acknowledged order: from the start of a cycle (reconcile, venue
  reads) to the venue's answer to its order, through ccxt and the loopback
  emulator (which runs in the same process and so shares its core), one cycle
  a second so the venue's request budget refills as between hedge intervals.
- RSS of the real daemon (scheduler, emulators, journal) over one simulated
  day on the accelerated clock: after the first and the last simulated hour.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import report
from bot.app.daemon import DaemonHooks, run_daemon
from bot.app.sim_world import build_sim_world, serve_sim_world
from bot.clock import ManualClock
from bot.config import load_config
from bot.domain.ids import VenueId
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.journal import Journal
from bot.ops.logging import LogFormat, LogLevel, configure_logging
from bot.venues.factory import Runtime, build_venues

NOW_MS = 1_796_112_000_000
ROOT = Path(__file__).resolve().parents[1]


class _AckClock:
    """Wraps a venue to stamp when each order's answer arrives (monotonic seconds)."""

    def __init__(self, inner: Any, acks: list[float]) -> None:
        self._inner, self._acks = inner, acks

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_order(self, request: Any) -> Any:
        outcome = await self._inner.create_order(request)
        self._acks.append(time.perf_counter())
        return outcome


async def _poll_to_ack(cycles: int) -> list[float]:
    text = (ROOT / "bench" / "daemon_bench.toml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(text.replace("JOURNAL", str(Path(tmp) / "j.sqlite")))
        config = load_config(path, {})
        clock = ManualClock(NOW_MS)
        world = build_sim_world(config, clock=clock)
        async with serve_sim_world(world) as (endpoints, _):
            venues = build_venues(
                config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints
            )
            acks: list[float] = []
            wrapped: dict[VenueId, Any] = {k: _AckClock(v, acks) for k, v in venues.items()}
            with Journal.open(config.daemon.journal_path) as journal:
                ctx = EngineContext(config, journal, wrapped, clock.now_ms)
                engine = HedgeEngine(ctx, config.strategy.build())
                out: list[float] = []
                for _ in range(cycles):
                    # The venue's request budget (Deribit's documented rate) refills between
                    # hedge intervals in real use; back-to-back cycles would time the budget.
                    await asyncio.sleep(1.0)
                    clock.advance(600_000)  # ten minutes: the price moves, the hedge follows
                    t0 = time.perf_counter()
                    before = len(acks)
                    await engine.run_cycle()
                    if len(acks) > before:
                        out.append(acks[before] - t0)
            for v in venues.values():
                await v.close()
    return out


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


async def _simulated_day(speed: float) -> dict[int, float]:
    text = (ROOT / "bench" / "daemon_bench.toml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(text.replace("JOURNAL", str(Path(tmp) / "j.sqlite")))
        config = load_config(path, {"DELTABOT_SIM__SPEED": str(speed)})
        start = config.sim.start_ms if config.sim else 0
        stop = asyncio.Event()
        rss: dict[int, float] = {}
        holder: list[Any] = []

        def on_cycle(_result: Any) -> None:
            hour = (holder[0].clock.now_ms() - start) // 3_600_000
            rss[int(hour)] = _rss_mib()
            if hour >= 24:
                stop.set()

        await run_daemon(config, {}, stop, DaemonHooks(on_cycle=on_cycle, on_ready=holder.append))
    return rss


def run() -> None:
    configure_logging(LogLevel.ERROR, LogFormat.CONSOLE, sys.stderr)
    lat = np.array(asyncio.run(_poll_to_ack(25))) * 1000
    report(
        f"poll-to-ack over loopback ccxt, {lat.size} orders, median", float(np.median(lat)), "ms"
    )
    report("poll-to-ack p99", float(np.percentile(lat, 99)), "ms")
    t0 = time.perf_counter()
    rss = asyncio.run(_simulated_day(speed=1440.0))
    hours = sorted(rss)
    report("daemon RSS after simulated hour 1", rss[min(h for h in hours if h >= 1)], "MiB")
    report(f"daemon RSS after simulated hour {hours[-1]}", rss[hours[-1]], "MiB")
    growth = rss[hours[-1]] - rss[min(h for h in hours if h >= 1)]
    report("growth from hour 1 to the last hour", growth, "MiB", "no growth", growth < 5)
    report("wall time of the simulated day", time.perf_counter() - t0, "s")
