"""``deltabot run``/``halt``/``resume``/``status`` as subprocesses against a standalone emulator.

Pins the operator-facing contract of the daemon: SIGTERM is an orderly stop
(exit 0, lock released), one daemon per journal, halt/resume take effect from
another process while it runs, status falls back to the journal when no
daemon answers, and a bad config is exit 2 with the key path, no traceback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.daemon_harness import (
    Daemon,
    Emulator,
    JournalView,
    daemon,
    deltabot,
    deltabot_many,
    emulator,
    free_port,
    wait_for,
    write_config,
)

SHUTDOWN_TIMEOUT_S = 2.0
"""``daemon.shutdown_timeout_s`` of the SIGTERM test (the ccxt timeout is 10 s)."""
QUIET_S = 3.0
"""How long a halted daemon must stay silent."""


@dataclass
class Running:
    """A daemon hedging a standalone emulator, shared by the tests that only watch it."""

    emu: Emulator
    run: Daemon
    config: Path
    journal: JournalView


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A daemon with a live status port and small orders, so it keeps trading for a minute."""
    tmp = tmp_path_factory.mktemp("running")
    journal = JournalView(tmp / "journal.sqlite")
    slow_hedge = {"max_order_notional_usd": 10_000, "max_orders_per_window": 1000}
    with emulator(tmp) as emu:
        config = write_config(
            tmp, emu.url, journal=journal.path, metrics_port=free_port(), risk=slow_hedge
        )
        with daemon(config, tmp / "run.log") as run:
            run.wait_event("daemon_started")
            yield Running(emu, run, config, journal)
            run.terminate()


def _parse_status(code: int, out: str, err: str) -> dict[str, Any]:
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _status_json(config: Path) -> dict[str, Any]:
    """``deltabot status --json``, parsed."""
    return _parse_status(*deltabot("status", "--json", "--config", str(config)))


@pytest.mark.slow
def test_sigterm_exits_zero(tmp_path: Path) -> None:
    """SIGTERM exits 0 with daemon_stopped, mid-send within the shutdown timeout; lock released."""
    held = {"action": "fill_then_drop", "method": "private/sell", "count": 1, "drop": "hang"}
    journal = JournalView(tmp_path / "journal.sqlite")
    with emulator(tmp_path, faults={"rules": [held]}) as emu:
        config = write_config(tmp_path, emu.url, shutdown_timeout_s=SHUTDOWN_TIMEOUT_S)
        with daemon(config, tmp_path / "run1.log") as first:
            # the first sell is executed by the venue and its answer held: the cycle is stuck
            wait_for(emu.orders, "the held order on the venue", context=first.tail)
            t0 = time.monotonic()
            assert first.terminate(timeout=SHUTDOWN_TIMEOUT_S + 10) == 0, first.tail()
            assert time.monotonic() - t0 < SHUTDOWN_TIMEOUT_S + 3, "shutdown overran its timeout"
            names = [e["event"] for e in first.events()]
            assert "job_aborted_at_shutdown" in names, names
            assert names[-1] == "daemon_stopped", names
            assert not {"job_failed", "cycle_crashed"} & set(names), names
            assert "job_aborted" in names, names  # a planned abort, logged as a warning
            assert not [e for e in first.events() if "exception" in e], "no traceback at stop"
        (aborted,) = journal.orders()
        assert aborted["state"] in ("submitted", "unknown"), aborted  # never a rejection
        with daemon(config, tmp_path / "run2.log") as second:
            started = second.wait_event("daemon_started")  # the lock was released
            assert started["journal"] == str(journal.path)
            assert journal.order(aborted["client_id"])["state"] == "filled"
            assert second.terminate() == 0, second.tail()
            assert [e["event"] for e in second.events()][-1] == "daemon_stopped"
        assert [o["label"] for o in emu.orders()].count(aborted["client_id"]) == 1


@pytest.mark.slow
def test_status_reads_journal_when_daemon_down(tmp_path: Path) -> None:
    """With no daemon answering, status shows the journal's trading state and last decisions."""
    with emulator(tmp_path) as emu:
        config = write_config(tmp_path, emu.url, metrics_port=free_port(), hedge_interval_s=0.5)
        journal = JournalView(tmp_path / "journal.sqlite")
        with daemon(config, tmp_path / "run.log") as run:
            wait_for(
                lambda: journal.query("SELECT 1 FROM decisions LIMIT 1"),
                "a journaled decision",
                context=run.tail,
            )
            assert _status_json(config)["source"] == "daemon"
            assert run.terminate() == 0, run.tail()
    (code, text, err), as_json = deltabot_many(
        ["status", "--config", str(config)], ["status", "--json", "--config", str(config)]
    )
    assert code == 0, err
    doc = _parse_status(*as_json)
    assert "source: journal (no daemon answered; margin unknown)" in text
    assert "trading: active" in text
    assert "BTC: last decision at" in text
    assert "open orders in the journal: 0" in text
    assert str(doc["source"]).startswith("journal")
    assert doc["trading_state"]["mode"] == "active"
    decisions = doc["last_decisions"]
    assert isinstance(decisions, dict)
    assert set(decisions) == {"BTC"}
    assert {"ts_ms", "greeks", "target_hedge_coin", "reason"} <= set(decisions["BTC"])
    assert doc["open_orders"] == 0


