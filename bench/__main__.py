"""Run every ``bench/bench_*.py`` module (or those named on the command line).

Each module exposes ``run() -> None`` and prints its own figures through
:func:`bench._util.report`. Targets are printed beside the figures, never
asserted: shared machines are noisy. Each section runs in a fresh Python
process, so one section's pinned cores, forked workers, native thread pools or
heap cannot slow the next (issue 18: liquidation distance took 40x longer after
the backtest's pool and the daemon's pinning ran in the same process).
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

from bench._machine import machine_lines

_ONE = "--one"
"""Run one section in this process (what each fresh child process is told to do)."""


def main(argv: list[str]) -> int:
    names = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    if argv[:1] == [_ONE]:
        importlib.import_module(f"bench.bench_{argv[1]}").run()
        return 0
    wanted = argv or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown bench section(s): {', '.join(unknown)}; have: {', '.join(names)}")
        return 2
    print("== machine ==")
    for line in machine_lines():
        print(f"  {line}")
    failed = []
    for name in wanted:
        print(f"\n== {name} ==", flush=True)
        if subprocess.run([sys.executable, "-m", "bench", _ONE, name], check=False).returncode:
            failed.append(name)
    if failed:
        print(f"\nbench section(s) failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
