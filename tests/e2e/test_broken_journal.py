"""A broken journal from the operator's side: every command says what is wrong in one line
and exits 2, ``halt`` still halts (by the marker beside the journal), a daemon obeys the
marker, and a journal replaced under a running daemon halts it and fails its exit."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from tests.broken_journals import BROKEN
from tests.e2e.daemon_harness import (
    JournalView,
    daemon,
    deltabot,
    deltabot_many,
    emulator,
    free_port,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.slow


KINDS = ("truncated", "bad_header", "random_bytes", "directory", "fifo")
"""The broken files of the issue (the unit tests add an empty file and a damaged page)."""

REFUSING = (["run"], ["status"], ["resume"], ["collateral", "plan"])
"""The commands that must refuse a broken journal (``halt`` falls back to the marker)."""


def _broken_config(tmp: Path, kind: str) -> tuple[Path, Path]:
    """A config whose journal is broken as ``kind`` says; (config, journal)."""
    home = tmp / kind
    home.mkdir()
    journal = home / "journal.sqlite"
    BROKEN[kind][0](journal)
    return write_config(home, "http://127.0.0.1:9", journal=journal), journal


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_every_command_names_a_broken_journal_in_one_line_and_halt_still_halts(
    tmp_path: Path,
) -> None:
    """run/status/resume/collateral plan exit 2 with one line naming the file and the problem;
    halt exits 0 writing the marker and saying so; resume then says the marker stays."""
    configs = {kind: _broken_config(tmp_path, kind) for kind in KINDS}
    runs = [(kind, cmd) for kind in KINDS for cmd in REFUSING]
    results = deltabot_many(
        *([*cmd, "--config", str(configs[kind][0])] for kind, cmd in runs), timeout=120
    )
    for (kind, cmd), (code, out, err) in zip(runs, results, strict=True):
        journal, problem = configs[kind][1], BROKEN[kind][1]
        assert code == 2, (kind, cmd, out, err)
        assert "Traceback" not in out + err, (kind, cmd)
        line = _one_line(err)
        assert line.startswith(f"deltabot {cmd[0]}: "), line
        assert f"journal {journal} {problem}" in line, (kind, cmd, line)

    halts = deltabot_many(
        *(["halt", "--reason", "journal broken", "--config", str(c)] for c, _ in configs.values())
    )
    for kind, (code, out, err) in zip(KINDS, halts, strict=True):
        journal, problem = configs[kind][1], BROKEN[kind][1]
        marker = journal.with_name("journal.sqlite.halt")
        assert code == 0, (kind, out, err)
        assert "Traceback" not in out + err, kind
        line = _one_line(out)
        assert f"journal {journal} {problem}" in line, line
        assert f"trading halted by the marker {marker} (journal broken)" in line, line
        doc = json.loads(marker.read_text())
        assert (doc["mode"], doc["set_by"]) == ("halted", "operator")
        assert doc["reason"] == "journal broken"
    config, journal = configs["random_bytes"]
    code, _, err = deltabot("resume", "--config", str(config))
    assert code == 2, err
    marker = journal.with_name("journal.sqlite.halt")
    assert f"the halt marker {marker} stays until the journal is readable" in _one_line(err)


def test_a_daemon_obeys_the_halt_marker_until_resume_removes_it(tmp_path: Path) -> None:
    """After a halt on an unreadable journal and the journal moved aside, a new daemon starts
    halted with the marker's reason and sends nothing; resume removes the marker and trading
    starts."""
    journal = JournalView(tmp_path / "journal.sqlite")
    journal.path.write_bytes(random.Random(1).randbytes(8192))
    with emulator(tmp_path) as emu:
        config = write_config(tmp_path, emu.url, journal=journal.path, metrics_port=free_port())
        code, out, err = deltabot("halt", "--reason", "journal lost", "--config", str(config))
        assert code == 0, err
        marker = journal.path.with_name("journal.sqlite.halt")
        assert marker.exists(), out
        journal.path.rename(tmp_path / "journal.broken")  # the operator sets it aside
        with daemon(config, tmp_path / "run.log") as run:
            assert run.wait_event("daemon_started")["trading_state"] == "halted"

            def denied_halted() -> bool:
                return any(e.get("reason") == "trading halted" for e in run.events("order_denied"))

            wait_for(denied_halted, "an order denied as halted", context=run.tail)
            assert emu.orders() == []
            code, out, err = deltabot("status", "--json", "--config", str(config))
            assert code == 0, err
            state = json.loads(out)["trading_state"]
            assert (state["mode"], state["reason"]) == ("halted", "journal lost")

            code, out, err = deltabot("resume", "--config", str(config))
            assert code == 0, err
            assert f"removed the halt marker {marker}" in out
            assert not marker.exists()
            wait_for(emu.orders, "an order after resume", context=run.tail)
            assert run.terminate() == 0, run.tail()


def test_a_journal_replaced_under_a_running_daemon_halts_it_and_fails_its_exit(
    tmp_path: Path,
) -> None:
    """A journal file replaced while the daemon runs is found by the check at stop: the daemon
    exits 2 with one line naming the file, logs the failure, and leaves the halt marker."""
    journal = JournalView(tmp_path / "journal.sqlite")
    with emulator(tmp_path) as emu:
        config = write_config(tmp_path, emu.url, journal=journal.path)
        with daemon(config, tmp_path / "run.log") as run:
            run.wait_event("daemon_started")
            replacement = tmp_path / "replacement.sqlite"
            replacement.write_bytes(random.Random(2).randbytes(8192))
            os.replace(replacement, journal.path)
            assert run.terminate() == 2, run.tail()
            problem = f"journal {journal.path} was replaced while open"
            (first, *_) = run.events("journal_check_failed")
            assert first["problem"].startswith(problem)
            last = run.text().strip().splitlines()[-1]
            assert last.startswith(f"deltabot run: {problem}"), run.tail()
            assert "trading was halted" in last
            assert "Traceback" not in run.text()
    marker = json.loads(journal.path.with_name("journal.sqlite.halt").read_text())
    assert marker["mode"] == "halted" and marker["set_by"] == "automatic"
    assert marker["reason"].startswith(f"journal check failed: {problem}")
