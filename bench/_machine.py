"""What machine a bench run's figures come from.

The figures are absolute (ms, options a second) or ratios against a baseline in the same
process, and both move with the processor: on 2026-12-05 a 2-core machine of this
project's (AMD EPYC, Zen 1, AVX2 run as 128-bit halves, no AVX-512) ran the bench's bare
numpy delta-hedging loop in 2.30 CPU s against 1.04 s on the machine of 2026-12-04, and
the backtest's compiled kernels, which gain most from wide vector registers, 3.9x slower
(2.92 s against 0.75 s). So each run says which machine it was.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

_VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f")
"""The instruction sets numpy's loops and the compiled kernels are built for, narrowest first."""


def machine_lines() -> list[str]:
    """One line each: the processor, the vector instructions it has, and what LLVM (numba's
    compiler) takes it for; read from /proc/cpuinfo where there is one."""
    model, flags = platform.processor() or platform.machine(), set[str]()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    have = [f for f in _VECTOR_FLAGS if f in flags]
    lacking = [f for f in _VECTOR_FLAGS if f not in flags]
    vectors = " ".join(have) or "unknown"
    if flags and lacking:
        vectors += f" (not {' '.join(lacking)})"
    import llvmlite.binding as llvm  # noqa: PLC0415 - only where the header is printed

    return [
        f"processor: {model}, {cores} usable cores",
        f"vector instructions: {vectors}",
        f"LLVM's name for it (what the compiled kernels are built for): {llvm.get_host_cpu_name()}",
    ]
