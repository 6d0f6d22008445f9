"""Clocks: the one place the daemon and the simulator learn what time it is.

Everything time-dependent takes a :class:`Clock`, so tests drive time with a
:class:`ManualClock`, the demo runs the simulated world faster than real time
with an :class:`AcceleratedClock`, and production reads the wall clock.
Times are UTC epoch milliseconds (``ts_ms``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in UTC epoch milliseconds."""

    def now_ms(self) -> int: ...


class ManualClock:
    """A clock that moves only when told to, and never backwards."""

    def __init__(self, start_ms: int) -> None:
        self._now_ms = _check_ts("start_ms", start_ms)

    def now_ms(self) -> int:
        return self._now_ms

    def advance(self, ms: int) -> None:
        """Move forward by ``ms`` milliseconds (``ms`` >= 0)."""
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise ValueError(f"advance: ms must be a non-negative int, got {ms!r}")
        self._now_ms += ms

    def set(self, ts_ms: int) -> None:
        """Jump to ``ts_ms``; never backwards, as nothing downstream can undo time."""
        ts = _check_ts("ts_ms", ts_ms)
        if ts < self._now_ms:
            raise ValueError(f"set: ts_ms {ts} is before the current time {self._now_ms}")
        self._now_ms = ts


class AcceleratedClock:
    """Simulated time running ``speed`` times faster than the wall clock from ``start_ms``.

    ``monotonic`` is injectable so tests can drive the elapsed wall time.
    """

    def __init__(
        self, start_ms: int, speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not (isinstance(speed, int | float) and speed > 0 and speed < float("inf")):
            raise ValueError(
                f"AcceleratedClock: speed must be a positive finite number, got {speed!r}"
            )
        self._start_ms = _check_ts("start_ms", start_ms)
        self._speed = float(speed)
        self._monotonic = monotonic
        self._origin_s = monotonic()

    def now_ms(self) -> int:
        elapsed_s = max(0.0, self._monotonic() - self._origin_s)
        return self._start_ms + int(elapsed_s * self._speed * 1000.0)


class SystemClock:
    """The wall clock (UTC epoch milliseconds)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


def _check_ts(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int of epoch milliseconds, got {value!r}")
    return value
