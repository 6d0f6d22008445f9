"""`deltabot stress` in process: report sections, JSON, atomic PNG, exit 2 on bad input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.commands import stress

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(argv: list[str], config: Path = EXAMPLE) -> int:
    """The command in this process; serial, so stderr holds only the command's own lines
    (tests/e2e/test_compute_cli.py runs it on the other runners)."""
    parser = argparse.ArgumentParser(prog="deltabot stress")
    stress.add_arguments(parser)
    args = parser.parse_args(["--scheduler", "serial", *argv])
    args.config = config
    return stress.run(args, {})


def test_text_report_has_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    """The example config prints grid summary, ±moves table, first-to-liquidate, scenarios."""
    assert _run([]) == 0
    out = capsys.readouterr().out
    for section in (
        "grid: 41 price moves -50%..+50% x 21 vol shifts",
        "worst cell: price",
        "P&L at vol unchanged (USD):",
        "first venue to liquidate per price move (vol unchanged):",
        "scenarios:",
        "crash -50%, vol x2",
        "default of deribit-a",
        "freeze of binance-a, 7 days, 3 sigma",
        "cascade binance-a at +30%, then 10%",
    ):
        assert section in out
    for move in ("-50%", "-20%", "-10%", "+10%", "+20%", "+50%"):
        assert f"\n{move:>7}" in out


def test_json_parses_with_the_grid_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints one JSON document: a 41 × 21 P&L grid, per-venue grids and the scenarios."""
    assert _run(["--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    grid = payload["grid"]
    assert len(grid["pnl_usd"]) == 41 and len(grid["pnl_usd"][0]) == 21
    assert set(grid["venue_pnl_usd"]) == {"deribit-a", "binance-a"}
    assert grid["worst_loss_usd"] >= 0
    names = [s["name"] for s in payload["scenarios"]]
    assert names[0] == "crash -50%, vol x2" and "default of binance-a" in names
    assert {"pnl_usd", "venue_pnl_usd", "delta_coin", "liquidated", "steps"} <= set(
        payload["scenarios"][0]
    )


def test_plot_writes_a_png_and_leaves_no_temp_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plot FILE.png writes a PNG (signature checked) and nothing else in the directory."""
    target = tmp_path / "stress.png"
    assert _run(["--plot", str(target)]) == 0
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    assert [p.name for p in tmp_path.iterdir()] == ["stress.png"]
    assert capsys.readouterr().out.endswith(f"chart: {target}\n")


def test_plot_beside_json_says_where_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --json the chart's path goes to stderr, so stdout stays one JSON document."""
    target = tmp_path / "stress.png"
    assert _run(["--json", "--plot", str(target)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) and f"chart: {target}" in err


def test_plot_into_a_missing_directory_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plot into a directory that does not exist: exit 2 with one line, no traceback."""
    assert _run(["--plot", str(tmp_path / "nope" / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deltabot stress: error: cannot write") and "Traceback" not in err


def test_scenarios_file_adds_a_custom_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--scenarios FILE.toml with a [[stress.scenarios]] table: the scenario is in the report."""
    path = tmp_path / "stress.toml"
    path.write_text(
        '[stress]\nprice_points = 5\nvol_points = 3\n[[stress.scenarios]]\nname = "eth only"\n'
        "price_move_frac = { ETH = -0.4 }\n",
        encoding="utf-8",
    )
    assert _run(["--json", "--scenarios", str(path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["grid"]["pnl_usd"]) == 5
    eth = next(s for s in payload["scenarios"] if s["name"] == "eth only")
    assert eth["steps"][0]["price_move_frac"] == {"BTC": 0.0, "ETH": -0.4}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[stress]\nprice_points = 1\n", "stress.price_points"),
        ('[[stress.scenarios]]\nname = "x"\nlost_venues = ["nope"]\n', "unknown venue"),
        ("[stress\n", "not valid TOML"),
    ],
)
def test_bad_scenarios_file_exits_2(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad --scenarios file: exit 2 with one line naming the key or problem, no traceback."""
    path = tmp_path / "stress.toml"
    path.write_text(text, encoding="utf-8")
    assert _run(["--scenarios", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deltabot stress: error:") and message in err
    assert "Traceback" not in err


def test_config_without_a_book_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config whose [sim] has no book: exit 2 saying so."""
    text = EXAMPLE.read_text(encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(text[: text.index("\n[[sim.book]]")], encoding="utf-8")
    assert _run([], config) == 2
    assert "no [sim] book" in capsys.readouterr().err


def test_json_has_each_venues_breach_probability(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives every venue a breach probability in [0, 1] over [margin]'s horizon, beside
    its liquidation distances (null: none in the searched range)."""
    assert _run(["--json"]) == 0
    breach = json.loads(capsys.readouterr().out)["breach"]
    assert breach["horizon_s"] == 86_400.0 and breach["paths"] == 20_000
    assert set(breach["venues"]) == {"deribit-a", "binance-a"}
    assert all(0.0 <= v["probability"] <= 1.0 for v in breach["venues"].values())
