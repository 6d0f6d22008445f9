"""kill -9 in the middle of a partial fill (issue 11): the venue took part of an IOC order in
two trades and cancelled the rest, the daemon died before it journaled the answer, and the
restart died again after booking one of the two trades. The next restart must fetch the
order's fills since its intent, book each trade once, and hedge only the residual.

One standalone ``deltabot sim-venue``; the daemon's orders are 300,000 USD IOCs priced
0.05 % off the mark, which the emulator's book fills two levels deep (2 x 120,000 USD).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.e2e.daemon_harness import BAND_COIN, OPEN, JournalView, wait_for
from tests.e2e.kill_lab import (
    USD_TOL,
    Venue,
    check_books,
    check_integrity,
    running,
    sim_venue,
    write_lab_config,
)
from tests.e2e.kill_points import FILL_RECORDED, KILL_EXIT, KillPoint, killed_at, start

pytestmark = pytest.mark.slow

CONVERGED_COIN = BAND_COIN + 0.05
"""|BTC equity + perp coin size| once hedged: the band plus room for marks moving."""


def _killed_run(config: Path, log: Path, point: KillPoint) -> str:
    """Run the daemon armed with ``point`` until it dies there; the key it died on."""
    child = start(["run", "--config", str(config)], log, point)
    try:
        code = child.wait(f"the kill at {point}")
    finally:
        child.kill()
    killed = killed_at(child.text())
    assert code == KILL_EXIT and killed is not None, child.tail()
    return killed["key"]


def _hedged(venue: Venue, journal: JournalView) -> bool:
    if any(o["state"] in OPEN for o in journal.orders()):
        return False
    return abs(venue.btc_delta_coin()) <= CONVERGED_COIN


def test_kill_mid_partial_fill_books_each_trade_once_and_hedges_the_residual(
    tmp_path: Path,
) -> None:
    """Killed mid partial fill, then mid booking: each trade booked once, the residual hedged."""
    journal = JournalView(tmp_path / "journal.sqlite")
    with sim_venue(tmp_path, "sim-a", 7) as venue:
        config = write_lab_config(tmp_path, venue.url, journal.path)
        cid = _killed_run(config, tmp_path / "run1.log", KillPoint("order.sent", 1))
        [sent] = venue.orders()
        assert sent["label"] == cid
        assert sent["order_state"] == "cancelled"
        partial = float(sent["filled_amount"])
        assert 0 < partial < float(sent["amount"]), sent
        assert journal.order(cid)["state"] == "submitted"
        assert journal.fills() == []

        _killed_run(config, tmp_path / "run2.log", KillPoint(FILL_RECORDED, 1))
        check_integrity(journal.path)
        [booked] = journal.fills()
        assert booked["client_id"] == cid
        assert booked["amount"] < partial  # one of the two trades
        assert journal.order(cid)["state"] == "submitted"  # the crash came before the move

        third = start(["run", "--config", str(config)], tmp_path / "run3.log")
        try:
            wait_for(
                lambda: running(third) and _hedged(venue, journal),
                "the restarted daemon to hedge the residual",
                context=third.tail,
            )
            assert third.terminate() == 0, third.tail()
        finally:
            third.kill()

        record = journal.order(cid)
        assert record is not None and record["state"] == "canceled", record
        assert math.isclose(record["filled_amount"], partial, abs_tol=USD_TOL)
        own = [f for f in journal.fills() if f["client_id"] == cid]
        assert len(own) == 2, own
        assert math.isclose(sum(f["amount"] for f in own), partial, abs_tol=USD_TOL)
        assert {o["direction"] for o in venue.orders()} == {"sell"}, "the residual overshot"
        check_books(venue, journal, 0.0)
        assert abs(venue.btc_delta_coin()) <= CONVERGED_COIN
