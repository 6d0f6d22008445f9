"""The runners: serial (this process) and Dask (a local cluster, or a scheduler's address).

A runner takes a function of ``(shared, item)`` and a sequence of items and
yields each item's outcome as it finishes: :class:`Done` with the value, or
:class:`Failed` with the error's text (the rest of the items still run). On
Dask, ``shared`` is scattered to every worker once, not pickled into each task;
a worker lost mid-run has its tasks recomputed elsewhere by the scheduler; an
interrupted run (Ctrl-C) cancels what is left, and a local cluster is shut
down with its worker processes when the ``with`` block ends, however it ends.

The local cluster runs one single-threaded worker process per core: the
kernels are vectorised numpy, so threads would contend for the GIL, and the
nanny starts each worker with ``OMP_NUM_THREADS=1`` (and the MKL/OpenBLAS
equivalents), so the BLAS pools do not oversubscribe the cores either; it
does not set Dask's default ``MALLOC_TRIM_THRESHOLD_`` (see :data:`WORKER_ENVIRON`), nor run
Dask's per-worker profiler; it ticks once a second, and its results come straight from the
workers (:data:`CLUSTER_CONFIG`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

SCHEDULERS_HELP: Final = "serial | local | tcp://HOST:PORT"
"""How a scheduler is written, for help texts and errors."""
PRE_SPAWN_ENVIRON: Final = "distributed.nanny.pre-spawn-environ"
WORKER_ENVIRON: Final = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
"""The local workers' environment: BLAS pools of one thread, and not Dask's default
``MALLOC_TRIM_THRESHOLD_=65536``, which returns every large numpy temporary to the kernel
and made a backtest chunk twice as slow (measured: 9.6 s instead of 4.3 s serially)."""
CLUSTER_CONFIG: Final = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.client.direct-to-workers": True,
}
"""The local cluster's Dask config (its scheduler, client and workers), whose CPU is taken
from the chunks: no statistical profiler, which samples every thread's stack each 10 ms for
the dashboard's profile page (that needs bokeh, not installed); and the event loops'
responsiveness measured each second, not each 20 ms (it feeds metrics and a warning after
3 s unanswered): an idle 2-worker cluster used 0.65 CPU seconds in 10 s, 0.22 with it; and
the client fetching results from the workers, not through the scheduler: Dask's default for a
client outside a worker sends each result worker -> scheduler -> client, both hops into this
process (a backtest grid's 8 MB of totals per chunk: the parent's CPU 0.17-0.33 s a 200,000-path
grid, 0.11-0.13 s direct; the workers are on this machine, so the client can always reach them)."""
SILENT: Final = logging.CRITICAL + 1
"""A log level above every message's."""
CONNECT_TIMEOUT_S: Final = 10.0
"""How long to wait for a remote scheduler before saying it cannot be reached."""


class SchedulerError(ValueError):
    """A scheduler that is not one of :data:`SCHEDULERS_HELP`, or that cannot be reached."""


@dataclass(frozen=True, slots=True)
class Done(Generic[R_co]):
    """Item ``index`` finished with ``value``."""

    index: int
    value: R_co


@dataclass(frozen=True, slots=True)
class Failed:
    """Item ``index`` raised an exception of type ``kind`` (its name) saying ``message``."""

    index: int
    kind: str
    message: str

    @property
    def error(self) -> str:
        """``Kind: message``, for a report."""
        return f"{self.kind}: {self.message}"


Finished = Done[R] | Failed

Announce = Callable[[str], None]
"""Told one line when a cluster is ready (workers, dashboard)."""


class Runner(Protocol):
    """Runs chunks of heavy work; see the module doc."""

    @property
    def workers(self) -> int:
        """Worker processes (threads, on a remote cluster) the work spreads over."""
        ...

    def run(
        self, fn: Callable[[S, T], R], items: Sequence[T], *, shared: S
    ) -> Iterator[Finished[R]]:
        """``fn(shared, item)`` for each item, yielded as each finishes (any order)."""
        ...


