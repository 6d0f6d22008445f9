"""Native thread pools (OpenBLAS, MKL, OpenMP) sized to the cores a process may use.

OpenBLAS and OpenMP size their pools from the machine, not from the process's CPU
affinity. A process pinned to one core (``taskset``, systemd ``CPUAffinity=``, a bench)
or one of several workers forked onto the same cores then runs more spinning native
threads than it has cores: a 10,000-position liquidation distance took 2.6 s instead
of 63 ms that way (issue 18). ``threadpoolctl`` sets the pools' sizes at run time,
whatever library loaded them.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

from bot.pricing.parallel import cap_kernel_threads, usable_cores


def bound_native_threads(threads: int | None = None) -> int:
    """Cap every native pool of this process at ``threads`` (default: its usable cores).

    The kernels' own thread pool (:mod:`bot.pricing.parallel`) gets the same cap.
    Returns the cap. Called once where a process is pinned or forked; the cap holds for
    the rest of the process (the controller is not used as a context manager).
    """
    cap = usable_cores() if threads is None else threads
    if cap < 1:
        raise ValueError(f"native thread cap must be >= 1, got {cap}")
    threadpool_limits(limits=cap)
    cap_kernel_threads(cap)
    return cap
