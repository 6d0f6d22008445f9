"""``deltabot options-hedge plan [--json]`` and ``approve ID`` over a journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.journal import Journal, ProposalState

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
DOC = {
    "venue": "deribit-a",
    "underlying": "BTC",
    "legs": [{"symbol": "BTC-25DEC26-60000-C", "amount_coin": 4.2,
              "premium_usd_per_coin": 4_100.0, "cost_usd": 126.0}],
    "cost_usd": 126.0,
    "premium_usd": 17_220.0,
    "delta_change_coin": 2.24,
    "rows": [{"bucket": "all", "figure": "vega_std_usd_per_volpt", "before": -684.2,
              "after": -396.8, "bound": 400.0, "required": True}],
}  # fmt: skip


def _journal(tmp_path: Path, expires_ts_ms: int) -> dict[str, str]:
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.option_proposals.propose(
            "oh-BTC-1", ts_ms=1, underlying="BTC", expires_ts_ms=expires_ts_ms, document=DOC
        )
    return {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "j.sqlite")}


def test_plan_lists_legs_and_rows_and_json_carries_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text shows each leg and each figure before -> after; --json the whole document."""
    env = _journal(tmp_path, 4_000_000_000_000)
    assert main(["options-hedge", "plan", "--config", str(EXAMPLE)], env) == 0
    out = capsys.readouterr().out
    assert "oh-BTC-1  proposed  BTC on deribit-a" in out and "cost 126.00 USD" in out
    assert "  buy 4.2 BTC-25DEC26-60000-C" in out
    assert "  all vega_std_usd_per_volpt: -684.2 -> -396.8 (bound 400.0)" in out
    assert main(["options-hedge", "plan", "--json", "--config", str(EXAMPLE)], env) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["proposal_id"] == "oh-BTC-1" and doc["legs"] == DOC["legs"]


def test_approve_then_a_second_approval_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A live proposal is approved; approving it again names its state and exits 2."""
    env = _journal(tmp_path, 4_000_000_000_000)
    assert main(["options-hedge", "approve", "oh-BTC-1", "--config", str(EXAMPLE)], env) == 0
    assert "approved oh-BTC-1 (BTC, expected cost 126.00 USD)" in capsys.readouterr().out
    assert main(["options-hedge", "approve", "oh-BTC-1", "--config", str(EXAMPLE)], env) == 2
    assert "is approved: only a proposed one" in capsys.readouterr().err


def test_a_simulated_daemons_expiry_is_left_to_the_daemon(tmp_path: Path) -> None:
    """The example runs mode sim, whose clock is not the wall's: an old stamp is no refusal."""
    env = _journal(tmp_path, 2)
    assert main(["options-hedge", "approve", "oh-BTC-1", "--config", str(EXAMPLE)], env) == 0
    with Journal.open_control(tmp_path / "j.sqlite") as journal:
        assert journal.option_proposals.get("oh-BTC-1").state is ProposalState.APPROVED
