"""One kill-point iteration: two standalone emulators, a daemon killed at a kill point, a
restart, and the invariants that must hold between journal and venues afterwards.

The book (both emulators run ``deltabot sim-venue`` with its default account:
10 BTC, 100 ETH, 500,000 USDC, no positions):

* ``sim-a`` (options, hedge) carries the BTC hedge on its perpetual; its IOC
  orders are capped at 300,000 USD and priced 0.05 % off the mark, so each
  takes two levels of the book (240,000 USD in two trades) and is cancelled
  short of its amount: partial fills are the normal case here;
* ``sim-b`` (options) holds 10 BTC more, so the hedge is about 1,200,000 USD
  short. ``sim-a``'s band (equity / maintenance margin, all currencies in USD)
  has its floor at 115: near the end of the hedge it falls below, and the
  collateral job (mode auto) withdraws BTC from ``sim-b`` to ``sim-a`` through
  the transfer gate and the journal. Both emulators are named alike, so the
  route's address (``sim-a``'s deposit address) is one ``sim-b``'s own network
  knows: the withdrawal is real on ``sim-b``; where the coins land does not
  matter within a run.

Right after the kill, :func:`check_kill` proves the journal is where the kill
point says (e.g. SUBMITTED and not at the venue, or SUBMITTED and at the
venue). After the restarted daemon ran a couple of cycles and stopped,
:func:`check_books`: every venue order is journaled, no client id twice at a
venue, journal and venue agree on every order's filled amount, a finished
order's journaled fills sum to its filled amount, the perpetual's position
moved exactly by the journaled fills, every withdrawal at ``sim-b`` is a
distinct journaled transfer that was marked sent, and ``PRAGMA
integrity_check`` is ok; neither run logged an error. Before it is stopped,
the restarted daemon must also have settled every transfer the crash left
PENDING (never sent). With a halt set before the restart, the restarted daemon
sent nothing at all.
"""

from __future__ import annotations

import json
import math
import random
import re
import sqlite3
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ccxt

from bot.cli import main as cli_main
from bot.journal import Journal
from tests.e2e.daemon_harness import PERP, SYMBOL, JournalView, cli_env, wait_for
from tests.e2e.kill_points import KILL_EXIT, KILL_POINTS, Child, KillPoint, killed_at, start

USD_TOL = 1e-6
MAX_NTH = {
    "order.pending": 3,
    "order.submitted": 3,
    "order.sent": 3,
    "order.outcome": 3,
    "transfer.pending": 1,
    "transfer.submitted": 1,
    "transfer.sent": 1,
    "transfer.outcome": 1,
}
"""How many of each step the first run surely completes before it would stop on its own:
the hedge needs five or more orders, the collateral job sends one transfer."""
RESTART_CYCLES = 2
"""Hedge cycles the restarted daemon must complete before it is stopped."""
HALT_SHARE = 0.3
"""Share of the iterations with an operator's halt set between the crash and the restart."""
TERMINAL = frozenset({"filled", "canceled", "rejected", "not_found", "abandoned"})


@dataclass
class Venue:
    """A running ``deltabot sim-venue`` child: its URL and read-only views of its state."""

    child: Child
    url: str

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return json.loads(response.read())

    def orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.get("/_sim/orders")
        return orders

    def perp(self) -> dict[str, Any]:
        """The main account's BTC-PERPETUAL position (``size`` USD, ``size_currency`` coin)."""
        for pos in self.get("/_sim/positions").get("1", []):
            if pos["instrument_name"] == PERP:
                found: dict[str, Any] = pos
                return found
        return {"size": 0.0, "size_currency": 0.0}

    def perp_size_usd(self) -> float:
        return float(self.perp()["size"])

    def btc_delta_coin(self) -> float:
        """BTC equity plus the perpetual's coin size: the delta the hedge drives into its band."""
        equity = float(self.get("/_sim/balances")["1"]["BTC"]["equity"])
        return equity + float(self.perp()["size_currency"])

    def withdrawals(self) -> list[dict[str, Any]]:
        """The main account's BTC withdrawals, read through the signed API as a client would."""
        client = ccxt.deribit({"apiKey": "sim-main", "secret": "sim-main-secret"})
        client.urls["api"] = {"rest": self.url}
        answer = client.privateGetGetWithdrawals({"currency": "BTC"})
        found: list[dict[str, Any]] = answer["result"]["data"]
        return found


