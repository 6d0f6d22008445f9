"""Collateral plans in the journal and the ``deltabot collateral`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.transfer_risk import TransferIntent
from bot.journal import Journal, JournalError, PlanState

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
INTENT = TransferIntent(
    TransferRequest(
        TransferId("tr0123"),
        VenueId("deribit-a"),
        TransferKind.WITHDRAWAL,
        Currency("BTC"),
        0.5,
        "bc1qexample",
        "bitcoin",
    ),
    30_000.0,
)


def test_a_plan_is_proposed_once_approved_then_executed(tmp_path: Path) -> None:
    """A known plan id is not journaled twice; only PROPOSED -> APPROVED -> EXECUTED moves."""
    with Journal.open(tmp_path / "j.sqlite") as journal:
        assert journal.plans.propose("cp1", 1, [INTENT], "optimal: a -> b 0.5 BTC")
        assert not journal.plans.propose("cp1", 2, [INTENT], "again")
        [plan] = journal.plans.in_state(PlanState.PROPOSED)
        assert plan.intents == (INTENT,) and plan.summary == "optimal: a -> b 0.5 BTC"
        with pytest.raises(JournalError, match="cannot become executed"):
            journal.plans.mark("cp1", PlanState.EXECUTED, 3)
        journal.plans.mark("cp1", PlanState.APPROVED, 3)
        assert journal.plans.mark("cp1", PlanState.EXECUTED, 4).state is PlanState.EXECUTED
        assert journal.plans.in_state(PlanState.PROPOSED) == ()


def test_collateral_command_shows_and_approves_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'collateral plan' lists proposals with their ISO time; 'approve ID' approves one; an
    unknown id exits 2."""
    env = {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "j.sqlite")}
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.plans.propose("cp1", 1, [INTENT], "optimal: deribit-a -> deribit-b 0.5 BTC")
    config = ["--config", str(EXAMPLE)]
    assert main(["collateral", "plan", *config], env) == 0
    out = capsys.readouterr().out
    assert "cp1  1970-01-01T00:00:00.001Z  optimal: deribit-a -> deribit-b 0.5 BTC" in out
    assert "tr0123" in out
    assert main(["collateral", "approve", "nope", *config], env) == 2
    assert "not in the journal" in capsys.readouterr().err
    assert main(["collateral", "approve", "cp1", *config], env) == 0
    with Journal.open_control(tmp_path / "j.sqlite") as journal:
        assert journal.plans.get("cp1").state is PlanState.APPROVED
