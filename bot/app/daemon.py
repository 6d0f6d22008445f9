"""The daemon: wires config, journal, venues, engine, scheduler and status server together.

Start-up order matters for safety: the journal is locked first (one daemon
per account set), then the venues are built (mode checks, live
confirmation), then open orders are reconciled before any new decision.
apscheduler's ``AsyncIOScheduler`` runs the jobs with ``max_instances=1`` and
``coalesce=True``; the hedge cycle and the reconciliation also share one lock,
so they never interleave their journal writes.

Stopping (SIGTERM/SIGINT, or ``stop`` set by the caller): no new network
writes, the cycle in flight gets ``daemon.shutdown_timeout_s`` to finish its
bookkeeping (then it is cancelled; an order whose answer never came stays
SUBMITTED and is reconciled at the next start), the journal is flushed and
closed, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.sim_world import (
    SimWorldSetup,
    build_sim_world,
    external_sim_endpoints,
    serve_sim_world,
)
from bot.clock import Clock, SystemClock
from bot.config import Config, Mode
from bot.domain.ids import Currency, VenueId
from bot.engine.collateral_job import run_collateral
from bot.engine.cycle import CycleResult, HedgeEngine
from bot.engine.margin_job import margin_snapshot, stress_snapshot
from bot.engine.status import health_of, status_of
from bot.engine.surface_job import refresh_surfaces
from bot.journal import Journal
from bot.ops.metrics import DaemonMetrics
from bot.ops.status_server import RunningStatusServer, run_status_server
from bot.sim.market import MarketEvent
from bot.venues.base import Venue
from bot.venues.factory import PaperSettings, Runtime, SimEndpoint, build_venues
from strategies.registry import load_strategy

log = structlog.get_logger("deltabot.daemon")


@dataclass(slots=True)
class DaemonHooks:
    """Optional observers for embedding the daemon (the demo, tests)."""

    on_cycle: Callable[[CycleResult], None] | None = None
    on_ready: Callable[[Daemon], None] | None = None
    events: tuple[MarketEvent, ...] = ()
    clock: Clock | None = None


@dataclass(slots=True)
class Daemon:
    """A running daemon's parts, for hooks and tests (never built by hand)."""

    config: Config
    clock: Clock
    engine: HedgeEngine
    venues: Mapping[VenueId, Venue]
    metrics: DaemonMetrics
    sim: SimWorldSetup | None = None
    status_server: RunningStatusServer | None = None
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    current: asyncio.Task[Any] | None = None


def paper_settings(config: Config) -> PaperSettings:
    """``[paper]`` as the venue factory takes it."""
    cash: dict[VenueId, dict[Currency, float]] = {}
    for entry in config.paper.cash:
        cash.setdefault(entry.venue, {})[entry.currency] = entry.amount
    return PaperSettings(cash=cash, taker_fee_rate=config.paper.taker_fee_rate)


def _speed(config: Config, world: SimWorldSetup | None) -> float:
    """Simulated seconds per wall second: the scheduler's intervals shrink by it when the
    embedded simulator runs the clock (standalone emulators run on the wall clock)."""
    return config.sim.speed if world is not None and config.sim is not None else 1.0


@asynccontextmanager
async def _environment(
    config: Config, environ: Mapping[str, str], hooks: DaemonHooks
) -> AsyncIterator[tuple[Clock, SimWorldSetup | None, dict[VenueId, SimEndpoint] | None]]:
    """Mode sim: the embedded emulators and their clock, or standalone ones (api_url set)
    on the wall clock; other modes: the wall clock."""
    if config.mode is not Mode.SIM:
        yield hooks.clock or SystemClock(), None, None
        return
    external = external_sim_endpoints(config, environ)
    if external is not None:
        yield hooks.clock or SystemClock(), None, external
        return
    world = build_sim_world(config, events=hooks.events, clock=hooks.clock)
    async with serve_sim_world(world) as (endpoints, running):
        for name, emulator in running.items():
            log.info("sim_venue_started", venue=name, url=emulator.base_url)
        yield world.clock, world, endpoints


async def _guarded(daemon: Daemon, job: str, work: Callable[[], Any], *, wait: bool) -> None:
    """Run one job that reads venues or writes the journal, one such job at a time.

    The hedge cycle skips a turn when another job holds the engine (the next turn
    comes soon and carries current data); a reconciliation waits its turn (``wait``),
    since at equal intervals it would otherwise always meet a cycle and never run.
    """
    if daemon.engine.stopping or (daemon.busy.locked() and not wait):
        log.debug("job_skipped", job=job, stopping=daemon.engine.stopping)
        return
    try:
        async with daemon.busy:
            if daemon.engine.stopping:
                return
            daemon.current = asyncio.current_task()
            try:
                await work()
            except Exception:  # a job failure must not kill the scheduler
                log.exception("job_failed", job=job)
            finally:
                daemon.current = None
    except asyncio.CancelledError:
        if not daemon.engine.stopping:
            raise
        log.warning("job_aborted", job=job, reason="shutdown")  # planned, not a fault


