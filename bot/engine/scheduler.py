"""The daemon's jobs on apscheduler, and an orderly stop.

``AsyncIOScheduler`` runs every job with ``max_instances=1`` and
``coalesce=True``. The jobs that read venues and write the journal (hedge
cycle, reconcile, collateral) take turns behind one lock, so they never
interleave their journal writes; the hedge cycle skips a turn when another
holds it (the next turn comes soon with current data), the others wait. The
margin, stress and surface jobs only compute from (or fit to) the latest read
and need no lock. Each job receives the context and the latest read and
returns a value; only :class:`Jobs` keeps the newest :class:`LatestRead`.

The journal check (:mod:`bot.engine.journal_check`) runs on its own wall-clock
interval; once it has failed, the jobs that use the journal run no more and
:attr:`Jobs.journal_problem` says why.

Intervals are in (possibly simulated) seconds: ``speed`` simulated seconds
pass per wall second, so the scheduler's wall intervals shrink by it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.stress import LightStress
from bot.engine.alert_watch import AlertWatch, watch_cycle
from bot.engine.collateral_job import run_collateral
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle import HedgeEngine
from bot.engine.cycle_result import CycleResult
from bot.engine.funding import read_due, record_funding
from bot.engine.history import HISTORY_CYCLES, CyclePoint, point_of
from bot.engine.journal_check import JOURNAL_CHECK_INTERVAL_S, check_journal
from bot.engine.margin_job import MarginView, margin_snapshot, stress_snapshot
from bot.engine.option_hedge_job import execute_approved, propose_option_hedges
from bot.engine.reconciler import reconcile_journal
from bot.engine.surface_job import refresh_surfaces

log = structlog.get_logger("deltabot.scheduler")


@dataclass(slots=True)
class Jobs:
    """The daemon's jobs over one context; holds the newest read and the turn lock."""

    ctx: EngineContext
    engine: HedgeEngine
    on_cycle: Callable[[CycleResult], None] | None = None
    latest: LatestRead = field(default_factory=LatestRead)
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    current: asyncio.Task[Any] | None = None
    readers: set[asyncio.Task[Any]] = field(default_factory=set)
    """Lock-free jobs in flight that await venues (the surface refresh)."""
    journal_problem: str | None = None
    """The first failed journal check's problem: trading is halted, the daemon exits non-zero."""
    margin_view: MarginView | None = None
    """The newest margin job's result (liquidation distances, drift), for the dashboard."""
    stress_view: LightStress | None = None
    """The newest light stress pass, for the dashboard."""
    history: deque[CyclePoint] = field(default_factory=lambda: deque(maxlen=HISTORY_CYCLES))
    """Recent planned cycles' figures, oldest first (the dashboard's chart)."""
    watch: AlertWatch | None = None
    """What the alert detectors carry between cycles (made at the first cycle)."""
    funding_read_ms: int | None = None
    """When the venues' funding payments were last read (daemon clock; None: not yet)."""

    async def hedge_cycle(self) -> None:
        result = await self.engine.run_cycle(self.latest.surfaces)
        self.latest = self.latest.after_cycle(result)
        point = point_of(result)
        if point is not None:
            self.history.append(point)
        if self.on_cycle is not None:
            self.on_cycle(result)
        self.alerts()

    def alerts(self) -> None:
        """The alerts the newest cycle gives rise to (:mod:`bot.engine.alert_watch`)."""
        if self.watch is None:
            self.watch = AlertWatch.start(self.ctx)
        watch_cycle(self.ctx, self.watch, self.latest)

    async def reconcile(self) -> None:
        await reconcile_journal(self.ctx)
        now = self.ctx.clock_ms()
        if self.funding_read_ms is None:
            self.funding_read_ms = now  # the first read waits for a funding time: a quick start
        elif read_due(self.funding_read_ms, now):
            self.funding_read_ms = now
            await record_funding(self.ctx)

    async def collateral(self) -> None:
        await run_collateral(self.ctx, self.latest)

    async def options_hedge(self) -> None:
        await execute_approved(self.ctx, self.latest)
        await propose_option_hedges(self.ctx, self.latest)

    async def surfaces(self) -> None:
        fitted = await refresh_surfaces(self.ctx, self.latest)
        self.latest = replace(self.latest, surfaces=fitted)  # the newest read, after the await

    def margin(self) -> None:
        self.margin_view = margin_snapshot(self.ctx, self.latest) or self.margin_view

    def stress(self) -> None:
        self.stress_view = stress_snapshot(self.ctx, self.latest) or self.stress_view

    async def cycle_now(self) -> bool:
        """Run a hedge cycle now (an operator's request) through the same guarded path as
        the scheduled one: False, and nothing run, when another job holds the lock."""
        return await self.guarded("hedge_cycle", self.hedge_cycle, wait=False)

    def journal_check(self) -> None:
        problem = check_journal(self.ctx)
        self.journal_problem = self.journal_problem or problem

    async def guarded(self, job: str, work: Callable[[], Awaitable[Any]], *, wait: bool) -> bool:
        """Run one job that reads venues or writes the journal, one such job at a time;
        whether it ran (a job that ran and failed is logged and counts as run).

        The hedge cycle skips a turn when another job holds the lock (the next turn
        comes soon and carries current data); a reconciliation waits its turn
        (``wait``), since at equal intervals it would otherwise always meet a cycle.
        """
        stopping = self.ctx.stopping
        if stopping or (self.busy.locked() and not wait):
            log.debug("job_skipped", job=job, stopping=stopping)
            return False
        if self.journal_problem is not None:
            log.debug("job_skipped", job=job, journal_problem=self.journal_problem)
            return False
        try:
            async with self.busy:
                if self.ctx.stopping:
                    return False
                self.current = asyncio.current_task()
                try:
                    await work()
                except Exception:  # a job failure must not kill the scheduler
                    log.exception("job_failed", job=job)
                finally:
                    self.current = None
        except asyncio.CancelledError:
            if not self.ctx.stopping:
                raise
            log.warning("job_aborted", job=job, reason="shutdown")  # planned, not a fault
        return True

    async def unlocked(self, job: str, work: Callable[[], Awaitable[Any]]) -> None:
        """A job that reads venues but writes nothing (the surface refresh): it needs no lock.

        At shutdown it is cancelled wherever it waits (a read, the request budget): a
        planned stop, logged as such, never a traceback.
        """
        task = asyncio.current_task()
        if task is not None:
            self.readers.add(task)
        try:
            await work()
        except asyncio.CancelledError:
            if not self.ctx.stopping:
                raise
            log.info("job_aborted", job=job, reason="shutdown")
        except Exception:
            log.exception("job_failed", job=job)
        finally:
            self.readers.discard(task)


