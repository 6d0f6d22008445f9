"""The option_proposals table: PROPOSED with its document, approval while live, expiry; and the
orders' implied-vol limit that came with it (schema version 10)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.ids import Currency, VenueId
from bot.domain.option_hedge_orders import Leg, leg_intents
from bot.domain.risk import OrderIntent
from bot.domain.snapshot import Mark
from bot.journal import Journal, JournalError, ProposalState, schema
from tests.books import NOW_MS, _option

CALL = _option("C30", 60_000.0, 30, True)

DOC = {"legs": [{"symbol": "BTC-25DEC26-60000-C", "amount_coin": 4.2}], "cost_usd": 126.0}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "j.sqlite") as j:
        yield j


def _propose(j: Journal, pid: str = "oh-1", ts_ms: int = 1_000, ttl_ms: int = 60_000) -> None:
    assert j.option_proposals.propose(
        pid, ts_ms=ts_ms, underlying="BTC", expires_ts_ms=ts_ms + ttl_ms, document=DOC
    )


def test_a_proposal_is_journaled_proposed_with_its_document(journal: Journal) -> None:
    """What was proposed reads back as PROPOSED with the same document; an id is written once."""
    _propose(journal)
    rec = journal.option_proposals.get("oh-1")
    assert (rec.state, rec.underlying, rec.document) == (ProposalState.PROPOSED, "BTC", DOC)
    assert not journal.option_proposals.propose(
        "oh-1", ts_ms=2, underlying="BTC", expires_ts_ms=3, document={}
    )


def test_approval_while_live_then_never_twice(journal: Journal) -> None:
    """A live proposal becomes APPROVED; a second approval is refused naming its state."""
    _propose(journal)
    assert journal.option_proposals.approve("oh-1", 2_000).state is ProposalState.APPROVED
    with pytest.raises(JournalError, match="is approved: only a proposed one"):
        journal.option_proposals.approve("oh-1", 3_000)


def test_an_approval_after_expiry_is_refused_and_marks_it_expired(journal: Journal) -> None:
    """Prices have moved: a late approval fails and the proposal is EXPIRED."""
    _propose(journal)
    with pytest.raises(JournalError, match="expired at 61000 ms"):
        journal.option_proposals.approve("oh-1", 61_000)
    assert journal.option_proposals.get("oh-1").state is ProposalState.EXPIRED


def test_expire_marks_only_the_overdue_and_open_for_sees_the_live_one(journal: Journal) -> None:
    """expire() ends overdue ones; open_for() finds the underlying's live proposal, if any."""
    _propose(journal, "old", ts_ms=0, ttl_ms=10)
    _propose(journal, "new", ts_ms=100, ttl_ms=1_000)
    assert journal.option_proposals.expire(50) == 1
    assert journal.option_proposals.get("old").state is ProposalState.EXPIRED
    live = journal.option_proposals.open_for("BTC", 50)
    assert live is not None and live.proposal_id == "new"
    assert journal.option_proposals.open_for("BTC", 1_100) is None
    assert [r.proposal_id for r in journal.option_proposals.recent()] == ["new", "old"]


def test_an_unknown_id_is_an_error_naming_it(journal: Journal) -> None:
    """Approving an id the journal does not hold says so."""
    with pytest.raises(JournalError, match="proposal nope is not in the journal"):
        journal.option_proposals.approve("nope", 0)


def _old_journal(path: Path, version: int, sql: str = "") -> Path:
    """A journal file at schema ``version`` (then ``sql`` run on it), as an older deltabot
    left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    ddl = schema._SCHEMA + "".join(schema._MIGRATIONS[k] for k in range(1, version))
    conn.executescript(f"{ddl}{sql}PRAGMA user_version = {version};")
    conn.close()
    return path


def test_a_version_9_journal_gains_the_table(tmp_path: Path) -> None:
    """Migration 9 -> 10 adds option_proposals to a journal that predates it."""
    with Journal.open(_old_journal(tmp_path / "old.sqlite", 9)) as j:
        _propose(j)
        assert j.option_proposals.get("oh-1").state is ProposalState.PROPOSED


def _journal_call_order(journal: Journal, amount_coin: float) -> OrderIntent:
    """Journal one leg's intent on the 30-day call under a decision; the intent."""
    intent = leg_intents(
        "oh-1", VenueId("deribit"), Currency("BTC"), [Leg(CALL.symbol, amount_coin)],
        instruments={CALL.symbol: CALL},
        marks={CALL.symbol: Mark(CALL.symbol, 0.0685, 60_000.0, NOW_MS, mark_iv=0.6)},
        held_coin={}, now_ms=NOW_MS, iv_tolerance=0.02,
    )[0]  # fmt: skip
    journal.orders.record_decision(
        "oh-1", Currency("BTC"), NOW_MS, greeks={"index_usd": 60_000.0}, inputs={},
        target_coin=0.0, reason="option hedge",
    )  # fmt: skip
    journal.orders.record_intent(intent, "oh-1/BTC", NOW_MS)
    return intent


def test_an_orders_implied_vol_limit_is_journaled(journal: Journal) -> None:
    """limit_iv goes into the orders table with the rest of the request and reads back."""
    intent = _journal_call_order(journal, 1.0)
    assert journal.orders.get(intent.order.client_id).request == intent.order
    assert intent.order.limit_iv == pytest.approx(0.62)


def test_an_option_orders_premium_is_in_the_gates_ledger(journal: Journal) -> None:
    """The premium an option order moves is journaled with it and read back by recent_sends,
    so the gate's day cap counts it after a restart."""
    intent = _journal_call_order(journal, 2.0)
    (send,) = journal.orders.recent_sends(NOW_MS - 1).sends
    assert send.premium_usd == pytest.approx(intent.premium_usd) and send.premium_usd > 0


def test_a_version_11_journal_gains_the_premium_column(tmp_path: Path) -> None:
    """Migration 11 -> 12 adds orders.premium_usd; an order journaled before it counts 0."""
    sql = (
        "INSERT INTO decisions VALUES ('d', 'c', 1, 'BTC', '{}', '{}', 0, 'r');"
        "INSERT INTO orders (client_id, decision_id, venue, symbol, underlying, side, amount, "
        "tif, post_only, reduce_only, notional_usd, state, created_ts_ms, updated_ts_ms) "
        "VALUES ('o', 'd', 'v', 's', 'BTC', 'buy', 1, 'IOC', 0, 0, 100, 'filled', 5, 5);"
    )
    with Journal.open(_old_journal(tmp_path / "old.sqlite", 11, sql)) as j:
        assert [(s.ts_ms, s.premium_usd) for s in j.orders.recent_sends(0).sends] == [(5, 0.0)]
