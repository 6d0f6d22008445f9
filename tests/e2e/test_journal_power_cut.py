"""Power cut during a journal write (issue 11): a process journaling orders in a tight loop is
SIGKILLed at a random moment, mostly inside a WAL commit since commits (fsync) are what the
loop spends its time on. The journal must open, pass ``PRAGMA integrity_check``, and hold
every write the writer saw return.

SIGKILL models the process dying, not the machine: the kernel still writes out what the
process had handed it. What ``synchronous=FULL`` adds for a real power cut (the WAL is
fsynced before a commit returns) is SQLite's guarantee, not something a test here can cut.
"""

from __future__ import annotations

import random
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.domain.ids import ClientOrderId, VenueId
from bot.domain.orders import OrderState
from bot.journal import Journal
from tests.e2e.daemon_harness import wait_for
from tests.e2e.journal_writer import AMOUNT_USD, VENUE
from tests.e2e.kill_points import KILL_EXIT, Child, start

pytestmark = pytest.mark.slow

SEED = 20_611
ROUNDS = 6
MAX_LINES = 150
"""The kill comes after a random number of reported writes, up to this many."""
LIMIT = 100_000
"""Orders a writer would journal if never killed (it always is, long before)."""
RANK = {OrderState.PENDING: 0, OrderState.SUBMITTED: 1, OrderState.FILLED: 2}


def _claims(text: str) -> dict[ClientOrderId, OrderState]:
    """The furthest state the writer reported per order (complete lines only: a line cut by
    the kill is no claim)."""
    claims: dict[ClientOrderId, OrderState] = {}
    for line in text.splitlines(keepends=True):
        if line.endswith("\n"):
            state, cid = line.split()
            claims[ClientOrderId(cid)] = OrderState(state)
    return claims


def _kill_after(child: Child, lines: int) -> None:
    """SIGKILL the writer once it has reported ``lines`` writes."""

    def reported() -> bool:
        if not child.alive():
            raise AssertionError(f"the writer exited {child.code}\n{child.tail()}")
        return child.text().count("\n") >= lines

    try:
        wait_for(reported, f"{lines} journal writes", interval=0.002, context=child.tail)
        child.signal(signal.SIGKILL)
        code = child.wait("the killed writer")
    finally:
        child.kill()
    assert code == KILL_EXIT, child.tail()


def test_sigkill_mid_write_loses_no_committed_intent(tmp_path: Path) -> None:
    """SIGKILL mid-commit: the journal opens, integrity ok, every write seen to return is there."""
    rng = random.Random(SEED)
    path = tmp_path / "journal.sqlite"
    claims: dict[ClientOrderId, OrderState] = {}
    for r in range(ROUNDS):
        log = tmp_path / f"writer-{r}.out"
        child = start([str(path), f"r{r}", str(LIMIT)], log, entry="tests.e2e.journal_writer:main")
        _kill_after(child, rng.randint(1, MAX_LINES))
        round_claims = _claims(log.read_text())
        assert round_claims, "the writer reported nothing"
        claims.update(round_claims)
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0, "no WAL left to recover"
        with Journal.open(path) as journal:
            for cid, state in claims.items():
                record = journal.orders.get(cid)
                assert RANK[record.state] >= RANK[state], (cid, state, record.state)
                if record.state is OrderState.FILLED:
                    fills = journal.orders.fills_of(VenueId(VENUE), cid)
                    assert sum(f.amount for f in fills) == AMOUNT_USD, (cid, fills)
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()
