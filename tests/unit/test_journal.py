"""The SQLite journal: durability, transitions, fills, trading state, schema version, lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import (
    Fill,
    OrderReport,
    OrderRequest,
    OrderState,
    Side,
    TransferId,
    TransferKind,
    TransferRequest,
    TransferState,
    client_order_id,
)
from bot.domain.risk import OrderIntent, Send
from bot.domain.trading_state import INITIAL_STATE, SetBy, TradingMode, TradingState
from bot.journal import SCHEMA_VERSION, Journal, JournalError, JournalLockedError, schema

S = OrderState
VENUE, SYMBOL, BTC = VenueId("deribit-a"), Symbol("BTC/USD:BTC"), Currency("BTC")
TRANSFER = TransferRequest(TransferId("tr-1"), VENUE, TransferKind.SUBACCOUNT, BTC, 0.5, "hedge")


def intent(seq: int, side: Side = Side.BUY, amount: float = 100.0) -> OrderIntent:
    cid = client_order_id("cycle-1", VENUE, SYMBOL, seq)
    order = OrderRequest(cid, VENUE, SYMBOL, side, amount, 60_000.5)
    return OrderIntent(order, BTC, amount, amount / 60_000, 0.0)


def fill(trade_id: str, cid: ClientOrderId | None, amount: float, ts_ms: int = 5) -> Fill:
    return Fill(trade_id, cid, "v-1", SYMBOL, Side.BUY, amount, 60_000.0, 0.01, BTC, ts_ms)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with Journal.open(path) as j:
        yield j


def decision(journal: Journal, cycle: str = "cycle-1", ts_ms: int = 1) -> str:
    return journal.orders.record_decision(
        cycle,
        BTC,
        ts_ms,
        greeks={"delta_coin": 0.4},
        inputs={"spot_usd": 60_000.0},
        target_coin=-0.4,
        reason="band breached",
    )


def test_intents_and_states_survive_close_and_reopen(path: Path) -> None:
    """Everything committed is there after reopening: intents, states, history, trading state."""
    with Journal.open(path) as j:
        d = decision(j)
        a, b = intent(0), intent(1, Side.SELL)
        j.orders.record_intent(a, d, 10)
        j.orders.record_intent(b, d, 11)
        j.orders.mark(a.order.client_id, S.SUBMITTED, 11)
        j.orders.mark(a.order.client_id, S.UNKNOWN, 12)
        halted = TradingState(TradingMode.HALTED, "operator stop", SetBy.OPERATOR, 13)
        j.state.set_trading_state(halted)
    with Journal.open(path) as j:
        assert [(r.request, r.state) for r in j.orders.open()] == [
            (a.order, S.UNKNOWN),
            (b.order, S.PENDING),
        ]
        assert j.orders.get(a.order.client_id).decision_id == d
        assert j.orders.transitions(a.order.client_id) == (
            (None, S.PENDING, 10),
            (S.PENDING, S.SUBMITTED, 11),
            (S.SUBMITTED, S.UNKNOWN, 12),
        )
        assert j.state.trading_state() == halted


def test_wal_and_synchronous_full(path: Path, journal: Journal) -> None:
    """The file is in WAL mode (the -wal file exists), synchronous is FULL, foreign keys on."""
    journal.orders.record_intent(intent(0), decision(journal), 1)
    assert Path(f"{path}-wal").exists()
    db = journal._db
    assert db.query("PRAGMA journal_mode") == [("wal",)]
    assert db.query("PRAGMA synchronous") == [(2,)]  # FULL
    assert db.query("PRAGMA foreign_keys") == [(1,)]


def test_record_intent_is_committed_when_it_returns(path: Path, journal: Journal) -> None:
    """Another connection sees the PENDING intent as soon as record_intent returns."""
    journal.orders.record_intent(intent(0), decision(journal), 1)
    other = sqlite3.connect(path)
    try:
        assert other.execute("SELECT state FROM orders").fetchall() == [("pending",)]
    finally:
        other.close()


def test_a_journaled_client_id_is_never_recorded_twice(journal: Journal) -> None:
    """Recording the same client id again fails: it may already be live."""
    d = decision(journal)
    journal.orders.record_intent(intent(0), d, 1)
    with pytest.raises(JournalError, match="already journaled: never resend"):
        journal.orders.record_intent(intent(0), d, 2)


def test_intent_needs_a_known_decision(journal: Journal) -> None:
    """An intent pointing at no decision is refused with the decision's id."""
    with pytest.raises(JournalError, match="unknown decision 'nope'"):
        journal.orders.record_intent(intent(0), "nope", 1)


