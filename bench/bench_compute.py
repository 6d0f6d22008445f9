"""A sweep on the compute runners: 64 cells x 50,000 paths x 80 steps, serial vs local cluster.

The cells are 4 band widths x 2 cost levels x 2 models x 4 seeds (16 groups of
4 strategies sharing their paths). The serial run is the baseline, timed in
this process; the local cluster (one single-threaded worker process per
core) is timed in the same process, once started and warmed up (its start-up
is printed apart, and a speed-up with it paid). Speed-up = serial / cluster
wall time, efficiency = speed-up / workers, target speed-up >= 0.8 x workers.
Peak RSS per worker is each worker process's high-water mark (Linux
``VmHWM``). The machine's load average is printed before and after: on a
shared machine the wall times, and the speed-up, say as much about the other
work as about this one; the cluster's CPU seconds (workers, nannies, and
this process's scheduler and client) over the serial run's (1.0: no work added
by running in parallel) are much less sensitive to it.
``BENCH_COMPUTE_PATHS`` sets the paths per cell (default 50,000: the issue's
size) on a machine too busy for it.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import psutil

from bench._util import peak_rss_mib, report
from bot.backtest import GBM, Book, Costs, Merton, OptionLeg, StrategySpec
from bot.backtest.sweep import Sweep, SweepModel, run_sweep
from bot.compute import Runner, open_runner

PATHS = int(os.environ.get("BENCH_COMPUTE_PATHS", "50000"))
STEPS = 80
SWEEP = Sweep(
    book=Book((OptionLeg(True, 100.0, 1.0 / 12.0, -1.0),)),
    strategies=tuple(
        StrategySpec("band", {"width_up": w, "width_down": w}) for w in (0.02, 0.05, 0.1, 0.2)
    ),
    models=(
        SweepModel("gbm vol=0.2", GBM(100.0, 0.2, 0.05)),
        SweepModel("merton vol=0.2 jump_intensity=2", Merton(100.0, 0.2, 2.0, -0.05, 0.1, 0.05)),
    ),
    costs=(Costs(fee_frac=5e-4), Costs(fee_frac=1e-3, spread_frac=4e-4)),
    seeds=(1, 2, 3, 4),
)


def _sweep(runner: Runner) -> dict[str, list[dict[str, str | int | float]]]:
    return run_sweep(SWEEP, paths=PATHS, steps=STEPS, rate=0.05, runner=runner).rows


def _worker_peaks_mib() -> list[float]:
    """VmHWM of every process under this one that is not a nanny (the workers), MiB."""
    peaks = []
    for proc in psutil.Process().children(recursive=True):
        if proc.children():  # a nanny: its child is the worker
            continue
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        peaks.append(int(kib) / 1024.0)
    return peaks


def _cpu_s(procs: list[psutil.Process]) -> float:
    """User and system CPU seconds of ``procs`` so far."""
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


def run() -> None:
    workers = os.cpu_count() or 1
    report("cells (4 bands x 2 costs x 2 models x 4 seeds)", SWEEP.n_cells, "")
    report("paths per cell x steps", PATHS, f"x {STEPS}")
    report("load average (1 min) before", os.getloadavg()[0], "")
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    with open_runner("serial") as runner:
        serial_rows = _sweep(runner)
    serial = time.perf_counter() - t0
    serial_cpu = time.process_time() - cpu0
    report("serial, wall (baseline, this process)", serial, "s")
    report("serial, peak RSS", peak_rss_mib(), "MiB")
    t0 = time.perf_counter()
    with open_runner("local", workers=workers) as runner:
        # A two-task sweep starts the cluster and has every worker import the backtester.
        run_sweep(replace(SWEEP, seeds=tuple(range(workers))), paths=10, steps=2, runner=runner)
        procs = psutil.Process().children(recursive=True)
        cpu0 = _cpu_s(procs) + time.process_time()
        started = time.perf_counter()
        local_rows = _sweep(runner)
        local = time.perf_counter() - started
        local_cpu = _cpu_s(procs) + time.process_time() - cpu0
        peaks = _worker_peaks_mib()
    whole = time.perf_counter() - t0
    speed_up = serial / local
    target = 0.8 * workers
    report(f"local cluster, {workers} workers, start-up and warm-up", started - t0, "s")
    report(f"local cluster, {workers} workers, wall of the sweep", local, "s")
    report("speed-up, serial / local", speed_up, "x", f">= {target:g}", speed_up >= target)
    report("efficiency, speed-up / workers", speed_up / workers, "")
    report("speed-up with the start-up and shut-down paid", serial / whole, "x")
    report("cluster CPU / serial CPU (1 = no work added)", local_cpu / serial_cpu, "")
    report("peak RSS per worker, largest", max(peaks, default=0.0), "MiB")
    report("results identical, serial vs local (1 = yes)", float(serial_rows == local_rows), "")
    report("load average (1 min) after", os.getloadavg()[0], "")
