"""Where heavy work runs: in this process, on a local Dask cluster, or on a remote one.

One seam for every heavy command (``deltabot backtest``, ``deltabot stress``):
the caller cuts its work into chunks (never one task per path), hands them to
:func:`open_runner`'s runner with any large read-only input as ``shared``
(sent to the workers once), and receives each chunk's summary as it finishes::

    with open_runner("local") as runner:          # or "serial", "tcp://host:8786"
        for done in runner.run(simulate, chunks, shared=book):
            ...                                     # Done(index, value) | Failed(index, error)

A chunk's result may depend only on its own inputs (its random stream comes
from ``numpy.random.SeedSequence``, never from the worker), so the same work
gives the same figures, bit for bit, on every runner and worker count.
:func:`run_all` collects every chunk's value in order, or raises one ValueError
naming every chunk that failed.
"""

from bot.compute._runner import (
    SCHEDULERS_HELP,
    Done,
    Failed,
    Finished,
    Runner,
    SchedulerError,
    SerialRunner,
    open_runner,
    parse_scheduler,
    run_all,
)

__all__ = [
    "SCHEDULERS_HELP",
    "Done",
    "Failed",
    "Finished",
    "Runner",
    "SchedulerError",
    "SerialRunner",
    "open_runner",
    "parse_scheduler",
    "run_all",
]
