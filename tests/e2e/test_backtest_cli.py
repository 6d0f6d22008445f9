"""`python -m bot backtest` as a subprocess: exit codes and output, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def deltabot(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` from the repository."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "backtest", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_json_report_for_a_grid() -> None:
    """A band grid over GBM paths prints one JSON summary per grid point and exits 0."""
    done = deltabot(
        "--option",
        "call:100:0.0833:-1",
        "--paths",
        "2000",
        "--steps",
        "20",
        "--seed",
        "1",
        "--strategy",
        "band",
        "--param",
        "width_down=0.05",
        "--grid",
        "width_up=0.02,0.1",
        "--fee",
        "0.0005",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    strategies = json.loads(done.stdout)["strategies"]
    assert len(strategies) == 2
    assert strategies[0]["costs_usd_mean"] > strategies[1]["costs_usd_mean"]


def test_bad_option_exits_2_with_a_message() -> None:
    """A malformed --option is one error line on stderr and exit 2."""
    done = deltabot("--option", "call:100", "--strategy", "band")
    assert done.returncode == 2
    assert "expected KIND:STRIKE" in done.stderr and "Traceback" not in done.stderr
