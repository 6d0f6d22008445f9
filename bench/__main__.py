"""Run every ``bench/bench_*.py`` module (or those named on the command line).

Each module exposes ``run() -> None`` and prints its own figures through
:func:`bench._util.report`. Targets are printed beside the figures, never
asserted: shared machines are noisy.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    wanted = argv or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown bench section(s): {', '.join(unknown)}; have: {', '.join(names)}")
        return 2
    for name in wanted:
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"bench.bench_{name}").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
