"""check-config refuses, in the same words, every config `run` refuses before the network."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.test_cli_check_config import EXAMPLE, REPO, deltabot

TESTNET = REPO / "examples" / "deribit-testnet.toml"
TESTNET_KEYS = {
    "DELTABOT_VENUE_DERIBIT_TESTNET_API_KEY": "placeholder-key",
    "DELTABOT_VENUE_DERIBIT_TESTNET_API_SECRET": "placeholder-secret",
}
LIVE_KEYS = {
    f"DELTABOT_VENUE_DERIBIT_{v}_API_{part}": f"placeholder-{v}-{part}"
    for v in ("A", "B")
    for part in ("KEY", "SECRET")
}


@dataclass(frozen=True)
class Case:
    """A config (a file, edited) and environment that run refuses, and the line it prints."""

    source: Path
    line: str
    edit: tuple[str, str] | None = None
    env: dict[str, str] = field(default_factory=dict)


CASES = {
    "okx in mode sim": Case(
        EXAMPLE,
        "venues[0].exchange: the simulator cannot serve okx: mode sim simulates deribit and "
        "binanceusdm",
        ('exchange = "deribit"', 'exchange = "okx"'),
    ),
    "api_url on one venue only": Case(
        EXAMPLE,
        "venues[0].api_url: mode sim: either every venue names a standalone emulator (api_url) "
        "or none does; binance-a has none",
        ("# api_url = ", "api_url = "),
    ),
    "half-set credentials": Case(
        EXAMPLE,
        "venues[0]: DELTABOT_VENUE_DERIBIT_A_API_KEY is set but "
        "DELTABOT_VENUE_DERIBIT_A_API_SECRET is not: set both or neither",
        env={"DELTABOT_VENUE_DERIBIT_A_API_KEY": "placeholder"},
    ),
    "sandbox without keys": Case(
        TESTNET,
        "venues[0]: mode sandbox needs credentials: set DELTABOT_VENUE_DERIBIT_TESTNET_API_KEY "
        "and DELTABOT_VENUE_DERIBIT_TESTNET_API_SECRET",
    ),
    "testnet keys aimed at mainnet": Case(
        TESTNET,
        "venues[0]: deribit: testnet credentials would be sent to the mainnet host(s) "
        "www.deribit.com; fix api_url or set testnet = false",
        env={**TESTNET_KEYS, "DELTABOT_VENUES__0__API_URL": "https://www.deribit.com"},
    ),
    "live without confirmation": Case(
        EXAMPLE,
        "mode: mode is live: trading real money needs "
        "DELTABOT_LIVE_CONFIRM=yes-trade-real-money in the environment",
        env={**LIVE_KEYS, "DELTABOT_MODE": "live"},
    ),
    "unlisted route in the embedded simulator": Case(
        EXAMPLE,
        "hedges[0].symbol: 'BTC-PERPETUAL' is not listed by binance-a",
        ('symbol = "BTC/USDT:USDT"', 'symbol = "BTC-PERPETUAL"'),
    ),
}


def write_config(case: Case, tmp_path: Path) -> Path:
    """The case's config file in ``tmp_path`` (the source, with its one edit)."""
    text = case.source.read_text()
    if case.edit is not None:
        old, new = case.edit
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_check_config_refuses_what_run_refuses(case: Case, tmp_path: Path) -> None:
    """Both exit 2 naming the same problem in the same words; run starts nothing."""
    path = write_config(case, tmp_path)
    env = {**case.env, "DELTABOT_METRICS__PORT": "0"}
    checked = deltabot("check-config", str(path), cwd=tmp_path, env=env)
    assert (checked.returncode, checked.stdout) == (2, "")
    assert f"\n  {case.line}" in checked.stderr
    ran = deltabot("--config", str(path), "run", cwd=tmp_path, env=env)
    assert ran.returncode == 2
    assert case.line in ran.stderr
    assert "daemon_started" not in ran.stderr
    assert "Traceback" not in checked.stderr + ran.stderr
    assert "placeholder" not in checked.stderr + ran.stderr


def test_run_names_a_startup_refusal_in_one_line(tmp_path: Path) -> None:
    """A refusal found before the network is one line: 'deltabot run: cannot start: ...'."""
    env = {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path)}
    checked = deltabot("check-config", str(EXAMPLE), cwd=tmp_path, env=env)
    line = f"daemon.journal_path: journal {tmp_path} is a directory, not a journal file"
    assert checked.returncode == 2
    assert f"\n  {line}" in checked.stderr
    ran = deltabot("--config", str(EXAMPLE), "run", cwd=tmp_path, env=env)
    assert (ran.returncode, ran.stderr) == (2, f"deltabot run: cannot start: {line}\n")
