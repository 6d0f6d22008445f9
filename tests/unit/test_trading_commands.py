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
    """Without --reason reduce and halt exit 2 and leave the state alone."""
    for command in ("reduce", "halt"):
        assert main([command, "--config", str(EXAMPLE)], env) == 2
        assert "give --reason" in capsys.readouterr().err
    assert _state(env)[0] is TradingMode.ACTIVE


def test_no_journal_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A journal that does not exist is reported, not created."""
    missing = tmp_path / "none.sqlite"
    env = {"DELTABOT_DAEMON__JOURNAL_PATH": str(missing)}
    assert main(["halt", "--reason", "x", "--config", str(EXAMPLE)], env) == 2
    assert "no journal" in capsys.readouterr().err
    assert not missing.exists()
