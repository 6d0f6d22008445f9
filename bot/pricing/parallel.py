"""Large element-wise kernels split over threads, with results independent of the count.

numpy's and scipy's ufuncs release the GIL while they loop, so the pricing, implied
vol and stress kernels run on every core a process may use when their input is split
into contiguous parts, one thread each. A part is a run of the kernel's own chunks
(its ``grain``), never a chunk cut in two: every chunk is computed by the same calls
on the same elements whatever the number of threads, so the result is bit-identical
to the one-thread path (a test pins it). Inputs below ``min_elements`` stay on the
calling thread: handing work to the pool costs tens of microseconds.

The pool is created on first use with one thread per usable core (the process's CPU
affinity, so a pinned daemon or bench uses one; at most ``OMP_NUM_THREADS`` where it
is set, as the BLAS pools honour it, so a Dask worker started with one thread uses
one), and anew in a forked child (a process pool's worker), where the parent's
threads do not exist.

Worked example: 1,000,000 Black-76 options in chunks of 32,768 on 2 cores are two
parts of 16 and 15 chunks (524,288 and 475,712 options), each priced by one thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Final

MIN_PARALLEL_ELEMENTS: Final = 1 << 17
"""Below this many elements a kernel runs on the calling thread."""

_POOL: list[tuple[int, ThreadPoolExecutor]] = []
"""The process's pool with the pid that created it (a forked child makes its own)."""
_CAP: list[int] = []
"""The process-wide cap set by :func:`cap_kernel_threads` (empty: the usable cores)."""
_THREADS: list[int] = []
"""The counts set by :func:`kernel_threads`, innermost last; they override the cap."""


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_kernel_threads() -> int:
    """The usable cores, or fewer where ``OMP_NUM_THREADS`` (a positive integer) says so."""
    cores = usable_cores()
    omp = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(omp)) if omp.isdigit() and int(omp) > 0 else cores


def cap_kernel_threads(threads: int) -> None:
    """Run the kernels on at most ``threads`` threads for the rest of the process (a
    process-pool worker: the workers already fill the cores)."""
    if threads < 1:
        raise ValueError(f"kernel threads must be >= 1, got {threads}")
    _CAP[:] = [threads]


@contextmanager
def kernel_threads(threads: int) -> Iterator[None]:
    """Run the kernels on at most ``threads`` threads inside the block (benches, tests)."""
    if threads < 1:
        raise ValueError(f"kernel threads must be >= 1, got {threads}")
    _THREADS.append(threads)
    try:
        yield
    finally:
        _THREADS.pop()


def parts(n: int, grain: int, threads: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` bounds of at most ``threads`` contiguous parts of ``range(n)``, each a
    whole number of ``grain``-sized chunks (the last chunk may be short)."""
    chunks = -(-n // grain)
    count = max(1, min(threads, chunks))
    per, extra = divmod(chunks, count)
    out, lo = [], 0
    for i in range(count):
        hi = min(n, lo + (per + (i < extra)) * grain)
        out.append((lo, hi))
        lo = hi
    return out


def run_parts(
    fn: Callable[[int, int], None], n: int, *, grain: int, min_elements: int = MIN_PARALLEL_ELEMENTS
) -> None:
    """Call ``fn(lo, hi)`` over contiguous parts of ``range(n)`` on the pool's threads.

    ``fn`` must write only its own part of the output and walk it in ``grain``-sized
    chunks from ``lo``, as the one-thread path walks the whole. The first exception
    raised by a part is raised here once every part has finished.
    """
    if n < min_elements:
        fn(0, n)
        return
    threads = (_THREADS or _CAP or [default_kernel_threads()])[-1]
    if threads == 1:
        fn(0, n)
        return
    bounds = parts(n, grain, threads)
    if len(bounds) == 1:
        fn(0, n)
        return
    pool = _pool()
    futures = [pool.submit(fn, lo, hi) for lo, hi in bounds[1:]]
    try:
        fn(*bounds[0])  # the calling thread takes the first part
    finally:
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def _pool() -> ThreadPoolExecutor:
    pid = os.getpid()
    if not _POOL or _POOL[0][0] != pid:
        _POOL[:] = [(pid, ThreadPoolExecutor(usable_cores(), thread_name_prefix="kernel"))]
    return _POOL[0][1]
