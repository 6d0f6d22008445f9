"""``deltabot halt``/``reduce``/``resume`` write the operator's trading state to the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.ids import Currency
from bot.domain.trading_state import SetBy, TradingMode
from bot.journal import Journal

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    journal = tmp_path / "journal.sqlite"
    with Journal.open(journal) as j:
        j.state.lock_underlying(Currency("BTC"), "position mismatch", 1)
    return {"DELTABOT_DAEMON__JOURNAL_PATH": str(journal)}


def _state(env: dict[str, str]) -> tuple[TradingMode, SetBy, str, int]:
    with Journal.open_control(env["DELTABOT_DAEMON__JOURNAL_PATH"]) as j:
        s = j.state.trading_state()
        return s.mode, s.set_by, s.reason, len(j.state.locks())


def test_reduce_then_resume_are_operator_states_and_resume_lifts_locks(
    env: dict[str, str],
) -> None:
    """reduce records REDUCING with its reason and keeps locks; resume sets ACTIVE, lifts them."""
    args = ["--config", str(EXAMPLE)]
    assert main(["reduce", "--reason", "venue maintenance", *args], env) == 0
    assert _state(env) == (TradingMode.REDUCING, SetBy.OPERATOR, "venue maintenance", 1)
    assert main(["resume", *args], env) == 0
    assert _state(env)[:2] == (TradingMode.ACTIVE, SetBy.OPERATOR) and _state(env)[3] == 0


def test_reduce_and_halt_need_a_reason(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --reason, or with a blank one, reduce and halt exit 2 and leave the state alone."""
    for command in ("reduce", "halt"):
        assert main([command, "--config", str(EXAMPLE)], env) == 2
        assert "the following arguments are required: --reason" in capsys.readouterr().err
        assert main([command, "--reason", " ", "--config", str(EXAMPLE)], env) == 2
        assert "give --reason" in capsys.readouterr().err
    assert _state(env)[0] is TradingMode.ACTIVE


def test_halt_before_the_first_run_creates_the_journal_halted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A halt where no journal exists creates one, HALTED with the reason, and says so."""
    env = {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "new.sqlite")}
    assert main(["halt", "--reason", "desk not ready", "--config", str(EXAMPLE)], env) == 0
    assert "the daemon's first start on it is halted" in capsys.readouterr().out
    assert _state(env) == (TradingMode.HALTED, SetBy.OPERATOR, "desk not ready", 0)


@pytest.mark.parametrize("command", [["reduce", "--reason", "x"], ["resume"]])
def test_no_journal_for_reduce_or_resume_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """reduce and resume need a journal: exit 2 naming deltabot run and the config key."""
    missing = tmp_path / "none.sqlite"
    env = {"DELTABOT_DAEMON__JOURNAL_PATH": str(missing)}
    assert main([*command, "--config", str(EXAMPLE)], env) == 2
    err = capsys.readouterr().err
    assert f"no journal at {missing}" in err and "'deltabot run'" in err
    assert "DELTABOT_DAEMON__JOURNAL_PATH" in err and len(err.splitlines()) == 1
    assert not missing.exists()


@pytest.mark.parametrize("command", [["status"], ["collateral", "plan"], ["pnl"], ["orders"]])
def test_readers_without_a_journal_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """status, collateral plan and the journal readers: one line with what to do, exit 2."""
    env = {
        "DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "none.sqlite"),
        "DELTABOT_METRICS__PORT": "0",
    }
    assert main([*command, "--config", str(EXAMPLE)], env) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "start the daemon with 'deltabot run'" in line and "[daemon] journal_path" in line
    assert "ever run" not in line and not (tmp_path / "none.sqlite").exists()
