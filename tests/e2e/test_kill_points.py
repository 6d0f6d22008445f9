"""Fuzzed kill points (issue 11): ``deltabot run`` dies by SIGKILL between two steps of the
executor's order sends or the collateral job's transfer sends, restarts, and the journal and
the venues still tell one story.

Each iteration (``tests/e2e/kill_lab.py``) runs two standalone ``deltabot sim-venue``
emulators and a daemon armed with one kill point (``tests/e2e/kill_points.py``: journal and
venue methods patched in the child process, no hook in production code), checks that the
crash left the journal exactly where the kill point says, optionally sets an operator halt,
restarts the daemon for a couple of cycles, stops it and checks the invariants.

The short test covers every kill point once in the normal suite. The soak test draws 200
random ones (``make soak``; ``--soak-iterations`` and ``--soak-seed`` change the count and
the seed, and a failure names the seed that reproduces it with ``--soak-iterations 1``).
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.kill_lab import Iteration
from tests.e2e.kill_points import KILL_POINTS

pytestmark = pytest.mark.slow

SHORT_SEED = 1_100
HALTED_IN_SHORT = frozenset({"order.sent", "transfer.sent"})
"""Kill points the short test restarts under an operator halt: a send the venue executed
but the journal never heard of, then a restart that must send nothing."""
MAX_FAILURES = 5
"""The soak stops after this many failed iterations (each is reported with its seed)."""


def _run(iteration: Iteration) -> None:
    try:
        iteration.run()
    except AssertionError as exc:
        raise AssertionError(
            f"kill-point iteration failed: {iteration.describe()} (files in {iteration.tmp})\n{exc}"
        ) from exc


def test_every_kill_point_once(tmp_path: Path) -> None:
    """Killed after each send step, then restarted: nothing sent twice or halted, books agree."""
    for i, step in enumerate(KILL_POINTS):
        iteration = Iteration.draw(tmp_path / step, SHORT_SEED + i, step)
        iteration.halt = step in HALTED_IN_SHORT
        _run(iteration)


@pytest.mark.soak
def test_kill_point_soak(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Seeded random kill points, each followed by a restart: every invariant holds each time."""
    count: int = request.config.getoption("--soak-iterations")
    given: int | None = request.config.getoption("--soak-seed")
    base = random.SystemRandom().randrange(1 << 31) if given is None else given
    print(f"kill-point soak: {count} iterations from seed {base}", flush=True)
    failures: list[str] = []
    started = time.monotonic()
    for i in range(count):
        iteration = Iteration.draw(tmp_path / f"it{i:04d}", base + i)
        t0 = time.monotonic()
        try:
            _run(iteration)
        except AssertionError as exc:
            failures.append(f"--soak-seed {iteration.seed} --soak-iterations 1: {exc}")
            if len(failures) >= MAX_FAILURES:
                break
            continue
        shutil.rmtree(iteration.tmp, ignore_errors=True)
        took = time.monotonic() - t0
        print(f"{i + 1}/{count} {iteration.describe()} ok {took:.1f} s", flush=True)
    print(f"kill-point soak: {time.monotonic() - started:.0f} s", flush=True)
    assert not failures, f"{len(failures)} iteration(s) failed:\n" + "\n\n".join(failures)