BAD_CONFIGS = {
    "unknown_strategy": ('name = "band"', 'name = "no_such_strategy"', "no_such_strategy"),
    "bad_params": ("width_up = 0.2", "width_up = -1.0", "width_up"),
}


def _bad_config(tmp_path: Path, case: str) -> Path:
    good = write_config(tmp_path, "http://127.0.0.1:9", name=f"{case}.toml")
    old, new, _ = BAD_CONFIGS[case]
    text = good.read_text()
    assert old in text
    good.write_text(text.replace(old, new, 1))
    return good


def test_run_bad_config_exits_2(tmp_path: Path) -> None:
    """An unknown strategy or bad strategy params: exit 2, key path in stderr, no traceback."""
    cases = list(BAD_CONFIGS)
    results = deltabot_many(*(["run", "--config", str(_bad_config(tmp_path, c))] for c in cases))
    errors: dict[str, str] = {}
    for case, (code, out, err) in zip(cases, results, strict=True):
        assert code == 2, (case, out, err)
        assert "invalid config, 1 problem:" in err, (case, err)
        assert BAD_CONFIGS[case][2] in err, (case, err)
        assert "Traceback" not in out + err, case
        errors[case] = err
    assert "  strategy.params.width_up: Input should be greater than" in errors["bad_params"]
    assert "  strategy." in errors["unknown_strategy"]
    assert "unknown strategy 'no_such_strategy'; available: band" in errors["unknown_strategy"]
    assert not (tmp_path / "journal.sqlite").exists(), "a refused config must not touch a journal"


def test_unknown_strategy_is_reported_at_strategy_name(tmp_path: Path) -> None:
    """An unknown strategy name is reported at the key path strategy.name, not strategy.params."""
    code, _, err = deltabot("run", "--config", str(_bad_config(tmp_path, "unknown_strategy")))
    assert code == 2
    assert "  strategy.name: unknown strategy 'no_such_strategy'" in err


# The tests below share the module's running daemon; they come last so it runs only for them.


@pytest.mark.slow
def test_second_daemon_refused(running: Running) -> None:
    """A second run on a locked journal exits 2 naming the lock and the holder's pid."""
    code, out, err = deltabot("run", "--config", str(running.config))
    assert code == 2, out + err
    assert "cannot start" in err
    assert f"in use by pid {running.run.pid}" in err
    assert "journal.sqlite.lock" in err
    assert "Traceback" not in err
    assert running.run.proc.poll() is None, "the first daemon must keep running"
    lock_file = running.journal.path.with_name("journal.sqlite.lock")
    assert lock_file.read_text().strip() == str(running.run.pid)  # the holder's pid kept


@pytest.mark.slow
def test_halt_and_resume(running: Running) -> None:
    """halt stops new orders within a cycle (status: halted); resume restarts them (active)."""
    journal, run, config = running.journal, running.run, str(running.config)
    wait_for(journal.orders, "the first hedge order", context=run.tail)
    (code, out, err), (no_reason_code, _, no_reason_err) = deltabot_many(
        ["halt", "--reason", "e2e test", "--config", config], ["halt", "--config", config]
    )
    assert code == 0, err
    assert "-> halted (e2e test)" in out
    assert no_reason_code == 2
    assert "the following arguments are required: --reason" in no_reason_err
    assert "Traceback" not in no_reason_err

    def denied_halted() -> bool:
        return any(e.get("reason") == "trading halted" for e in run.events("order_denied"))

    wait_for(denied_halted, "an order denied as halted", context=run.tail)
    orders_before = len(journal.orders())
    sent_before = len(run.events("order_sent"))
    quiet_from = time.monotonic()
    doc = _status_json(running.config)  # the live daemon's view, while staying quiet
    assert doc["source"] == "daemon"
    assert doc["trading_state"]["mode"] == "halted"
    assert doc["trading_state"]["reason"] == "e2e test"
    time.sleep(max(0.0, QUIET_S - (time.monotonic() - quiet_from)))
    assert len(journal.orders()) == orders_before
    assert len(run.events("order_sent")) == sent_before

    code, out, err = deltabot("resume", "--config", config)
    assert code == 0, err
    assert "trading halted -> active" in out
    wait_for(
        lambda: len(journal.orders()) > orders_before,
        "orders to resume after resume",
        timeout=15,
        context=run.tail,
    )
    doc = _status_json(running.config)
    assert doc["trading_state"]["mode"] == "active"
    assert doc["trading_state"]["set_by"] == "operator"
