"""kill -9 of ``deltabot run`` mid-send, then a restart: no duplicate order, books reconciled.

docs/architecture.md §5: an order is journaled before it is sent, and after a crash
only venue evidence (lookup by label = client id, trades) decides what became
of it; nothing is ever resent. Each test runs a standalone emulator
(``deltabot sim-venue``) that outlives the daemon, with a fault rule holding
the first ``private/sell`` so the daemon can be killed at the exact point:

* ``drop_before_seen``: the request never reaches the matching engine (the
  crash falls between the journal write and the venue seeing the order);
* ``fill_then_drop``: the venue executes it and the answer never comes (the
  crash falls between the send and the journaled acknowledgement).

The restarted daemon must settle the crashed order from evidence, hedge the
rest, and leave journal and venue agreeing trade for trade.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.daemon_harness import (
    BAND_COIN,
    OPEN,
    PERP,
    Daemon,
    Emulator,
    JournalView,
    daemon,
    emulator,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.slow

HOLD_FIRST_SELL = "private/sell"
CONVERGED_COIN = BAND_COIN + 0.05
"""|BTC equity + perp coin size| once hedged: the band plus room for marks moving."""
USD_TOL = 1e-6
FAST = {"max_order_notional_usd": 250_000}
"""About 600,000 USD to sell: three orders (one held by the fault) instead of six."""


def _hold_first_sell(action: str) -> dict[str, Any]:
    rule = {"action": action, "method": HOLD_FIRST_SELL, "count": 1, "drop": "hang"}
    return {"rules": [rule]}


def _hedged(emu: Emulator, journal: JournalView, run: Daemon) -> bool:
    """Converged: nothing open in the journal and the account's BTC delta inside the band."""
    if run.proc.poll() is not None:
        raise AssertionError(f"restarted daemon exited {run.proc.returncode}\n{run.tail()}")
    if any(o["state"] in OPEN for o in journal.orders()):
        return False
    return abs(emu.btc_delta_coin()) <= CONVERGED_COIN


def _assert_books_agree(emu: Emulator, journal: JournalView) -> None:
    """Venue and journal tell the same story, order for order and trade for trade."""
    venue_orders = emu.orders()
    # a resent order would overshoot the hedge and need buying back: sells only, no buys
    assert {o["direction"] for o in venue_orders} == {"sell"}, venue_orders
    labels = Counter(o["label"] for o in venue_orders)
    assert all(n == 1 for n in labels.values()), f"duplicate labels on the venue: {labels}"
    journaled = {o["client_id"]: o for o in journal.orders()}
    assert set(labels) <= set(journaled), (
        f"venue orders not journaled: {set(labels) - set(journaled)}"
    )
    for vo in venue_orders:
        jo = journaled[vo["label"]]
        assert vo["instrument_name"] == PERP
        assert jo["side"] == vo["direction"]
        assert math.isclose(jo["amount"], vo["amount"], abs_tol=USD_TOL)
        assert math.isclose(jo["filled_amount"], vo["filled_amount"], abs_tol=USD_TOL), (jo, vo)
    position = emu.perp_size_usd()
    assert math.isclose(position, journal.signed_fills_usd(), abs_tol=USD_TOL)
    venue_net = math.fsum(
        (1 if o["direction"] == "buy" else -1) * o["filled_amount"] for o in venue_orders
    )
    journal_net = math.fsum(
        (1 if o["side"] == "buy" else -1) * o["filled_amount"] for o in journaled.values()
    )
    assert math.isclose(position, venue_net, abs_tol=USD_TOL)
    assert math.isclose(journal_net, venue_net, abs_tol=USD_TOL)


