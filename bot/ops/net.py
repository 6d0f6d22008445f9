"""Which hosts a local-only HTTP server may bind to, and what to say when its port is taken.

The status server (and the Deribit emulator) expose unauthenticated
endpoints: binding them to a network interface must be a deliberate choice,
so both refuse a non-loopback host unless told otherwise.
"""

from __future__ import annotations

import errno
import ipaddress


class PortInUseError(OSError):
    """The port to listen on is taken; the message names it and the setting to change."""


def listen_error(exc: OSError, host: str, port: int, setting: str) -> OSError:
    """``exc`` from binding ``host:port``, as a :class:`PortInUseError` naming ``setting`` (the
    config key or option that chose the port) when the port is taken; otherwise unchanged."""
    if exc.errno != errno.EADDRINUSE:
        return exc
    return PortInUseError(
        f"port {port} on {host} is in use: set {setting} to a free port, or 0 for any"
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(what: str, host: str, port: int, *, allow_non_loopback: bool) -> None:
    """Raise ValueError unless ``host:port`` is a bind address ``what`` may use.

    A non-loopback ``host`` needs ``allow_non_loopback``; ``port`` must be in
    0..65535 (0 picks a free port).
    """
    if not (allow_non_loopback or is_loopback(host)):
        raise ValueError(
            f"refusing to bind the {what} to non-loopback host {host!r}; "
            "pass allow_non_loopback=True to really expose it"
        )
    if isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"port must be in 0..65535, got {port!r}")