async def _computed(job: str, work: Callable[[], Any]) -> None:
    """A job that only computes from the last read (margin, stress): it needs no lock."""
    try:
        work()
    except Exception:
        log.exception("job_failed", job=job)


async def _computed_async(job: str, work: Callable[[], Awaitable[Any]]) -> None:
    """A job that reads venues but writes nothing (the surface refresh): it needs no lock."""
    try:
        await work()
    except Exception:
        log.exception("job_failed", job=job)


def _schedule(daemon: Daemon, hooks: DaemonHooks) -> AsyncIOScheduler:
    cfg = daemon.config.daemon
    speed = _speed(daemon.config, daemon.sim)
    scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True})

    async def hedge() -> None:
        result = await daemon.engine.run_cycle()
        if hooks.on_cycle is not None:
            hooks.on_cycle(result)

    engine_jobs: list[tuple[str, Callable[[], Any], float, bool]] = [
        ("hedge_cycle", hedge, cfg.hedge_interval_s, False),
        ("reconcile", daemon.engine.reconcile, cfg.reconcile_interval_s, True),
        ("collateral", lambda: run_collateral(daemon.engine), cfg.margin_interval_s, True),
    ]
    scheduler.add_job(
        _computed_async,
        "interval",
        args=("surface", lambda: refresh_surfaces(daemon.engine)),
        seconds=cfg.surface_interval_s / speed,
        id="surface",
        name="surface",
    )
    for name, work, interval_s, wait in engine_jobs:
        scheduler.add_job(
            _guarded,
            "interval",
            args=(daemon, name, work),
            kwargs={"wait": wait},
            seconds=interval_s / speed,
            id=name,
            name=name,
        )
    computed: list[tuple[str, Callable[[], Any], float]] = [
        ("margin", lambda: margin_snapshot(daemon.engine, daemon.metrics), cfg.margin_interval_s),
        (
            "stress",
            lambda: stress_snapshot(daemon.engine, daemon.metrics),
            daemon.config.stress.interval_s,
        ),
    ]
    for name, work, interval_s in computed:
        scheduler.add_job(
            _computed, "interval", args=(name, work), seconds=interval_s / speed, id=name, name=name
        )
    return scheduler


async def _stop(daemon: Daemon, scheduler: AsyncIOScheduler) -> None:
    """No new writes; let the job in flight finish within the timeout, else cancel it."""
    daemon.engine.request_stop()
    scheduler.pause()  # shutting down now would cancel the job in flight
    timeout = daemon.config.daemon.shutdown_timeout_s
    try:
        await asyncio.wait_for(daemon.busy.acquire(), timeout)
    except TimeoutError:
        task = daemon.current
        log.warning("job_aborted_at_shutdown", timeout_s=timeout)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    else:
        daemon.busy.release()
    scheduler.shutdown(wait=False)


async def run_daemon(
    config: Config,
    environ: Mapping[str, str],
    stop: asyncio.Event,
    hooks: DaemonHooks | None = None,
) -> None:
    """Run until ``stop`` is set; raises StartupError/JournalError if it cannot start safely."""
    hooks = hooks or DaemonHooks()
    # One line per job run, and one per run skipped behind a long cycle, is noise: the cycle
    # latency histogram and the job_skipped debug line say the same.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    strategy = load_strategy(config.strategy.name, config.strategy.params)
    async with AsyncExitStack() as stack:
        journal = stack.enter_context(Journal.open(config.daemon.journal_path))
        clock, world, endpoints = await stack.enter_async_context(
            _environment(config, environ, hooks)
        )
        runtime = Runtime(clock_ms=clock.now_ms)
        venues = build_venues(
            config, environ, runtime, sim_endpoints=endpoints, paper=paper_settings(config)
        )
        for venue in venues.values():
            stack.push_async_callback(venue.close)
        metrics = DaemonMetrics()
        engine = HedgeEngine(
            config, venues, journal, strategy, clock_ms=clock.now_ms, metrics=metrics
        )
        daemon = Daemon(config, clock, engine, venues, metrics, sim=world)
        if config.metrics.enabled:
            daemon.status_server = await stack.enter_async_context(
                run_status_server(
                    metrics,
                    lambda: health_of(daemon.engine, clock.now_ms(), config),
                    lambda: status_of(daemon.engine, clock.now_ms()),
                    host=config.metrics.host,
                    port=config.metrics.port,
                    allow_non_loopback=config.metrics.allow_non_loopback,
                )
            )
            log.info("status_server_started", url=daemon.status_server.base_url)
        await _guarded(daemon, "startup_reconcile", engine.reconcile, wait=True)
        scheduler = _schedule(daemon, hooks)
        scheduler.start()
        log.info(
            "daemon_started",
            mode=config.mode.value,
            strategy=strategy.name,
            venues=list(venues),
            journal=str(config.daemon.journal_path),
            trading_state=journal.state.trading_state().mode.value,
        )
        if hooks.on_ready is not None:
            hooks.on_ready(daemon)
        await stop.wait()
        log.info("daemon_stopping")
        await _stop(daemon, scheduler)
    log.info("daemon_stopped")


def install_signal_handlers(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT ask for an orderly stop (a second one is the same request)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
