"""`python -m bot check-config` as a subprocess: exit codes, messages, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"

BAD = """
numeraire = "usd"
colour = "red"

[logging]
format = "xml"

[[venues]]
name = "deribit-a"
exchange = "deribit"
role = ["options", "hedge"]
api_secret = "leaked-secret-0042"

[[venues]]
name = "deribit-a"
exchange = "deribit"
role = ["hedge"]

[sim]
seed = "forty-two"
start = 2026-12-01T08:00:00Z

[[sim.underlyings]]
name = "BTC"
spot_usd = -60000.0
vol = 0.6
"""


def deltabot(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` with no DELTABOT_* variables but those in ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("DELTABOT_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), clean.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_example_config_is_valid_by_default() -> None:
    """With no path, the example file in the working directory is checked and exits 0."""
    result = deltabot("check-config")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("config.example.toml: valid config (mode sim)")
    assert '"name": "binance-a"' in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_every_error_is_listed_and_exit_is_2(tmp_path: Path) -> None:
    """Unknown key, bad enum, secret, duplicate name, wrong type, negative value: all listed."""
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD)
    result = deltabot("check-config", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    err = result.stderr
    assert f"{bad}: invalid config, 6 problems:" in err
    for expected in (
        "  colour: unknown key",
        "  logging.format: Input should be 'auto', 'json' or 'console' (got 'xml')",
        "  venues[0].api_secret: looks like a secret",
        "set DELTABOT_VENUE_DERIBIT_A_API_SECRET instead",
        "  venues[1].name: duplicate venue name 'deribit-a' (also venues[0])",
        "  sim.seed: Input should be a valid integer",
        "  sim.underlyings[0].spot_usd: Input should be greater than 0 (got -60000.0)",
    ):
        assert expected in err
    assert "leaked-secret-0042" not in err
    assert "Traceback" not in err


def test_unknown_book_venue_and_empty_venues(tmp_path: Path) -> None:
    """A book entry on an unknown venue and an empty venue list are both reported."""
    unknown = tmp_path / "unknown.toml"
    text = EXAMPLE.read_text()
    book = text.index("\n[[sim.book]]")
    unknown.write_text(
        text[:book] + text[book:].replace('venue = "deribit-a"', 'venue = "nope"', 1)
    )
    result = deltabot("check-config", str(unknown))
    assert result.returncode == 2
    assert "sim.book[0].venue: venue 'nope' is not configured" in result.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text('mode = "paper"\nvenues = []\n')
    result = deltabot("check-config", str(empty))
    assert result.returncode == 2
    assert "venues: at least one venue is needed" in result.stderr


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    """A TOML syntax error gives line and column; a missing file says so; neither tracebacks."""
    broken = tmp_path / "broken.toml"
    broken.write_text('mode = "sim"\n[logging\n')
    result = deltabot("check-config", str(broken))
    assert result.returncode == 2
    assert "TOML syntax error" in result.stderr
    assert "line 2, column" in result.stderr
    result = deltabot("check-config", str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert "absent.toml: config file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_override_and_masked_credentials(tmp_path: Path) -> None:
    """DELTABOT_CONFIG picks the file, overrides apply, credentials show masked only."""
    env = {
        "DELTABOT_CONFIG": str(EXAMPLE),
        "DELTABOT_LOGGING__LEVEL": "debug",
        "DELTABOT_VENUE_DERIBIT_A_API_KEY": "visible-if-buggy-111",
        "DELTABOT_VENUE_DERIBIT_A_API_SECRET": "visible-if-buggy-222",
    }
    result = deltabot("check-config", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{EXAMPLE}: valid config")
    assert '"level": "debug"' in result.stdout
    assert "DELTABOT_VENUE_DERIBIT_A_API_KEY" in result.stdout
    assert "set **********" in result.stdout
    assert "visible-if-buggy" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--version"], 0, "deltabot 0.1.0"),
        ([], 2, "the following arguments are required: COMMAND"),
        (["no-such-command"], 2, "invalid choice: 'no-such-command'"),
        (["check-config", "--bogus"], 2, "unrecognized arguments: --bogus"),
    ],
)
def test_version_and_usage_errors(args: list[str], code: int, needle: str) -> None:
    """--version exits 0; usage errors exit 2 with argparse's message."""
    result = deltabot(*args)
    assert result.returncode == code
    assert needle in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_config_that_means_nothing_exits_2_at_its_keys(tmp_path: Path) -> None:
    """Issue 11's cases (lax types, an interval of 1e15 s, 2000 nested arrays) are refused at
    their keys, never with a traceback."""
    text = EXAMPLE.read_text()
    for old, new in (
        ("testnet = false", 'testnet = "yes"'),
        ("allow_non_loopback = false", "allow_non_loopback = 1"),
        ("order_window_s = 60", 'order_window_s = "60"'),
        ("BTC = 0.0\n", "BTC = true\n"),
        ("hedge_interval_s = 5", "hedge_interval_s = 1e15"),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    bad = tmp_path / "meaningless.toml"
    bad.write_text(text)
    result = deltabot("check-config", str(bad))
    assert result.returncode == 2
    for key in (
        "venues[0].testnet",
        "metrics.allow_non_loopback",
        "risk.order_window_s",
        "strategy.target_delta_coin.BTC",
        "daemon.hedge_interval_s",
    ):
        assert f"\n  {key}: " in result.stderr, key
    deep = tmp_path / "deep.toml"
    deep.write_text("mode = " + "[" * 2000 + "]" * 2000 + "\n")
    result = deltabot("check-config", str(deep))
    assert result.returncode == 2
    assert f"{deep}: arrays or tables nested too deeply to read" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_route_the_simulated_venue_does_not_list_is_refused_offline(tmp_path: Path) -> None:
    """Binance's own name for a perp where ccxt's is needed fails check-config at the route
    with close matches, as run would fail at start-up (the embedded listing is known)."""
    text = EXAMPLE.read_text()
    assert text.count('symbol = "BTC/USDT:USDT"') == 1
    path = tmp_path / "route.toml"
    path.write_text(text.replace('symbol = "BTC/USDT:USDT"', 'symbol = "BTCUSDT"', 1))
    result = deltabot("check-config", str(path))
    assert result.returncode == 2
    assert "hedges[0].symbol: 'BTCUSDT' is not listed by binance-a" in result.stderr
    assert "close matches: BTC/USDT:USDT" in result.stderr
    assert "Traceback" not in result.stderr
