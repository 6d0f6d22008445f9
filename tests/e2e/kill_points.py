"""Kill points: the real ``deltabot`` CLI in a child process that dies by SIGKILL at a chosen
step of the executor's journal-first sends, with no test hook in production code.

A kill point names the step that has just completed when the process dies:

* ``order.pending``: the intent is committed PENDING; SUBMITTED is not;
* ``order.submitted``: SUBMITTED is committed; the order has not been sent;
* ``order.sent``: the venue has answered the send; the outcome is not journaled;
* ``order.outcome``: the outcome (state and fills, one transaction) is committed;
* ``transfer.pending`` / ``.submitted`` / ``.sent`` / ``.outcome``: the same four
  steps of the collateral job's transfer sender;
* ``fill.recorded`` (not one of the executor's steps): reconciliation has
  stored one fill it read from the venue, before the order's state moved.

:func:`arm` wraps the journal stores' and the ccxt venue's methods (class
attributes, so every instance the daemon builds later has them) to count each
completed step and to SIGKILL the process itself at the ``nth`` one, after
writing one ``kill_point`` JSON line to stderr.

:func:`start` runs an entry point (``bot.cli.main`` unless told otherwise) in
a child forked from a server process that has already imported deltabot, ccxt
and aiohttp, so a daemon starts in a fraction of a second instead of paying
the imports every time; from ``main`` on, the code path is the ``deltabot``
binary's. To reproduce one kill by hand::

    python -m tests.e2e.kill_points order.sent 2 run --config deltabot.toml
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.daemon_harness import REPO, WAIT_S, cli_env, wait_for

ORDER_POINTS = ("order.pending", "order.submitted", "order.sent", "order.outcome")
TRANSFER_POINTS = ("transfer.pending", "transfer.submitted", "transfer.sent", "transfer.outcome")
KILL_POINTS = ORDER_POINTS + TRANSFER_POINTS
"""The executor's and the transfer sender's steps: the kill points the fuzz test draws."""
FILL_RECORDED = "fill.recorded"
KILL_EXIT = -signal.SIGKILL
"""A child's exit code after its kill point fired (killed by signal 9)."""
CLI = "bot.cli:main"

_PRELOAD = (
    "bot.cli",
    "bot.commands.run",
    "bot.commands.sim_venue",
    "bot.commands.trading",
    "bot.app.daemon",
    "bot.venues.ccxt_venue",
    "bot.journal",
    "ccxt.async_support",
)


@dataclass(frozen=True, slots=True)
class KillPoint:
    """Die right after the ``nth`` completion of ``step``."""

    step: str
    nth: int = 1

    def __post_init__(self) -> None:
        if self.step not in (*KILL_POINTS, FILL_RECORDED):
            raise ValueError(f"unknown kill point {self.step!r}; have {', '.join(KILL_POINTS)}")
        if self.nth < 1:
            raise ValueError(f"nth must be >= 1, got {self.nth}")

    def __str__(self) -> str:
        return f"{self.step}#{self.nth}"


def killed_at(log_text: str) -> dict[str, str] | None:
    """The ``kill_point`` line a child wrote before it died, if any."""
    for line in log_text.splitlines():
        if '"event": "kill_point"' in line:
            found: dict[str, str] = json.loads(line)
            return found
    return None


