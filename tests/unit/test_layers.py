"""The import contracts (pyproject.toml, run by `make layers`) fail on a deliberate violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "bot/engine/cycle.py",
            "import bot.sim.market",
            "the engine never imports the simulator, the backtester or the composition layer",
        ),
        (
            "bot/domain/risk.py",
            "import bot.config.risk",
            "the pure core (pricing, domain) reads no config, does no I/O and reads no clock",
        ),
        (
            "bot/commands/status.py",
            "import bot.journal",
            "commands only parse arguments, call the app (or the backtester) and print",
        ),
        (
            "bot/ops/metrics.py",
            "import bot.config",
            "ops imports no config (no cycle between the two)",
        ),
    ],
)
def test_a_deliberate_layer_violation_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """One forbidden import added to a copy of the tree makes lint-imports fail on its rule."""
    for package in ("bot", "strategies"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # deliberate violation\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert f"{contract} BROKEN" in run.stdout
    assert line.rsplit(maxsplit=1)[-1] in run.stdout
