"""Subprocess harness for the daemon e2e tests: a standalone emulator, daemons, the journal.

Everything runs as ``python -m bot ...`` children with output sent to files in
the test's temporary directory (no pipes to drain, nothing to deadlock). The
emulator is the venue's truth (its ``/_sim/*`` admin endpoints); the journal
is read through read-only SQLite connections opened per query, so the test
never holds a lock the daemon needs. Every wait has a deadline.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")

WAIT_S = 30.0
"""Default deadline of one wait: a safety net for a wedged child, not a speed assertion."""
PERP = "BTC-PERPETUAL"
SYMBOL = "BTC/USD:BTC"
BAND_COIN = 0.2
"""The band strategy's half-width in the test configs (width_up = width_down)."""


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: no inherited DELTABOT_* settings, JSON logs, repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("DELTABOT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["DELTABOT_LOGGING__FORMAT"] = "json"
    env.update(extra or {})
    return env


def deltabot_async(*args: str) -> subprocess.Popen[str]:
    """Start ``python -m bot ARGS`` (collect it with :func:`finish`); lets CLI calls overlap."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a child started by :func:`deltabot_async`."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args} did not finish in {timeout} s: {err}") from None
    return proc.returncode, out, err


def deltabot_many(*commands: Sequence[str], timeout: float = 60.0) -> list[tuple[int, str, str]]:
    """Run several CLI commands at once (they overlap on the cores); each one's code and output.

    Every child is collected or killed before this returns or raises.
    """
    procs = [deltabot_async(*command) for command in commands]
    try:
        return [finish(proc, timeout) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def deltabot(*args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """Run ``python -m bot ARGS`` to completion: exit code, stdout, stderr."""
    return deltabot_many(args, timeout=timeout)[0]


def wait_for(
    probe: Callable[[], T | None],
    what: str,
    *,
    timeout: float = WAIT_S,
    interval: float = 0.1,
    context: Callable[[], str] = lambda: "",
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{context()}")
        time.sleep(interval)


def free_port() -> int:
    """A loopback port free right now (the status server's; a tiny race is accepted)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[Any], timeout: float) -> int:
    """SIGTERM, then SIGKILL if it does not exit within ``timeout``; its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# -- the emulator ---------------------------------------------------------------------------


@dataclass
class Emulator:
    """A running ``deltabot sim-venue``: its URL and read-only views of its state."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return json.loads(response.read())

    def orders(self) -> list[dict[str, Any]]:
        """Every order the venue ever saw, oldest first (label = our client id)."""
        orders: list[dict[str, Any]] = self.get("/_sim/orders")
        return orders

    def perp_position(self) -> dict[str, Any] | None:
        """The main account's BTC-PERPETUAL position (size USD, size_currency coin), if any."""
        for pos in self.get("/_sim/positions").get("1", []):
            if pos["instrument_name"] == PERP:
                found: dict[str, Any] = pos
                return found
        return None

    def perp_size_usd(self) -> float:
        pos = self.perp_position()
        return 0.0 if pos is None else float(pos["size"])

    def btc_delta_coin(self) -> float:
        """BTC equity plus the perp's coin size: the account's BTC delta the hedge drives to 0."""
        pos = self.perp_position()
        equity = float(self.get("/_sim/balances")["1"]["BTC"]["equity"])
        return equity + (0.0 if pos is None else float(pos["size_currency"]))


@contextmanager
def emulator(
    tmp: Path, *, faults: Mapping[str, Any] | None = None, seed: int = 1
) -> Iterator[Emulator]:
    """A standalone emulator on a free port, stopped (or killed) when the block exits."""
    out = tmp / f"sim-venue-{time.monotonic_ns()}.out"
    args = ["sim-venue", "--port", "0", "--seed", str(seed)]
    if faults is not None:
        args += ["--faults", json.dumps(faults)]
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO,
            env=cli_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:

        def ready() -> str | None:
            text = out.read_text(errors="replace")
            if proc.poll() is not None:
                raise AssertionError(f"sim-venue exited {proc.returncode}: {text}")
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)$", text, re.M)
            return match.group(1) if match and ": ready" in text else None

        url = wait_for(ready, "the emulator's ready line", interval=0.05)
        yield Emulator(proc, url, out)
    finally:
        _stop(proc, 10.0)


# -- config and daemons ---------------------------------------------------------------------


def write_config(
    tmp: Path,
    url: str,
    *,
    journal: Path | None = None,
    metrics_port: int = 0,
    name: str = "deltabot.toml",
    risk: Mapping[str, float] | None = None,
    hedge_interval_s: float = 1.0,
    shutdown_timeout_s: float = 5.0,
    strategy: str = 'name = "band"\n[strategy.params]\nwidth_up = 0.2\nwidth_down = 0.2',
) -> Path:
    """A mode-sim config whose one venue is the standalone emulator at ``url``."""
    journal = journal or tmp / "journal.sqlite"
    risk_lines = "\n".join(f"{k} = {v}" for k, v in {"unknown_grace_s": 3, **(risk or {})}.items())
    text = f"""\
mode = "sim"

[[venues]]
name = "sim-a"
exchange = "deribit"
role = ["options", "hedge"]
api_url = "{url}"

[[hedges]]
underlying = "BTC"
venue = "sim-a"
symbol = "{SYMBOL}"

[strategy]
{strategy}

[daemon]
journal_path = "{journal}"
hedge_interval_s = {hedge_interval_s}
shutdown_timeout_s = {shutdown_timeout_s}

[metrics]
port = {metrics_port}

[risk]
{risk_lines}

[sim]
start = 2026-12-01T08:00:00Z

[[sim.underlyings]]
name = "BTC"
spot_usd = 60000
vol = 0.6
"""
    path = tmp / name
    path.write_text(text)
    return path


@dataclass
class Daemon:
    """A ``deltabot run`` child; its JSON log lines are read back from a file."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every JSON log line (optionally only those with ``event == name``), in order."""
        found: list[dict[str, Any]] = []
        for line in self.text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (name is None or record.get("event") == name):
                found.append(record)
        return found

    def tail(self, lines: int = 30) -> str:
        return "daemon log tail:\n" + "\n".join(self.text().splitlines()[-lines:])

    def wait_event(self, name: str, *, timeout: float = WAIT_S) -> dict[str, Any]:
        """The first ``name`` event, waiting for it; fails early if the daemon exits."""

        def probe() -> dict[str, Any] | None:
            found = self.events(name)
            if found:
                return found[0]
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"daemon exited {self.proc.returncode} before {name}\n{self.tail()}"
                )
            return None

        return wait_for(probe, f"daemon event {name}", timeout=timeout, context=self.tail)

    def kill9(self) -> None:
        """SIGKILL: no handler, no flush, no lock release but the kernel's."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; the exit code (killed and failed if it overruns)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"daemon ignored SIGTERM for {timeout} s\n{self.tail()}") from None


@contextmanager
def daemon(config: Path, log: Path) -> Iterator[Daemon]:
    """``deltabot run --config`` with stderr+stdout in ``log``; killed if still alive at exit."""
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=REPO,
            env=cli_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Daemon(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- the journal ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalView:
    """Read-only queries on a daemon's journal (a fresh connection per query)."""

    path: Path

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:  # schema not created yet
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def orders(self) -> list[dict[str, Any]]:
        cols = "client_id, state, symbol, side, amount, filled_amount, created_ts_ms"
        rows = self.query(f"SELECT {cols} FROM orders ORDER BY created_ts_ms, client_id")
        return [dict(zip(cols.split(", "), row, strict=True)) for row in rows]

    def order(self, client_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders() if o["client_id"] == client_id), None)

    def states(self, client_id: str) -> list[tuple[str | None, str, str]]:
        """``(from, to, detail)`` of every recorded transition, oldest first."""
        rows = self.query(
            "SELECT from_state, to_state, detail FROM order_states "
            "WHERE client_id = ? ORDER BY seq",
            (client_id,),
        )
        return [(f, t, d) for f, t, d in rows]

    def fills(self) -> list[dict[str, Any]]:
        cols = "trade_id, client_id, symbol, side, amount"
        rows = self.query(f"SELECT {cols} FROM fills ORDER BY ts_ms, trade_id")
        return [dict(zip(cols.split(", "), row, strict=True)) for row in rows]

    def signed_fills_usd(self) -> float:
        """Net amount our journaled fills moved the perp by (USD, + buys)."""
        return math.fsum(
            (1 if f["side"] == "buy" else -1) * f["amount"]
            for f in self.fills()
            if f["symbol"] == SYMBOL
        )


OPEN = frozenset({"pending", "submitted", "unknown", "accepted", "partial"})
