"""Start-up of the commands an operator runs by hand, each in a fresh process as typed.

An operator who types ``deltabot halt`` in an incident waits for the interpreter, the
imports and the config before anything happens; on the Zen 1 machine of 2026-12-05 that
was 3.8 s for ``halt --help``, 6.7 s for ``status`` and 6.0 s for ``check-config``
(issue 18: the error tuples imported the backtester, the config the compiled stress
kernel and ``scipy.optimize``, ``status`` the whole daemon, the emulator
``scipy.signal``). The baseline in the same process is a bare interpreter's start-up.
Each command runs once first (Python writes its bytecode, numba loads its cache), then
the median of five runs; ``PYTHONDONTWRITEBYTECODE`` is dropped, as a user has it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._util import report

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5


def _seconds(argv: list[str], env: dict[str, str], cwd: str, *, status: int = 0) -> float:
    """Median wall seconds of ``argv`` over :data:`RUNS` runs after one warm-up run, which
    must exit with ``status`` (else the figure would time some other failure)."""
    first = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if first.returncode != status:
        raise SystemExit(f"{argv[1:]} exited {first.returncode}, not {status}: {first.stderr}")
    out = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def run() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    deltabot = str(Path(sys.executable).parent / "deltabot")
    config = str(ROOT / "config.example.toml")
    with tempfile.TemporaryDirectory() as cwd:  # no journal here: status reads the config only
        base = _seconds([sys.executable, "-c", "pass"], env, cwd)
        report("baseline: bare interpreter start-up, median", base * 1e3, "ms")
        for label, args, status in (
            ("deltabot --help", ["--help"], 0),
            ("deltabot halt --help", ["halt", "--help"], 0),
            ("deltabot status (no daemon, no journal)", ["status", "--config", config], 2),
            ("deltabot check-config, the example", ["check-config", "--config", config], 0),
        ):
            seconds = _seconds([deltabot, *args], env, cwd, status=status)
            report(f"{label}, median", seconds, "s")
