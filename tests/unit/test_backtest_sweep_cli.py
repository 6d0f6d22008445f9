"""`deltabot backtest --grid FILE.toml` in process: the report, and one line, exit 2, for bad
input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.commands import backtest

BASE = ["--option", "call:100:0.0833:-1", "--paths", "200", "--steps", "6", "--scheduler", "serial"]
BAND = 'name = "band"\nparams = { width_up = 0.05, width_down = 0.05 }\n'


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deltabot backtest")
    backtest.add_arguments(parser)
    return backtest.run(parser.parse_args(argv), {})


def _grid(tmp_path: Path, text: str) -> str:
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return str(path)


def test_missing_axes_come_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file of seeds and strategies only: the model and the costs are the options'; one
    cell per seed, each with its standard errors."""
    grid = _grid(tmp_path, f"seeds = [3, 4]\n[[strategies]]\n{BAND}")
    assert _run([*BASE, "--fee", "0.001", "--vol", "0.3", "--grid", grid, "--json"]) == 0
    cells = json.loads(capsys.readouterr().out)["cells"]
    assert [(c["seed"], c["model"]) for c in cells] == [(3, "gbm"), (4, "gbm")]
    assert json.loads(cells[0]["costs"])["fee_frac"] == 0.001
    assert all(c["pnl_mean_se_usd"] > 0 and c["costs_usd_mean_se"] > 0 for c in cells)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sedes = [1]\n", "the grid file: unknown key 'sedes'"),
        ("seeds = [-1]\n", "seeds: expected a list of integers >= 0"),
        (f"[[strategies]]\n{BAND}colour = 1\n", "strategies[0]: unknown key 'colour'"),
        (f"[[strategies]]\n{BAND}[[models]]\nmodel = 'gbm'\nvol = -1.0\n", "models[0]: vol"),
        (f"[[strategies]]\n{BAND}[[costs]]\nfee = -0.1\n", "costs[0]: fee_frac must be"),
        ("seeds = [1\n", "not valid TOML"),
    ],
)
def test_a_bad_grid_file_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    """A bad key or value in the grid file: exit 2, one stderr line naming file and key."""
    assert _run([*BASE, "--grid", _grid(tmp_path, text)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deltabot backtest: error: ") and problem in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("option", [["--out", "x"], ["--resume"], ["--risk-budget", "1"]])
def test_sweep_options_without_a_grid_file_are_refused(
    capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """--out, --resume and --risk-budget without --grid FILE.toml: exit 2, one line."""
    assert _run([*BASE, "--strategy", "band", *option]) == 2
    assert "need --grid FILE.toml" in capsys.readouterr().err


def test_resume_needs_a_results_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--resume without --out: exit 2 saying --out DIR is needed."""
    grid = _grid(tmp_path, f"[[strategies]]\n{BAND}")
    assert _run([*BASE, "--grid", grid, "--resume"]) == 2
    assert "--resume needs --out DIR" in capsys.readouterr().err