@contextmanager
def sim_venue(tmp: Path, name: str, seed: int) -> Iterator[Venue]:
    """``deltabot sim-venue`` on a free loopback port, stopped (or killed) when the block exits."""
    log = tmp / f"{name}.log"
    child = start(["sim-venue", "--port", "0", "--seed", str(seed)], log)
    try:

        def ready() -> str | None:
            text = child.text()
            if not child.alive():
                raise AssertionError(f"sim-venue {name} exited: {text}")
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)$", text, re.M)
            return match.group(1) if match and ": ready" in text else None

        url = wait_for(ready, f"sim-venue {name} to be ready", interval=0.02)
        yield Venue(child, url)
    finally:
        try:
            child.terminate(10.0)
        finally:
            child.kill()


def write_lab_config(tmp: Path, a: str, journal: Path, *, b: str | None = None) -> Path:
    """The book of the module docstring; without ``b``, ``sim-a`` alone and no collateral."""
    text = f"""\
mode = "sim"

[[venues]]
name = "sim-a"
exchange = "deribit"
role = ["options", "hedge"]
api_url = "{a}"

[[hedges]]
underlying = "BTC"
venue = "sim-a"
symbol = "{SYMBOL}"

[strategy]
name = "band"
[strategy.params]
width_up = 0.2
width_down = 0.2

[daemon]
journal_path = "{journal}"
hedge_interval_s = 0.2
reconcile_interval_s = 2.0
margin_interval_s = 0.5
shutdown_timeout_s = 5.0

[metrics]
enabled = false

[risk]
max_order_notional_usd = 300000
max_hourly_notional_usd = 10000000
max_daily_notional_usd = 20000000
max_orders_per_window = 1000
max_slippage_frac = 0.0005
unknown_grace_s = 1
unknown_resolution_s = 60

[sim]
start = 2026-12-01T08:00:00Z

[[sim.underlyings]]
name = "BTC"
spot_usd = 60000
vol = 0.6
"""
    if b is not None:
        text += COLLATERAL.format(b=b)
    path = tmp / "deltabot.toml"
    path.write_text(text)
    return path


COLLATERAL = """
[[venues]]
name = "sim-b"
exchange = "deribit"
role = ["options"]
api_url = "{b}"

[collateral]
mode = "auto"
max_transfer_usd = 1000000
max_daily_transfer_usd = 5000000

[[collateral.venues]]
name = "sim-a"
band = {{ floor = 115.0, target = 118.0, ceiling = 1000000.0 }}

[[collateral.venues]]
name = "sim-b"
band = {{ floor = 0.0, target = 0.0, ceiling = 1000000.0 }}

[[collateral.routes]]
from_venue = "sim-b"
to_venue = "sim-a"
currency = "BTC"
address = "sim-deribit-sim-1-btc"
fee_coin = 0.0001
min_coin = 0.0002
delay_s = 1860
"""


@dataclass
class Seen:
    """What venues and journal showed at one moment (to compare across a restart)."""

    venue_labels: list[str]
    journal_orders: int
    submitted_moves: int
    transfers: int
    withdrawals: int


