"""Shell completion: the entry point answers argcomplete's protocol, subcommand options too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.daemon_harness import REPO, cli_env


def _complete(line: str, tmp_path: Path) -> list[str]:
    """What ``deltabot`` offers at the end of ``line``, asked as the shell's hook asks."""
    out = tmp_path / "completions"
    env = cli_env(
        {
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        }
    )
    subprocess.run([sys.executable, "-m", "bot"], cwd=REPO, env=env, check=True, timeout=60)
    return [word.strip() for word in out.read_text().split("\013")]


def test_subcommands_complete(tmp_path: Path) -> None:
    """A partial subcommand completes to its name."""
    assert _complete("deltabot de", tmp_path) == ["demo"]


def test_a_subcommands_options_complete(tmp_path: Path) -> None:
    """The options of the subcommand on the line complete, though it is loaded lazily."""
    assert _complete("deltabot backtest --st", tmp_path) == ["--strategy", "--steps"]
    assert "--json" in _complete("deltabot collateral plan --", tmp_path)


def test_the_console_script_carries_the_marker() -> None:
    """argcomplete's global hook finds the PYTHON_ARGCOMPLETE_OK marker behind `deltabot`."""
    script = Path(sys.executable).parent / "deltabot"
    if not script.exists():
        pytest.skip(f"no console script at {script} (not installed with make install)")
    check = [sys.executable, "-W", "ignore", "-m", "argcomplete._check_console_script"]
    assert subprocess.run([*check, str(script)], check=False, timeout=60).returncode == 0
