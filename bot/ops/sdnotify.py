"""systemd's notify protocol (sd_notify(3)), without libsystemd.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET``, a unix datagram socket
(a path, or ``@name`` in the abstract namespace), and with ``WatchdogSec=`` also
``WATCHDOG_USEC``. The daemon says ``READY=1`` once it trades, ``STATUS=`` with
its trading state, ``WATCHDOG=1`` at half the watchdog period and
``STOPPING=1`` when it stops. The pings come from the event loop itself, so a
loop that hangs stops them and systemd restarts the daemon. Without
``NOTIFY_SOCKET`` nothing is sent at all.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import structlog

NOTIFY_SOCKET_VAR = "NOTIFY_SOCKET"
WATCHDOG_USEC_VAR = "WATCHDOG_USEC"
WATCHDOG_PID_VAR = "WATCHDOG_PID"
STATUS_PERIOD_S = 5.0
"""How often, in seconds, a changed trading state is reported when no watchdog is asked for."""

log = structlog.get_logger("deltabot.sdnotify")


class NotifyConfigError(ValueError):
    """``NOTIFY_SOCKET`` or ``WATCHDOG_USEC`` cannot be used as systemd documents them."""


@dataclass(frozen=True, slots=True)
class SdNotifier:
    """Where systemd listens, and half its watchdog period in seconds (None: no watchdog)."""

    address: str | bytes
    ping_interval_s: float | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], pid: int | None = None) -> SdNotifier | None:
        """The notifier systemd asked for, or None when ``NOTIFY_SOCKET`` is unset."""
        raw = environ.get(NOTIFY_SOCKET_VAR, "")
        if not raw:
            return None
        if raw.startswith("@"):
            address: str | bytes = b"\0" + raw[1:].encode()
        elif raw.startswith("/"):
            address = raw
        else:
            raise NotifyConfigError(
                f"{NOTIFY_SOCKET_VAR}={raw!r}: expected an absolute path or @abstract-name"
            )
        return cls(address, _ping_interval_s(environ, os.getpid() if pid is None else pid))

    def send(self, *fields: str) -> None:
        """One datagram of ``KEY=value`` lines; a failure is logged, never raised (a missing
        supervisor must not stop the hedging)."""
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message, self.address)
        except OSError as exc:
            log.warning("sd_notify_failed", fields=list(fields), error=str(exc))

    @asynccontextmanager
    async def running(self, status: Callable[[], str]) -> AsyncIterator[None]:
        """``READY=1`` with ``STATUS=status()`` now, then the watchdog pings and any change of
        status from the event loop until the block exits."""
        current = status()
        self.send("READY=1", f"STATUS={current}")
        task = asyncio.create_task(self._keep_notifying(status, current))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def stopping(self, status: str) -> None:
        """Tell systemd the stop has begun (it then waits ``TimeoutStopSec``)."""
        self.send("STOPPING=1", f"STATUS={status}")

    async def _keep_notifying(self, status: Callable[[], str], last: str) -> None:
        period_s = self.ping_interval_s or STATUS_PERIOD_S
        while True:
            await asyncio.sleep(period_s)
            fields = ["WATCHDOG=1"] if self.ping_interval_s is not None else []
            now = status()
            if now != last:
                fields.append(f"STATUS={now}")
                last = now
            if fields:
                self.send(*fields)


def _ping_interval_s(environ: Mapping[str, str], pid: int) -> float | None:
    """Half of ``WATCHDOG_USEC`` in seconds, as sd_watchdog_enabled(3) advises; None when it
    is unset or ``WATCHDOG_PID`` names another process."""
    raw = environ.get(WATCHDOG_USEC_VAR, "")
    if not raw:
        return None
    watchdog_pid = environ.get(WATCHDOG_PID_VAR, "")
    if watchdog_pid and watchdog_pid != str(pid):
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise NotifyConfigError(f"{WATCHDOG_USEC_VAR}={raw!r}: expected microseconds, > 0")
    return int(raw) / 2_000_000
