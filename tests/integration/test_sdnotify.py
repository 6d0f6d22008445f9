"""sd_notify: the datagrams a real unix socket receives from the notifier and from the daemon."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.daemon import DaemonHooks, run_daemon
from bot.config import load_config
from bot.ops.sdnotify import NotifyConfigError, SdNotifier

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound unix datagram socket standing in for systemd, and its path."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    yield sock, path
    sock.close()


async def next_message(sock: socket.socket) -> str:
    """The next datagram, waiting on the event loop (bounded: a hang fails, never a timing)."""
    loop = asyncio.get_running_loop()
    return (await asyncio.wait_for(loop.sock_recv(sock, 4096), 60)).decode()


class TestFromEnviron:
    def test_nothing_without_notify_socket(self) -> None:
        """No NOTIFY_SOCKET (or an empty one): no notifier, so nothing is ever sent."""
        assert SdNotifier.from_environ({}) is None
        assert SdNotifier.from_environ({"NOTIFY_SOCKET": "", "WATCHDOG_USEC": "1000"}) is None

    def test_abstract_namespace_and_watchdog_half_period(self) -> None:
        """'@name' is the abstract socket '\\0name'; pings come at half of WATCHDOG_USEC."""
        notifier = SdNotifier.from_environ({"NOTIFY_SOCKET": "@sd", "WATCHDOG_USEC": "30000000"})
        assert notifier == SdNotifier(b"\0sd", 15.0)

    def test_watchdog_for_another_pid_is_not_ours(self) -> None:
        """WATCHDOG_PID naming another process means this one does not ping."""
        environ = {"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
        assert SdNotifier.from_environ(environ, pid=4242) == SdNotifier("/run/n", None)

    @pytest.mark.parametrize(
        ("environ", "needle"),
        [
            ({"NOTIFY_SOCKET": "relative.sock"}, "absolute path or @abstract-name"),
            ({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "soon"}, "expected microseconds"),
            ({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "0"}, "expected microseconds"),
        ],
    )
    def test_unusable_values_are_refused(self, environ: dict[str, str], needle: str) -> None:
        """A socket address or watchdog period systemd would never pass is one clear error."""
        with pytest.raises(NotifyConfigError, match=needle):
            SdNotifier.from_environ(environ)


async def test_abstract_socket_receives_a_datagram() -> None:
    """A notifier on '@name' reaches a socket bound in the abstract namespace."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0deltabot-test-sdnotify")
        sock.setblocking(False)
        SdNotifier.from_environ({"NOTIFY_SOCKET": "@deltabot-test-sdnotify"}).send("READY=1")  # type: ignore[union-attr]
        assert await next_message(sock) == "READY=1"


async def test_a_vanished_socket_is_logged_not_raised(tmp_path: Path) -> None:
    """Sending to a socket nobody listens on does not raise (the hedging goes on)."""
    SdNotifier(str(tmp_path / "gone.sock"), None).send("WATCHDOG=1")


async def test_daemon_ready_watchdog_and_stopping(
    listener: tuple[socket.socket, str], tmp_path: Path
) -> None:
    """The daemon sends READY=1 with its trading state once started (before its on_ready
    hook), WATCHDOG=1 from its event loop, and STOPPING=1 when asked to stop."""
    sock, path = listener
    config = load_config(
        ROOT / "config.example.toml",
        {
            "DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
            "DELTABOT_METRICS__ENABLED": "false",
        },
    )
    seen_at_ready: list[str] = []
    stop, ready = asyncio.Event(), asyncio.Event()

    def on_ready(_daemon: object) -> None:
        seen_at_ready.append(sock.recv(4096).decode())
        ready.set()

    environ = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"}
    daemon = asyncio.create_task(run_daemon(config, environ, stop, DaemonHooks(on_ready=on_ready)))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        assert [await next_message(sock), await next_message(sock)] == ["WATCHDOG=1"] * 2
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 60)
    assert seen_at_ready == ["READY=1\nSTATUS=trading active"]
    rest = []
    while not rest or not rest[-1].startswith("STOPPING=1"):
        rest.append(await next_message(sock))
    assert rest[-1] == "STOPPING=1\nSTATUS=trading active"
    assert set(rest[:-1]) <= {"WATCHDOG=1"}


async def test_no_notify_socket_means_no_datagram(
    listener: tuple[socket.socket, str], tmp_path: Path
) -> None:
    """Without NOTIFY_SOCKET the daemon starts and stops without sending anything."""
    sock, _ = listener
    config = load_config(
        ROOT / "config.example.toml",
        {
            "DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
            "DELTABOT_METRICS__ENABLED": "false",
        },
    )
    stop = asyncio.Event()
    await run_daemon(config, {}, stop, DaemonHooks(on_ready=lambda _daemon: stop.set()))
    with pytest.raises(BlockingIOError):
        sock.recv(4096)