def test_illegal_transition_is_refused_and_nothing_changes(journal: Journal) -> None:
    """PENDING -> FILLED is illegal: ValueError, and the order stays PENDING."""
    cid = journal.orders.record_intent(intent(0), decision(journal), 1).request.client_id
    with pytest.raises(ValueError, match="pending cannot become filled"):
        journal.orders.mark(cid, S.FILLED, 2)
    assert journal.orders.get(cid).state is S.PENDING
    assert len(journal.orders.transitions(cid)) == 1


def test_report_updates_fill_and_venue_id(journal: Journal) -> None:
    """A report's filled amount and venue order id are kept; closed orders leave open_intents."""
    cid = journal.orders.record_intent(intent(0), decision(journal), 1).request.client_id
    journal.orders.mark(cid, S.SUBMITTED, 2)
    report = OrderReport(cid, "v-1", SYMBOL, S.PARTIAL, 40.0, 60_000.0, 3)
    rec = journal.orders.mark(cid, S.PARTIAL, 3, report)
    assert (rec.filled_amount, rec.venue_order_id) == (40.0, "v-1")
    assert journal.orders.in_flight() == {(VENUE, SYMBOL): 60.0}
    journal.orders.mark(cid, S.CANCELED, 4)
    assert journal.orders.open() == () and journal.orders.in_flight() == {}


def test_report_for_another_order_is_refused(journal: Journal) -> None:
    """A report naming a different client id is not applied."""
    cid = journal.orders.record_intent(intent(0), decision(journal), 1).request.client_id
    other = OrderReport(ClientOrderId("dbother"), "v-9", SYMBOL, S.ACCEPTED, 0.0, None, 2)
    with pytest.raises(JournalError, match="report is for dbother"):
        journal.orders.mark(cid, S.SUBMITTED, 2, other)


def test_duplicate_fill_is_ignored(journal: Journal) -> None:
    """The same trade id on the same venue is stored once; in-flight counts it once."""
    cid = journal.orders.record_intent(intent(0), decision(journal), 1).request.client_id
    assert journal.orders.record_fill(fill("t1", cid, 30.0)) is True
    assert journal.orders.record_fill(fill("t1", cid, 30.0)) is False
    assert journal.orders.fills(VENUE, since_ms=0) == (fill("t1", cid, 30.0),)
    assert journal.orders.in_flight() == {(VENUE, SYMBOL): 70.0}


def test_fill_without_known_order_needs_a_venue(journal: Journal) -> None:
    """A fill for an unknown client id needs an explicit venue; with one it is stored."""
    with pytest.raises(JournalError, match="pass its venue"):
        journal.orders.record_fill(fill("t9", None, 1.0))
    assert journal.orders.record_fill(fill("t9", None, 1.0), VenueId("okx-a"))
    assert journal.orders.fills(VenueId("okx-a"), since_ms=0, symbol=SYMBOL)[0].trade_id == "t9"


def test_recent_sends_is_the_risk_ledger(journal: Journal) -> None:
    """Orders journaled since a time, with their notional, feed the risk gate."""
    d = decision(journal)
    journal.orders.record_intent(intent(0, amount=100.0), d, 1_000)
    journal.orders.record_intent(intent(1, amount=250.0), d, 2_000)
    assert journal.orders.recent_sends(1_500).sends == (Send(2_000, 250.0),)


def test_trading_state_defaults_to_active(journal: Journal) -> None:
    """A new journal is ACTIVE."""
    assert journal.state.trading_state() == INITIAL_STATE


def test_transfers_are_journaled_and_finish_once(journal: Journal) -> None:
    """A transfer is PENDING, then moves on; once COMPLETED it cannot change."""
    request = TransferRequest(TransferId("tr-1"), VENUE, TransferKind.SUBACCOUNT, BTC, 0.5, "hedge")
    journal.transfers.record(request, 1)
    assert [t.request for t in journal.transfers.open()] == [request]
    journal.transfers.mark(request.transfer_id, TransferState.SUBMITTED, 2)
    done = journal.transfers.mark(request.transfer_id, TransferState.COMPLETED, 3)
    assert done.state is TransferState.COMPLETED and journal.transfers.open() == ()
    with pytest.raises(JournalError, match="is completed: cannot become failed"):
        journal.transfers.mark(request.transfer_id, TransferState.FAILED, 4)
    with pytest.raises(JournalError, match="already journaled"):
        journal.transfers.record(request, 5)