def _die(point: KillPoint, key: object) -> None:
    """Say where, then SIGKILL ourselves: no handler, no flush, no cleanup of any kind."""
    line = json.dumps({"event": "kill_point", "point": str(point), "key": str(key)})
    os.write(2, f"{line}\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)


class _Trap:
    """Counts completed steps; SIGKILLs the process at the armed one."""

    def __init__(self, point: KillPoint) -> None:
        self.point = point
        self.kind = point.step.split(".")[0]
        self.seen = 0
        self.awaiting: set[str] = set()
        """Keys whose send has returned: the next ``mark`` of one journals its outcome."""

    def done(self, step: str, key: object) -> None:
        if step == self.point.step:
            self.seen += 1
            if self.seen == self.point.nth:
                _die(self.point, key)


def arm(point: KillPoint) -> None:
    """Patch this process so it dies at ``point`` (call before ``bot.cli.main``)."""
    trap = _Trap(point)
    if trap.kind == "fill":
        _arm_fills(trap)
    else:
        _arm_journal(trap)
        _arm_sends(trap)


def _arm_fills(trap: _Trap) -> None:
    from bot.journal.orders import OrderStore

    record_fill = OrderStore.record_fill

    @functools.wraps(record_fill)
    def recorded(self: Any, fill: Any, *args: Any, **kwargs: Any) -> bool:
        stored = record_fill(self, fill, *args, **kwargs)
        if stored:
            trap.done(FILL_RECORDED, fill.trade_id)
        return stored

    OrderStore.record_fill = recorded  # type: ignore[method-assign]


def _arm_journal(trap: _Trap) -> None:
    """The record (PENDING), SUBMITTED and outcome steps: after the store's method returned."""
    from bot.domain.orders import OrderState, TransferState
    from bot.journal.orders import OrderStore
    from bot.journal.transfers import TransferStore

    kind = trap.kind
    store: Any = OrderStore if kind == "order" else TransferStore
    record_name = "record_intent" if kind == "order" else "record"
    submitted = OrderState.SUBMITTED if kind == "order" else TransferState.SUBMITTED
    original_record = getattr(store, record_name)
    original_mark = store.mark

    @functools.wraps(original_record)
    def record(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_record(self, request, *args, **kwargs)
        trap.done(f"{kind}.pending", _key(kind, request))
        return result

    @functools.wraps(original_mark)
    def mark(self: Any, key: str, new_state: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = key in trap.awaiting
        trap.awaiting.discard(key)
        result = original_mark(self, key, new_state, *args, **kwargs)
        if new_state is submitted:
            trap.done(f"{kind}.submitted", key)
        if outcome:
            trap.done(f"{kind}.outcome", key)
        return result

    setattr(store, record_name, record)
    store.mark = mark


def _arm_sends(trap: _Trap) -> None:
    """The send step: after the venue's answer came back, before the executor sees it."""
    from bot.venues.ccxt_venue import CcxtVenue

    kind = trap.kind

    def sent(send: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(send)
        async def wrapper(self: Any, request: Any) -> Any:
            outcome = await send(self, request)
            key = _key(kind, request)
            trap.awaiting.add(key)
            trap.done(f"{kind}.sent", key)
            return outcome

        return wrapper

    for name in ("create_order",) if kind == "order" else ("withdraw", "transfer_to_subaccount"):
        setattr(CcxtVenue, name, sent(getattr(CcxtVenue, name)))


def _key(kind: str, request: Any) -> str:
    """An order intent's client id (or an order request's), or a transfer's id."""
    if kind == "transfer":
        return str(request.transfer_id)
    return str(getattr(request, "order", request).client_id)


def _resolve(entry: str) -> Callable[..., int]:
    module, name = entry.split(":")
    function: Callable[..., int] = getattr(importlib.import_module(module), name)
    return function


def _child(entry: str, argv: Sequence[str], log: str, point: KillPoint | None) -> int:
    """Body of a forked child: output to ``log``, arm the kill point, run the entry point."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    env = cli_env()
    os.environ.clear()
    os.environ.update(env)
    if point is not None:
        arm(point)
    function = _resolve(entry)
    try:
        return function(list(argv), environ=env) if entry == CLI else function(list(argv))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _fork(request: dict[str, Any]) -> int:
    """Fork a child for a ``start`` request; returns its pid (the child never returns)."""
    point = request.get("point")
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        code = _child(
            request["entry"],
            request["start"],
            request["log"],
            None if point is None else KillPoint(point[0], int(point[1])),
        )
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def serve() -> int:
    """The fork server: import what ``deltabot`` needs once, then serve JSON lines on stdin.

    ``{"start": [argv...], "entry": "module:function", "log": path, "point": [step, nth]
    | null}`` forks a child running the entry point and answers ``{"pid": pid}``;
    ``{"poll": pid}`` answers ``{"code": exit code}`` once that child has exited
    (reaping it), else ``{"code": null}``. End of input ends the server.
    """
    for module in _PRELOAD:
        importlib.import_module(module)
    for line in sys.stdin:
        request = json.loads(line)
        if "start" in request:
            answer: dict[str, Any] = {"pid": _fork(request)}
        else:
            done, status = os.waitpid(int(request["poll"]), os.WNOHANG)
            answer = {"code": os.waitstatus_to_exitcode(status) if done else None}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


class _Server:
    """The test process's handle on the fork server (started once, on first use)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.kill_points", "serve"],
            cwd=REPO,
            env=cli_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        atexit.register(self.close)

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise AssertionError(f"the fork server exited {self._proc.poll()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        """End of input stops the server; its children are the tests' to stop."""
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@functools.cache
def _server() -> _Server:
    return _Server()


@dataclass
class Child:
    """A started child (a fork of the server) and the file its output goes to."""

    pid: int
    log: Path
    code: int | None = None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return f"{self.log.name} tail:\n" + "\n".join(self.text().splitlines()[-lines:])

    def poll(self) -> int | None:
        """The exit code once the child has exited, else None."""
        if self.code is None:
            self.code = _server().ask({"poll": self.pid})["code"]
        return self.code

    def alive(self) -> bool:
        return self.poll() is None

    def wait(self, what: str, timeout: float = WAIT_S) -> int:
        """Poll until the child has exited on its own; its exit code (fails at the deadline)."""
        wait_for(lambda: not self.alive(), what, timeout=timeout, interval=0.05, context=self.tail)
        assert self.code is not None
        return self.code

    def signal(self, signum: int) -> None:
        """Send ``signum`` if the child still runs (its pid is not reused until reaped)."""
        if self.alive():
            os.kill(self.pid, signum)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM (an orderly stop) and wait; the exit code (killed and failed on overrun)."""
        self.signal(signal.SIGTERM)
        try:
            return self.wait("an orderly stop after SIGTERM", timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL if still running, and reap it."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            wait_for(lambda: not self.alive(), "a SIGKILLed child to exit", interval=0.02)


def start(
    argv: Sequence[str], log: Path, point: KillPoint | None = None, *, entry: str = CLI
) -> Child:
    """Run ``entry`` (default ``deltabot``) with ``argv`` in a child of the fork server, output
    appended to ``log``; armed with ``point`` if given."""
    request = {
        "start": list(argv),
        "entry": entry,
        "log": str(log),
        "point": None if point is None else [point.step, point.nth],
    }
    return Child(int(_server().ask(request)["pid"]), log)


def main(argv: Sequence[str]) -> int:
    """``python -m tests.e2e.kill_points STEP NTH CLI-ARGS...``: one armed run, by hand
    (``serve``: the fork server)."""
    if argv[:1] == ["serve"]:
        return serve()
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    arm(KillPoint(argv[0], int(argv[1])))
    from bot.cli import main as cli_main

    code = cli_main(list(argv[2:]))
    print(f"deltabot exited {code}: the kill point was not reached", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