@dataclass
class Iteration:
    """One kill, restart and check; :meth:`run` does it all and raises on a broken invariant."""

    tmp: Path
    seed: int
    point: KillPoint
    halt: bool

    @classmethod
    def draw(cls, tmp: Path, seed: int, step: str | None = None) -> Iteration:
        """The kill point (``step`` if given), its ``nth`` and the halt, drawn from ``seed``."""
        rng = random.Random(seed)
        chosen = step if step is not None else rng.choice(KILL_POINTS)
        nth = rng.randint(1, MAX_NTH[chosen])
        return cls(tmp, seed, KillPoint(chosen, nth), halt=rng.random() < HALT_SHARE)

    def describe(self) -> str:
        return f"seed={self.seed} kill={self.point} halt={self.halt}"

    def run(self) -> None:
        tmp = self.tmp
        tmp.mkdir(parents=True, exist_ok=True)
        journal = JournalView(tmp / "journal.sqlite")
        with sim_venue(tmp, "sim-a", self.seed) as a, sim_venue(tmp, "sim-b", self.seed + 1) as b:
            config = write_lab_config(tmp, a.url, journal.path, b=b.url)
            start_usd = a.perp_size_usd()
            first = start(["run", "--config", str(config)], tmp / "run1.log", self.point)
            try:
                code = first.wait(f"the kill at {self.point}", timeout=60.0)
            finally:
                first.kill()
            killed = killed_at(first.text())
            assert code == KILL_EXIT and killed is not None, (
                f"first run exited {code}, not at {self.point}\n{first.tail()}"
            )
            check_integrity(journal.path)
            check_kill(self.point, killed["key"], a, b, journal)
            if self.halt:
                halt(config)
            before = seen(a, b, journal)
            cycles = cycle_count(journal)
            second = start(["run", "--config", str(config)], tmp / "run2.log")
            try:
                wait_for(
                    lambda: (
                        running(second)
                        and cycle_count(journal) >= cycles + RESTART_CYCLES
                        and not never_sent_transfers(journal)
                    ),
                    f"{RESTART_CYCLES} hedge cycles of the restarted daemon, and no transfer "
                    "left PENDING (never sent) by the crash",
                    context=second.tail,
                )
                code = second.terminate()
            finally:
                second.kill()
            assert code == 0, f"restarted daemon exited {code}\n{second.tail()}"
            for run in (first, second):
                # An alert line is a condition the lab makes on purpose (its margin floor of
                # 115 is crossed, trading is halted), not a fault of the daemon.
                errors = [
                    line
                    for line in run.text().splitlines()
                    if '"level": "error"' in line and '"event": "alert"' not in line
                ]
                assert not errors, f"{run.log.name} logged errors:\n" + "\n".join(errors)
            after = seen(a, b, journal)
            if self.halt:
                assert after == before, f"sent while HALTED: {before} -> {after}"
            check_books(a, journal, start_usd, b=b)


def running(child: Child) -> bool:
    """True while ``child`` runs; fails naming its exit code and log once it has exited."""
    if not child.alive():
        raise AssertionError(f"daemon exited {child.code}\n{child.tail()}")
    return True


def halt(config: Path) -> None:
    """``deltabot halt`` beside no daemon, as an operator would after the crash."""
    code = cli_main(
        ["halt", "--config", str(config), "--reason", "kill-point test"], environ=cli_env()
    )
    assert code == 0


def cycle_count(journal: JournalView) -> int:
    """Hedge cycles that reached their decision (one decision row per cycle and underlying)."""
    [(n,)] = journal.query("SELECT COUNT(DISTINCT cycle_id) FROM decisions") or [(0,)]
    return int(n)


def never_sent_transfers(journal: JournalView) -> list[str]:
    """Transfers still PENDING: journaled, never sent (SUBMITTED commits before any send)."""
    rows = journal.query("SELECT transfer_id FROM transfers WHERE state = 'pending'")
    return [transfer_id for (transfer_id,) in rows]


def _count(journal: JournalView, sql: str, params: tuple[Any, ...] = ()) -> int:
    [(n,)] = journal.query(sql, params) or [(0,)]
    return int(n)


def seen(a: Venue, b: Venue | None, journal: JournalView) -> Seen:
    return Seen(
        sorted(o["label"] for o in a.orders()),
        len(journal.orders()),
        _count(journal, "SELECT COUNT(*) FROM order_states WHERE to_state = 'submitted'"),
        _count(journal, "SELECT COUNT(*) FROM transfers"),
        0 if b is None else len(b.withdrawals()),
    )


