"""`deltabot check-config` in-process: output, exit status, secret masking, path choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import main
from bot.secrets import MASK

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
KEY, SECRET = "k3y-aaaa-1111", "s3cr3t-bbbb-2222"
CREDS = {
    "DELTABOT_VENUE_DERIBIT_A_API_KEY": KEY,
    "DELTABOT_VENUE_DERIBIT_A_API_SECRET": SECRET,
}


def run(capsys: pytest.CaptureFixture[str], argv: list[str], environ: dict[str, str]):
    code = main(argv, environ)
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_config_prints_it_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """A valid file prints its name, the validated config as JSON, and credential status."""
    code, out, err = run(capsys, ["check-config", str(EXAMPLE)], {})
    assert (code, err) == (0, "")
    head, _, rest = out.partition("\n")
    assert head == f"{EXAMPLE}: valid config (mode sim)"
    dumped = json.loads(rest[: rest.index("\ncredentials")])
    assert [v["name"] for v in dumped["venues"]] == ["deribit-a", "binance-a"]
    assert dumped["sim"]["start"] == "2026-12-01T08:00:00Z"
    assert "DELTABOT_VENUE_BINANCE_A_API_SECRET" in out
    assert out.count("not set") == 6


def test_credentials_show_as_set_but_masked(capsys: pytest.CaptureFixture[str]) -> None:
    """Set credential variables show 'set **********', never their values."""
    code, out, err = run(capsys, ["check-config", str(EXAMPLE)], CREDS)
    assert code == 0
    key_line = next(line for line in out.splitlines() if "DERIBIT_A_API_KEY" in line)
    assert key_line.endswith(f"set {MASK}")
    assert KEY not in out + err
    assert SECRET not in out + err


def test_half_set_credentials_fail(capsys: pytest.CaptureFixture[str]) -> None:
    """A key without its secret is an error on that venue, exit 2, no value shown."""
    environ = {"DELTABOT_VENUE_DERIBIT_A_API_KEY": KEY}
    code, out, err = run(capsys, ["check-config", str(EXAMPLE)], environ)
    assert (code, out) == (2, "")
    assert "venues[0]: DELTABOT_VENUE_DERIBIT_A_API_KEY is set but" in err
    assert KEY not in err


def test_live_mode_needs_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    """Mode live without credentials names the variables to set; with them and the live
    confirmation it passes."""
    environ = {"DELTABOT_MODE": "live"}
    code, _, err = run(capsys, ["check-config", str(EXAMPLE)], environ)
    assert code == 2
    assert (
        "venues[1]: mode live needs credentials: set DELTABOT_VENUE_BINANCE_A_API_KEY and "
        "DELTABOT_VENUE_BINANCE_A_API_SECRET"
    ) in err
    assert "venues[0]" in err
    both = {
        **environ,
        **CREDS,
        "DELTABOT_VENUE_BINANCE_A_API_KEY": "b-key",
        "DELTABOT_VENUE_BINANCE_A_API_SECRET": "b-secret",
        "DELTABOT_LIVE_CONFIRM": "yes-trade-real-money",
    }
    assert run(capsys, ["check-config", str(EXAMPLE)], both)[0] == 0


def test_every_problem_is_printed_with_its_key_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An invalid file prints a count, then one 'key.path: message' line per problem."""
    bad = tmp_path / "bad.toml"
    text = EXAMPLE.read_text()
    text = text.replace('numeraire = "usd"', 'numeraire = "eur"\ncolour = "red"')
    text = text.replace(
        '[[venues]]\nname = "binance-a"', '[[venues]]\nname = "deribit-a"\napi_key = "leak-me-123"'
    )
    text = text.replace("strike_usd = 65000.0", "strike_usd = -65000.0")
    bad.write_text(text)
    code, out, err = run(capsys, ["check-config", str(bad)], {})
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert lines[0] == f"{bad}: invalid config, 5 problems:"
    paths = sorted(line.split(":")[0].strip() for line in lines[1:])
    assert paths == [
        "colour",
        "numeraire",
        "sim.book[0].strike_usd",
        "venues[1].api_key",
        "venues[1].name",
    ]
    assert "leak-me-123" not in err


def test_positional_path_wins_over_config_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """check-config PATH checks PATH even when --config names another file."""
    missing = tmp_path / "missing.toml"
    code, out, _ = run(capsys, ["--config", str(missing), "check-config", str(EXAMPLE)], {})
    assert code == 0
    assert out.startswith(str(EXAMPLE))


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_option_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    """--config works before and after the subcommand name."""
    missing = tmp_path / "missing.toml"
    option = ["--config", str(missing)]
    argv = [*option, "check-config"] if where == "before" else ["check-config", *option]
    code, _, err = run(capsys, argv, {})
    assert code == 2
    assert f"{missing}: config file not found" in err


def test_deltabot_config_variable_then_default_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path, $DELTABOT_CONFIG is checked, else ./config.example.toml."""
    missing = tmp_path / "missing.toml"
    code, _, err = run(capsys, ["check-config"], {"DELTABOT_CONFIG": str(missing)})
    assert (code, f"{missing}: config file not found" in err) == (2, True)
    monkeypatch.chdir(EXAMPLE.parent)
    code, out, _ = run(capsys, ["check-config"], {})
    assert code == 0
    assert out.startswith("config.example.toml: valid config")


def test_version_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """--version exits 0; a missing or unknown command exits 2 with argparse's message."""
    code, out, _ = run(capsys, ["--version"], {})
    assert (code, out.strip()) == (0, f"deltabot {__version__}")
    code, _, err = run(capsys, [], {})
    assert code == 2
    assert "the following arguments are required: COMMAND" in err
    code, _, err = run(capsys, ["frobnicate"], {})
    assert code == 2
    assert "invalid choice: 'frobnicate'" in err
