"""`deltabot backtest` in process: argument parsing, report output, exit 2 on bad input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.commands import backtest

BASE = ["--option", "call:100:0.0833:-1", "--paths", "300", "--steps", "10", "--workers", "1"]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deltabot backtest")
    backtest.add_arguments(parser)
    return backtest.run(parser.parse_args(argv), {})


def test_grid_expands_into_one_strategy_per_point(capsys: pytest.CaptureFixture[str]) -> None:
    """--grid k=a,b after --strategy gives one JSON summary per value, params merged."""
    argv = [
        *BASE,
        "--json",
        "--strategy",
        "band",
        "--param",
        "width_down=0.1",
        "--grid",
        "width_up=0.05,0.2",
        "--strategy",
        "interval",
        "--param",
        "interval_s=60",
    ]
    assert _run(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [s["strategy"] for s in payload["strategies"]] == [
        "band(width_down=0.1, width_up=0.05)",
        "band(width_down=0.1, width_up=0.2)",
        "interval(interval_s=60)",
    ]
    assert payload["paths"] == 300


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--strategy"),
        (["--strategy", "nope"], "unknown strategy 'nope'"),
        (["--strategy", "band", "--param", "width_up=-1"], "width_up"),
        (["--strategy", "interval", "--param", "interval_s=1", "--fee", "-1"], "fee_frac"),
        (["--strategy", "interval", "--param", "interval_s=1", "--model", "csv"], "--csv"),
        (
            [
                "--strategy",
                "interval",
                "--param",
                "interval_s=1",
                "--model",
                "csv",
                "--csv",
                "/nonexistent.csv",
            ],
            "cannot read",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad strategies, params, costs or files: exit 2 with one error line naming the problem."""
    assert _run([*BASE, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deltabot backtest: error:") and message in err
    assert "Traceback" not in err


def test_param_before_strategy_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--param with no --strategy before it exits 2 through argparse."""
    with pytest.raises(SystemExit) as exc:
        _run([*BASE, "--param", "width_up=1"])
    assert exc.value.code == 2
    assert "give --strategy NAME before it" in capsys.readouterr().err


def test_text_report_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The text report names each strategy and its attribution; --plot writes a PNG and
    says where."""
    png = tmp_path / "out.png"
    argv = [
        *BASE,
        "--model",
        "merton",
        "--strategy",
        "whalley_wilmott",
        "--param",
        "risk_aversion=1",
        "--fee",
        "0.001",
        "--plot",
        str(png),
    ]
    assert _run(argv) == 0
    out = capsys.readouterr().out
    assert "whalley_wilmott(risk_aversion=1)" in out and "attribution" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.endswith(f"chart: {png}\n")