def parse_scheduler(text: str) -> str:
    """``text`` checked: ``serial``, ``local`` or ``tcp://host:port``; SchedulerError if not."""
    if text in ("serial", "local"):
        return text
    host, sep, port = text.removeprefix("tcp://").rpartition(":")
    if text.startswith("tcp://") and sep and host and port.isdigit() and 0 < int(port) < 65536:
        return text
    raise SchedulerError(f"scheduler {text!r}: expected {SCHEDULERS_HELP}")


def run_all(
    runner: Runner,
    fn: Callable[[S, T], R],
    items: Sequence[T],
    *,
    shared: S,
    describe: Callable[[int], str],
    noun: str = "tasks",
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """Every item's value in the items' order, once all have run; ``progress`` is told
    (items done, items) after each. ValueError listing ``describe(index): error`` for each
    item that failed (the others still run, so the message names them all)."""
    done: dict[int, R] = {}
    failures = []
    for n, finished in enumerate(runner.run(fn, items, shared=shared), start=1):
        if isinstance(finished, Failed):
            failures.append((finished.index, f"{describe(finished.index)}: {finished.error}"))
        else:
            done[finished.index] = finished.value
        if progress:
            progress(n, len(items))
    if failures:
        listed = "; ".join(text for _, text in sorted(failures))
        raise ValueError(f"{len(failures)} of {len(items)} {noun} failed: {listed}")
    return [done[i] for i in range(len(items))]


def _failed(index: int, exc: BaseException) -> Failed:
    return Failed(index, type(exc).__name__, str(exc))


class SerialRunner:
    """Every item in this process, in order: no start-up cost, nothing to shut down."""

    @property
    def workers(self) -> int:
        return 1

    def run(
        self, fn: Callable[[S, T], R], items: Sequence[T], *, shared: S
    ) -> Iterator[Finished[R]]:
        for i, item in enumerate(items):
            try:
                value = fn(shared, item)
            except Exception as exc:  # a chunk's failure is reported; the rest run
                yield _failed(i, exc)
            else:
                yield Done(i, value)
                del value  # not held while the next item runs: the caller may be done with it


class DaskRunner:
    """Items as tasks on a ``distributed.Client``; ``shared`` scattered to every worker once."""

    def __init__(self, client: object, workers: int) -> None:
        self._client = client
        self._workers = workers

    @property
    def workers(self) -> int:
        return self._workers

    def run(
        self, fn: Callable[[S, T], R], items: Sequence[T], *, shared: S
    ) -> Iterator[Finished[R]]:
        from distributed import Client, as_completed  # noqa: PLC0415 - dask only when used

        client = self._client
        assert isinstance(client, Client)
        [shared_future] = client.scatter([shared], broadcast=True, hash=False)
        futures = [client.submit(fn, shared_future, item, pure=False) for item in items]
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                i = index[future.key]
                if future.status == "error":
                    yield _failed(i, future.exception())
                else:
                    yield Done(i, future.result())
                future.release()
        finally:
            client.cancel(futures)
            client.cancel([shared_future])


class LocalRunner:
    """A ``LocalCluster`` of ``workers`` single-threaded processes, started on the first run
    of more than one item (one item runs here: a cluster would only add its start-up)."""

    def __init__(self, workers: int, stack: ExitStack, announce: Announce) -> None:
        self._workers = workers
        self._stack = stack
        self._announce = announce
        self._dask: DaskRunner | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def run(
        self, fn: Callable[[S, T], R], items: Sequence[T], *, shared: S
    ) -> Iterator[Finished[R]]:
        if len(items) <= 1 and self._dask is None:
            return SerialRunner().run(fn, items, shared=shared)
        return self._start().run(fn, items, shared=shared)

    def _start(self) -> DaskRunner:
        """The cluster, started now if it is not running yet."""
        if self._dask is None:
            import dask  # noqa: PLC0415 - ~0.5 s import, only when used
            from distributed import Client, LocalCluster  # noqa: PLC0415

            self._stack.enter_context(
                dask.config.set({PRE_SPAWN_ENVIRON: WORKER_ENVIRON, **CLUSTER_CONFIG})
            )
            t0 = time.perf_counter()
            with _sigint_ignored():
                cluster = self._stack.enter_context(
                    LocalCluster(
                        n_workers=self._workers,
                        threads_per_worker=1,
                        processes=True,
                        # The backtest bounds its own memory (run_memory_bytes) before it starts.
                        memory_limit=0,
                        # A free port: two runs at once must not fight over Dask's 8787.
                        dashboard_address="127.0.0.1:0",
                        host="127.0.0.1",
                        silence_logs=SILENT,  # a failed chunk is reported by the caller
                    )
                )
            client = self._stack.enter_context(Client(cluster))
            self._dask = DaskRunner(client, self._workers)
            started = _started("local Dask cluster", self._workers, client.dashboard_link)
            # Paid once per command, whatever the work: a user weighs it against the work.
            self._announce(f"{started}, started in {time.perf_counter() - t0:.1f} s")
        return self._dask


@contextmanager
def _quiet_cluster() -> Iterator[None]:
    """Hush asyncio's and Dask's loggers while a local cluster runs and stops: a cluster
    stopped mid-run (Ctrl-C) has its scheduler log its own comms' errors, even as CRITICAL;
    the run's own errors reach the caller as :class:`Failed` or as the exception."""
    logs = [logging.getLogger(name) for name in ("asyncio", "distributed")]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(SILENT)
    try:
        yield
    finally:
        for log, level in zip(logs, levels, strict=True):
            log.setLevel(level)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes start, which keeps it ignored in them (Python
    keeps an inherited SIG_IGN): Ctrl-C in a terminal reaches the whole process group, and
    it is this process that stops the workers, without a traceback from each. Only the
    main thread may change a signal's handler; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _started(what: str, workers: int, dashboard: str | None) -> str:
    board = f"dashboard {dashboard}" if dashboard else "no dashboard"
    return f"{what}: {workers} worker{'s' if workers != 1 else ''}, {board}"


def _quiet(text: str) -> None:
    """The default :data:`Announce`: say nothing."""


@contextmanager
def open_runner(
    scheduler: str, *, workers: int | None = None, announce: Announce = _quiet
) -> Iterator[Runner]:
    """The runner ``scheduler`` names, shut down on leaving the block.

    ``local`` starts ``workers`` (default: this machine's cores) worker
    processes of one thread when it is first given more than one item (one
    worker runs in this process);
    ``tcp://host:port`` connects to a running ``dask scheduler`` and uses its
    workers. ``announce`` is told, in a line, when a cluster is ready: its
    workers and its dashboard's address. SchedulerError if the text is not a
    scheduler or the address does not answer.
    """
    scheduler = parse_scheduler(scheduler)
    if scheduler == "serial":
        yield SerialRunner()
        return
    if scheduler == "local":
        n = workers or os.cpu_count() or 1
        if n == 1:  # a cluster of one worker would only add its start-up
            yield SerialRunner()
            return
        with ExitStack() as stack:
            stack.enter_context(_quiet_cluster())  # entered first: left after the cluster
            yield LocalRunner(n, stack, announce)
        return
    from distributed import Client  # noqa: PLC0415 - ~0.5 s import, only when used

    try:
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        info = client.scheduler_info()
        threads = sum(int(w["nthreads"]) for w in info["workers"].values())
        if threads == 0:
            raise SchedulerError(f"the Dask scheduler at {scheduler} has no workers")
        link = client.dashboard_link if "dashboard" in info.get("services", {}) else None
        announce(_started(f"Dask scheduler {scheduler}", threads, link))
        yield DaskRunner(client, threads)