async def _computed(job: str, work: Callable[[], Any]) -> None:
    """A job that only computes from the latest read (margin, stress): it needs no lock."""
    try:
        work()
    except Exception:
        log.exception("job_failed", job=job)


def schedule(
    jobs: Jobs, speed: float, *, journal_check_s: float = JOURNAL_CHECK_INTERVAL_S
) -> AsyncIOScheduler:
    """Every job at its configured interval (``speed`` simulated seconds per wall second); the
    journal check every ``journal_check_s`` wall seconds."""
    cfg = jobs.ctx.config
    scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True})
    guarded: list[tuple[str, Callable[[], Awaitable[None]], float, bool]] = [
        ("hedge_cycle", jobs.hedge_cycle, cfg.daemon.hedge_interval_s, False),
        ("reconcile", jobs.reconcile, cfg.daemon.reconcile_interval_s, True),
        ("collateral", jobs.collateral, cfg.daemon.margin_interval_s, True),
    ]
    if cfg.options_hedge.enabled:
        guarded.append(("options_hedge", jobs.options_hedge, cfg.options_hedge.interval_s, True))
    for name, work, interval_s, wait in guarded:
        scheduler.add_job(
            jobs.guarded,
            "interval",
            args=(name, work),
            kwargs={"wait": wait},
            seconds=interval_s / speed,
            id=name,
            name=name,
        )
    scheduler.add_job(
        jobs.unlocked,
        "interval",
        args=("surface", jobs.surfaces),
        seconds=cfg.daemon.surface_interval_s / speed,
        id="surface",
        name="surface",
    )
    computed: list[tuple[str, Callable[[], None], float]] = [
        ("margin", jobs.margin, cfg.daemon.margin_interval_s / speed),
        ("stress", jobs.stress, cfg.stress.interval_s / speed),
        ("journal_check", jobs.journal_check, journal_check_s),
    ]
    for name, compute, wall_s in computed:
        scheduler.add_job(
            _computed,
            "interval",
            args=(name, compute),
            seconds=wall_s,
            id=name,
            name=name,
        )
    return scheduler


async def stop(jobs: Jobs, scheduler: AsyncIOScheduler) -> None:
    """No new writes; let the job in flight finish within the timeout, else cancel it; cancel
    the lock-free readers (they write nothing)."""
    jobs.ctx.stop.set()
    scheduler.pause()  # shutting down now would cancel the job in flight
    timeout = jobs.ctx.config.daemon.shutdown_timeout_s
    try:
        await asyncio.wait_for(jobs.busy.acquire(), timeout)
    except TimeoutError:
        task = jobs.current
        log.warning("job_aborted_at_shutdown", timeout_s=timeout)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    else:
        jobs.busy.release()
    readers = list(jobs.readers)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    scheduler.shutdown(wait=False)