@pytest.mark.parametrize("kind", ["order", "transfer"])
def test_orders_and_transfers_share_one_state_machine(journal: Journal, kind: str) -> None:
    """Both refuse an unknown or a known id alike and keep one history row per state change."""
    d = decision(journal)
    if kind == "order":
        store, key, states = journal.orders, intent(0).order.client_id, OrderState
        record = partial(journal.orders.record_intent, intent(0), d)
    else:
        store, key, states = journal.transfers, TRANSFER.transfer_id, TransferState
        record = partial(journal.transfers.record, TRANSFER)
    with pytest.raises(JournalError, match=f"{kind} nope is not in the journal"):
        store.get("nope")
    record(1)
    with pytest.raises(JournalError, match=f"{kind} {key} is already journaled: never resend"):
        record(2)
    store.mark(key, states.SUBMITTED, 3)
    store.mark(key, states.SUBMITTED, 4)  # repeating the state is no transition
    assert store.get(key).state is states.SUBMITTED
    assert store.transitions(key) == (
        (None, states.PENDING, 1),
        (states.PENDING, states.SUBMITTED, 3),
    )


def test_old_journal_is_migrated_and_keeps_its_records(path: Path) -> None:
    """A version-1 journal (no locks, no plans) opens, is migrated, and its orders are read."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"{schema._SCHEMA}PRAGMA user_version = 1;")
    conn.execute("INSERT INTO decisions VALUES ('c/BTC', 'c', 1, 'BTC', '{}', '{}', -0.4, 'band')")
    conn.close()
    a = intent(0)
    with Journal.open(path) as j:
        j.orders.record_intent(a, "c/BTC", 2)
        j.state.lock_underlying(BTC, "position mismatch", 3)
        assert j.plans.propose("cp1", 4, [], "nothing to move")
    with Journal.open(path) as j:
        assert [r.request for r in j.orders.open()] == [a.order]
        assert j.state.locks() == {BTC: "position mismatch"}
        assert j._db.query("PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_newer_schema_version_is_refused(path: Path) -> None:
    """A journal written by a newer deltabot is refused with a clear message."""
    Journal.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        Journal.open(path)
    Journal.open(path.with_name("other.sqlite")).close()  # the failed open released its lock
    with pytest.raises(JournalError, match="newer"):
        Journal.open(path)


def test_foreign_sqlite_file_is_refused(path: Path) -> None:
    """An SQLite file that is not a journal is not adopted."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(JournalError, match="not a deltabot journal"):
        Journal.open(path)


def test_second_open_in_process_is_locked_out(path: Path, journal: Journal) -> None:
    """A second open of the same journal fails while the first is open, and works after."""
    with pytest.raises(JournalLockedError, match=r"in use by pid \d+"):
        Journal.open(path)
    journal.close()
    Journal.open(path).close()


def test_other_process_holding_the_lock_is_named(path: Path) -> None:
    """While another process holds the journal, open fails naming that process's pid."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from bot.journal import Journal; j = Journal.open(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        with pytest.raises(JournalLockedError, match=f"in use by pid {holder.pid} "):
            Journal.open(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()
    Journal.open(path).close()


def test_closed_journal_refuses_writes(path: Path) -> None:
    """Writing to a closed journal is a clear error, not a silent no-op."""
    j = Journal.open(path)
    j.close()
    j.close()
    with pytest.raises(JournalError, match="is closed"):
        j.state.set_trading_state(INITIAL_STATE)


def test_paper_book_round_trip(tmp_path: Path) -> None:
    """A paper venue's cash and positions saved to the journal load back as they were."""
    from bot.domain.ids import Currency, Symbol
    from bot.domain.paper_book import PaperBook

    book = PaperBook({Currency("BTC"): 0.99}, {Symbol("BTC/USD:BTC"): (30000.0, -0.5)})
    with Journal.open(tmp_path / "j.sqlite") as j:
        assert j.paper.load("deribit") is None
        j.paper.save("deribit", book)
        j.paper.save("deribit", book)  # a save replaces, never adds
        assert j.paper.load("deribit") == book