def test_kill9_after_journal_before_send(tmp_path: Path) -> None:
    """An order journaled but never seen by the venue is NOT_FOUND after a restart, never resent."""
    journal = JournalView(tmp_path / "journal.sqlite")
    with emulator(tmp_path, faults=_hold_first_sell("drop_before_seen")) as emu:
        config = write_config(
            tmp_path, emu.url, journal=journal.path, risk=FAST, hedge_interval_s=0.5
        )
        with daemon(config, tmp_path / "run1.log") as first:
            crashed = wait_for(
                lambda: next((o for o in journal.orders() if o["state"] == "submitted"), None),
                "the first order journaled as submitted",
                context=first.tail,
            )
            assert crashed["state"] in ("pending", "submitted")
            assert crashed["client_id"] not in {o["label"] for o in emu.orders()}
            first.kill9()
        cid = crashed["client_id"]
        assert [o["client_id"] for o in journal.orders()] == [cid]  # nothing else went out
        assert emu.orders() == []  # the held request never reached the engine

        with daemon(config, tmp_path / "run2.log") as second:
            wait_for(
                lambda: (journal.order(cid) or {}).get("state") == "not_found",
                "the crashed order to be reconciled NOT_FOUND",
                context=second.tail,
            )
            wait_for(
                lambda: _hedged(emu, journal, second),
                "the restarted daemon to hedge the account",
                context=second.tail,
            )
            assert second.terminate() == 0

        assert cid not in {o["label"] for o in emu.orders()}
        to_states = [to for _, to, _ in journal.states(cid)]
        assert to_states[0] == "pending"
        assert to_states[-1] == "not_found"
        assert "filled" not in to_states
        assert journal.order(cid)["filled_amount"] == 0
        filled_after = [o for o in journal.orders() if o["state"] == "filled"]
        assert filled_after, "the restarted daemon sent nothing"
        assert all(o["client_id"] != cid for o in filled_after)
        _assert_books_agree(emu, journal)
        assert abs(emu.btc_delta_coin()) <= CONVERGED_COIN


def test_kill9_after_send_before_ack(tmp_path: Path) -> None:
    """An order the venue filled but never acknowledged is FILLED by label after a restart."""
    journal = JournalView(tmp_path / "journal.sqlite")
    with emulator(tmp_path, faults=_hold_first_sell("fill_then_drop")) as emu:
        config = write_config(
            tmp_path, emu.url, journal=journal.path, risk=FAST, hedge_interval_s=0.5
        )
        with daemon(config, tmp_path / "run1.log") as first:

            def filled_on_venue_only() -> dict[str, Any] | None:
                for vo in emu.orders():
                    jo = journal.order(vo["label"])
                    if vo["order_state"] == "filled" and jo and jo["state"] == "submitted":
                        return jo
                return None

            crashed = wait_for(
                filled_on_venue_only,
                "an order filled on the venue and still submitted in the journal",
                context=first.tail,
            )
            first.kill9()
        cid = crashed["client_id"]
        assert journal.order(cid)["state"] == "submitted"
        assert journal.fills() == []  # the answer carrying the trades never arrived
        sold = crashed["amount"]

        with daemon(config, tmp_path / "run2.log") as second:
            wait_for(
                lambda: (journal.order(cid) or {}).get("state") == "filled",
                "the crashed order to be reconciled FILLED",
                context=second.tail,
            )
            wait_for(
                lambda: _hedged(emu, journal, second),
                "the restarted daemon to hedge the account",
                context=second.tail,
            )
            assert second.terminate() == 0

        venue_orders = emu.orders()
        assert [o["label"] for o in venue_orders].count(cid) == 1
        record = journal.order(cid)
        assert record is not None
        assert math.isclose(record["filled_amount"], sold, abs_tol=USD_TOL)
        own_fills = [f for f in journal.fills() if f["client_id"] == cid]
        assert own_fills, "the crashed order's trades were not journaled"
        assert math.isclose(math.fsum(f["amount"] for f in own_fills), sold, abs_tol=USD_TOL)
        to_states = [to for _, to, _ in journal.states(cid)]
        assert to_states[:2] == ["pending", "submitted"], to_states  # journaled before the send
        assert to_states[-1] == "filled", to_states
        assert journal.states(cid)[-1][2].startswith("venue report"), "not found by its label"
        assert not {"rejected", "not_found", "canceled"} & set(to_states), to_states
        total_sold_venue = math.fsum(
            o["filled_amount"] for o in venue_orders if o["direction"] == "sell"
        )
        total_sold_journal = math.fsum(f["amount"] for f in journal.fills() if f["side"] == "sell")
        assert math.isclose(total_sold_venue, total_sold_journal, abs_tol=USD_TOL)
        _assert_books_agree(emu, journal)
        assert abs(emu.btc_delta_coin()) <= CONVERGED_COIN
