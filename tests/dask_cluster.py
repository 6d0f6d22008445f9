"""A Dask cluster of separate processes on loopback: ``dask scheduler`` and ``dask worker``s.

The scheduler and each worker are processes of their own, as on a real
multi-machine cluster; workers run without a nanny, so a test can kill one
and the scheduler sees a worker lost mid-run. Everything is stopped on exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).parent / "dask")
START_TIMEOUT_S = 60.0
"""How long the scheduler and its workers get to come up (the machine is shared)."""


@dataclass(frozen=True)
class LoopbackCluster:
    """The scheduler's address and the worker processes."""

    address: str
    workers: tuple[subprocess.Popen[bytes], ...]


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def loopback_cluster(n_workers: int = 2) -> Iterator[LoopbackCluster]:
    """A scheduler and ``n_workers`` single-threaded workers on 127.0.0.1, all stopped after."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
             "--no-dashboard"], **quiet,  # type: ignore[call-overload]
        )
    ]  # fmt: skip
    try:
        workers = tuple(
            subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1"], **quiet,  # type: ignore[call-overload]
            )
            for _ in range(n_workers)
        )  # fmt: skip
        procs += workers
        with Client(address, timeout=f"{START_TIMEOUT_S}s") as client:
            client.wait_for_workers(n_workers, timeout=START_TIMEOUT_S)
        yield LoopbackCluster(address, workers)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