def check_kill(point: KillPoint, key: str, a: Venue, b: Venue, journal: JournalView) -> None:
    """The crash left the journal exactly where the kill point says: proof that the hook
    fired between the two steps it names."""
    if point.step.startswith("order."):
        state = (journal.order(key) or {}).get("state")
        at_venue = [o for o in a.orders() if o["label"] == key]
        expected = {
            "order.pending": ("pending", 0),
            "order.submitted": ("submitted", 0),
            "order.sent": ("submitted", 1),
        }.get(point.step)
        if expected is None:  # order.outcome
            assert state not in ("pending", "submitted") and len(at_venue) == 1, (state, at_venue)
        else:
            assert (state, len(at_venue)) == expected, (point.step, state, at_venue)
        return
    [(state,)] = journal.query("SELECT state FROM transfers WHERE transfer_id = ?", (key,))
    sent = _count(
        journal,
        "SELECT COUNT(DISTINCT transfer_id) FROM transfer_states WHERE to_state = 'submitted'",
    )
    withdrawals = len(b.withdrawals())
    if point.step == "transfer.pending":
        assert state == "pending" and withdrawals == sent, (state, withdrawals, sent)
    elif point.step == "transfer.submitted":
        assert state == "submitted" and withdrawals == sent - 1, (state, withdrawals, sent)
    elif point.step == "transfer.sent":
        assert state == "submitted" and withdrawals == sent, (state, withdrawals, sent)
    else:
        assert state not in ("pending", "submitted") and withdrawals == sent, (state, withdrawals)


def check_integrity(path: Path) -> None:
    """The journal opens (lock, WAL recovery, schema check) and its integrity check is ok."""
    with Journal.open(path):
        pass
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def check_books(a: Venue, journal: JournalView, start_usd: float, b: Venue | None = None) -> None:
    """The invariants of the module docstring."""
    check_integrity(journal.path)
    journaled = {o["client_id"]: o for o in journal.orders()}
    venue_orders = a.orders() + ([] if b is None else b.orders())
    labels = Counter(o["label"] for o in venue_orders)
    twice = {label: n for label, n in labels.items() if n > 1}
    assert not twice, f"client ids twice at the venue: {twice}"
    assert len(venue_orders) <= len(journaled)
    assert set(labels) <= set(journaled), f"not journaled: {set(labels) - set(journaled)}"
    for vo in venue_orders:
        jo = journaled[vo["label"]]
        assert vo["instrument_name"] == PERP
        assert jo["side"] == vo["direction"]
        assert math.isclose(jo["amount"], vo["amount"], abs_tol=USD_TOL)
        assert math.isclose(jo["filled_amount"], vo["filled_amount"], abs_tol=USD_TOL), (jo, vo)
    fills = journal.fills()
    for cid, jo in journaled.items():
        if jo["state"] in TERMINAL:
            own = math.fsum(f["amount"] for f in fills if f["client_id"] == cid)
            assert math.isclose(own, jo["filled_amount"], abs_tol=USD_TOL), (cid, jo, own)
    moved = a.perp_size_usd() - start_usd
    assert math.isclose(moved, journal.signed_fills_usd(), abs_tol=USD_TOL), (
        f"the perpetual moved {moved} USD, the journaled fills say {journal.signed_fills_usd()}"
    )
    if b is not None:
        _check_transfers(b, journal)


def _check_transfers(b: Venue, journal: JournalView) -> None:
    """Each withdrawal at ``sim-b`` is a distinct journaled transfer that was marked sent."""
    rows = journal.query(
        "SELECT t.amount, t.destination FROM transfers t WHERE EXISTS (SELECT 1 FROM "
        "transfer_states s WHERE s.transfer_id = t.transfer_id AND s.to_state = 'submitted')"
    )
    sent = Counter((round(amount, 8), destination) for amount, destination in rows)
    at_venue = Counter((round(float(w["amount"]), 8), w["address"]) for w in b.withdrawals())
    assert at_venue <= sent, f"withdrawals not journaled as sent: {at_venue - sent}"
