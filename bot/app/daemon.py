"""The daemon: wires config, journal, venues, the engine's jobs and the status server together.

Start-up order matters for safety: the journal is locked first (one daemon
per account set), then the venues are built (mode checks, live
confirmation), then open orders are reconciled before any new decision; then
the jobs start (:mod:`bot.engine.scheduler`). Under systemd (``NOTIFY_SOCKET``) the
daemon then says READY=1 and pings the watchdog from its event loop
(:mod:`bot.ops.sdnotify`).

Stopping (SIGTERM/SIGINT, or ``stop`` set by the caller): no new network
writes, the cycle in flight gets ``daemon.shutdown_timeout_s`` to finish its
bookkeeping (then it is cancelled; an order whose answer never came stays
SUBMITTED and is reconciled at the next start), the journal is checked once
more, flushed and closed (systemd hears STOPPING=1 first), and the process
exits 0; or 2 if the journal failed a check while the daemon ran
(:class:`~bot.app.errors.JournalFailedError`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import structlog

from bot.app.dashboard import dashboard_mount
from bot.app.errors import START_ERRORS, JournalFailedError
from bot.app.recording import with_recording
from bot.app.sim_world import (
    SimWorldSetup,
    build_sim_world,
    external_sim_endpoints,
    serve_sim_world,
)
from bot.clock import Clock, SystemClock
from bot.config import Config, Mode
from bot.domain.alerts import Alert, AlertEvent, AlertKind, Severity
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.timeunits import MS_PER_SECOND
from bot.engine.alert_channels import Channel, build_channels
from bot.engine.alert_sink import AlertDispatcher, send_now
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.engine.cycle_result import CycleResult
from bot.engine.health import health_of
from bot.engine.routes import check_routes_listed
from bot.engine.scheduler import Jobs, schedule
from bot.engine.scheduler import stop as stop_jobs
from bot.engine.status import clock_name, status_of
from bot.engine.stream_job import StreamJob
from bot.journal import Journal, JournalError
from bot.ops.metrics import DaemonMetrics
from bot.ops.sdnotify import SdNotifier
from bot.ops.status_server import RunningStatusServer, run_status_server
from bot.ops.threads import bound_native_threads
from bot.sim.market import MarketEvent
from bot.venues.errors import describe
from bot.venues.factory import PaperSettings, Runtime, SimEndpoint, build_streams, build_venues

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
    jobs: Jobs
    sim: SimWorldSetup | None = None
    status_server: RunningStatusServer | None = None
    alerts: AlertDispatcher | None = None
    stream: StreamJob | None = None
    """The event layer, when a venue streams (its triggers and reaction times)."""


def paper_settings(config: Config, journal: Journal | None = None) -> PaperSettings:
    """``[paper]`` as the venue factory takes it; with ``journal``, each paper venue's book
    is restored from it and saved to it on every change."""
    cash: dict[VenueId, dict[Currency, float]] = {}
    for entry in config.paper.cash:
        cash.setdefault(entry.venue, {})[entry.currency] = entry.amount
    book: dict[VenueId, dict[Symbol, float]] = {}
    for position in config.paper.book:
        book.setdefault(position.venue, {})[position.symbol] = position.size
    if journal is None:
        return PaperSettings(
            cash=cash,
            taker_fee_rate=config.paper.taker_fee_rate,
            book=book,
            margin=config.margin.account_margin_of,
        )
    return PaperSettings(
        cash=cash,
        taker_fee_rate=config.paper.taker_fee_rate,
        book=book,
        margin=config.margin.account_margin_of,
        restore=journal.paper.load,
        save=journal.paper.save,
    )


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


def _daemon_event(kind: AlertKind, severity: Severity, message: str, ts_ms: int) -> AlertEvent:
    return AlertEvent(kind=kind, severity=severity, key=kind.value, message=message, ts_ms=ts_ms)


def _crash_event(exc: BaseException, ts_ms: int) -> AlertEvent:
    return _daemon_event(
        AlertKind.DAEMON_CRASHED, Severity.CRITICAL, f"daemon crashed: {describe(exc)}", ts_ms
    )


async def run_daemon(
    config: Config,
    environ: Mapping[str, str],
    stop: asyncio.Event,
    hooks: DaemonHooks | None = None,
) -> None:
    """Run until ``stop`` is set; raises StartupError/JournalError if it cannot start safely,
    JournalFailedError after the stop if the journal failed a check while it ran.

    An exception escaping it is a crash: alerted (journaled too when the journal is open)
    and sent before it propagates, waiting at most ``[alerts] drain_timeout_s``; a refusal
    to start (a taken port, no journal...) is sent but not logged (the command prints it).
    """
    channels = build_channels(config.alerts, environ)
    reported: list[BaseException] = []
    try:
        await _run(
            config,
            environ,
            stop,
            hooks=hooks or DaemonHooks(),
            channels=channels,
            reported=reported,
        )
    except Exception as exc:
        if exc not in reported:
            crash = Alert(_crash_event(exc, SystemClock().now_ms()))
            # A refusal to start (no journal, a lock held...) is the command's one line on
            # stderr already; the channels still hear of it, the log does not repeat it.
            if not isinstance(exc, START_ERRORS):
                log.error("alert", kind=crash.event.kind.value, message=crash.text)
            send_now(channels, crash, config.alerts.drain_timeout_s)
        raise


async def _run(
    config: Config,
    environ: Mapping[str, str],
    stop: asyncio.Event,
    *,
    hooks: DaemonHooks,
    channels: tuple[Channel, ...],
    reported: list[BaseException],
) -> None:
    # One line per job run, and one per run skipped behind a long cycle, is noise: the cycle
    # latency histogram and the job_skipped debug line say the same.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    # A daemon pinned to fewer cores (taskset, systemd CPUAffinity=) than the machine has
    # would otherwise run a BLAS pool per machine core, spinning on its own cores.
    bound_native_threads()
    async with AsyncExitStack() as stack:
        journal = stack.enter_context(Journal.open(config.daemon.journal_path))
        alerts = AlertDispatcher(
            journal,
            channels,
            DaemonMetrics(),
            window_ms=round(config.alerts.throttle_window_s * MS_PER_SECOND),
            queue_size=config.alerts.queue_size,
        )
        alerts.start()
        stack.callback(alerts.close, config.alerts.drain_timeout_s)
        try:
            problem = await _serve(
                config, environ, stop, hooks=hooks, stack=stack, journal=journal, alerts=alerts
            )
        except Exception as exc:  # journaled and queued; the stack's close sends it
            if not isinstance(exc, START_ERRORS):  # a refusal to start: run_daemon sends it
                alerts.emit(_crash_event(exc, SystemClock().now_ms()))
                reported.append(exc)
            raise
    log.info("daemon_stopped")
    if problem is not None:
        raise JournalFailedError(
            f"{problem}; trading was halted (the halt marker beside the journal "
            "keeps it halted) and the daemon stopped"
        )


async def _serve(
    config: Config,
    environ: Mapping[str, str],
    stop: asyncio.Event,
    *,
    hooks: DaemonHooks,
    stack: AsyncExitStack,
    journal: Journal,
    alerts: AlertDispatcher,
) -> str | None:
    """Start everything after the journal and the alerts, run until ``stop``, stop the jobs;
    returns the journal's problem if a check failed while it ran."""
    strategy = config.strategy.build()
    notifier = SdNotifier.from_environ(environ)
    clock, world, endpoints = await stack.enter_async_context(_environment(config, environ, hooks))

    def rate_limited(venue: VenueId, detail: str) -> None:
        alerts.emit(
            AlertEvent(
                kind=AlertKind.RATE_LIMITED,
                severity=Severity.WARNING,
                key=f"rate_limited:{venue}",
                message=f"{venue} asked us to slow down: {detail}",
                ts_ms=clock.now_ms(),
                fields={"venue": venue},
            )
        )

    runtime = Runtime(clock_ms=clock.now_ms, on_rate_limited=rate_limited)
    venues = build_venues(
        config, environ, runtime, sim_endpoints=endpoints, paper=paper_settings(config, journal)
    )
    for venue in venues.values():
        stack.push_async_callback(venue.close)
    ctx = EngineContext(
        config,
        journal,
        venues,
        clock.now_ms,
        clock_name(config),
        _speed(config, world),
        metrics=alerts.metrics,
        alerts=alerts,
    )
    on_cycle = with_recording(
        config.record, stack, hooks.on_cycle, venues=venues, clock_ms=clock.now_ms
    )
    jobs = Jobs(ctx, HedgeEngine(ctx, strategy), on_cycle=on_cycle)
    streams = build_streams(config, environ, sim_endpoints=endpoints)
    stream_job = StreamJob(jobs, streams) if streams else None
    daemon = Daemon(config, clock, jobs, sim=world, alerts=alerts, stream=stream_job)

    def stream_health() -> tuple[Mapping[VenueId, float], int] | None:
        return None if stream_job is None else (stream_job.stale(), len(streams))

    if config.metrics.enabled:
        daemon.status_server = await stack.enter_async_context(
            run_status_server(
                ctx.metrics,
                lambda: health_of(ctx, jobs.latest, clock.now_ms(), stream_health()),
                lambda: status_of(ctx, jobs.latest, clock.now_ms()),
                host=config.metrics.host,
                port=config.metrics.port,
                allow_non_loopback=config.metrics.allow_non_loopback,
                mount=dashboard_mount(config, environ, jobs, simulated_clock=world is not None),
                port_setting="[metrics] port (or DELTABOT_METRICS__PORT)",
            )
        )
        log.info("status_server_started", url=daemon.status_server.base_url)
    await check_routes_listed(ctx)
    await jobs.guarded("startup_reconcile", jobs.reconcile, wait=True)
    scheduler = schedule(jobs, _speed(config, world))
    scheduler.start()
    streaming = None
    if stream_job is not None:
        streaming = asyncio.create_task(stream_job.run(), name="streams")
        log.info("streams_started", venues=list(streams))
    state = journal.state.trading_state().mode.value
    log.info(
        "daemon_started",
        mode=config.mode.value,
        strategy=strategy.name,
        venues=list(venues),
        journal=str(config.daemon.journal_path),
        trading_state=state,
    )
    started = (
        f"daemon started: mode {config.mode.value}, trading {state}, venues {', '.join(venues)}"
    )
    alerts.emit(_daemon_event(AlertKind.DAEMON_STARTED, Severity.INFO, started, clock.now_ms()))
    if notifier is not None:
        await stack.enter_async_context(notifier.running(lambda: _trading_status(journal)))
    if hooks.on_ready is not None:
        hooks.on_ready(daemon)
    await stop.wait()
    log.info("daemon_stopping")
    if notifier is not None:
        notifier.stopping(_trading_status(journal))
    await stop_jobs(jobs, scheduler)
    if streaming is not None:  # after the jobs: a triggered cycle in flight has finished
        streaming.cancel()
        await asyncio.gather(streaming, return_exceptions=True)
    jobs.journal_check()
    problem = jobs.journal_problem
    stopped = "daemon stopped" + ("" if problem is None else f": journal failed ({problem})")
    severity = Severity.INFO if problem is None else Severity.CRITICAL
    alerts.emit(_daemon_event(AlertKind.DAEMON_STOPPED, severity, stopped, clock.now_ms()))
    alerts.tick(clock.now_ms())
    return problem


def _trading_status(journal: Journal) -> str:
    """The trading state as systemd's STATUS= shows it; a journal that cannot say is a status
    too, never an exception (it would stop the watchdog pings of a daemon that is alive)."""
    try:
        return f"trading {journal.state.trading_state().mode.value}"
    except JournalError as exc:
        return f"journal failed: {exc}"


def install_signal_handlers(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT ask for an orderly stop (a second one is the same request)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
