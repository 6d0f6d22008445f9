"""Timing helpers shared by the bench sections."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bot.ops.threads import bound_native_threads


def pin_one_core() -> None:
    """Pin this process to one core so 'per core' figures mean what they say, and its
    BLAS/OpenMP pools to one thread (more threads than cores spin against each other)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    bound_native_threads(1)


def times(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> np.ndarray:
    """Wall-clock seconds of ``repeat`` calls of ``fn`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    out = np.empty(repeat)
    for i in range(repeat):
        t0 = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t0
    return out


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(label: str, value: float, unit: str, target: str = "", ok: bool | None = None) -> None:
    """Print one figure, its target and whether it met it (``ok`` None: no target)."""
    verdict = "" if ok is None else ("  [meets target]" if ok else "  [MISSES target]")
    tgt = f"  (target {target})" if target else ""
    print(f"  {label:<58} {value:>14,.3f} {unit}{tgt}{verdict}", flush=True)
