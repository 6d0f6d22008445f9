"""A long run's progress on stderr: a live bar on a terminal, plain lines anywhere else.

On a terminal, rich draws one bar with the percentage, the time remaining and
the run's own status (simulated hours, cycles, chunks...), redrawn in place.
Anywhere else (a pipe, a CI log, a file) control characters would be litter,
so a plain line is written each time another tenth of the run is done, and the
last state once more at the end: ``demo: 30%, 3.6/12.0 h simulated, ... ETA
0:00:21``. Nothing is shown until ``after_s`` wall seconds have passed, so a
quick run stays quiet. Stdout is left to the run's report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column

PLAIN_LINES = 10
"""Plain lines written over a whole run when the stream is no terminal."""


def clock_text(seconds: float) -> str:
    """``H:MM:SS``, as rich's bar shows its times."""
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class RunProgress:
    """The progress of one run of ``total`` units (simulated ms, chunks...) on ``stream``."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        total: float,
        *,
        after_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._total = total
        self._after_s = after_s
        self._clock = clock
        self._start = clock()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._next_line = 1
        """The tenth of the run whose completion writes the next plain line."""
        self._unwritten: tuple[float, str] | None = None
        """The newest state no plain line has shown yet."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def update(self, done: float, status: str) -> None:
        """``done`` of the total units are done; ``status`` says what that is in the run's
        terms (``3.0/12.0 h simulated, 36 cycles``)."""
        if self._clock() - self._start < self._after_s and done < self._total:
            self._unwritten = (done, status)
            return
        if self._stream.isatty():
            self._draw(done, status)
            return
        fraction = done / self._total if self._total > 0 else 1.0
        if self._next_line > PLAIN_LINES:  # the 100 % line is out: nothing more to say
            self._unwritten = None
            return
        if fraction * PLAIN_LINES >= self._next_line:
            self._write_line(done, status)
            self._next_line = int(fraction * PLAIN_LINES) + 1
        else:
            self._unwritten = (done, status)

    def note(self, text: str) -> None:
        """Write a line of its own (above the bar while one is drawn)."""
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            self._stream.write(text + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Leave the finished bar in place, or write the state no plain line showed yet."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self._unwritten is not None and self._clock() - self._start >= self._after_s:
            self._write_line(*self._unwritten)
        self._unwritten = None

    def _draw(self, done: float, status: str) -> None:
        if self._bar is None:
            # The status comes last and folds onto the next line when the terminal is narrow,
            # so the bar and the time remaining always show.
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TaskProgressColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}", table_column=Column(overflow="fold")),
                console=Console(file=self._stream),
            )
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=self._total, status=status)
        assert self._task is not None
        self._bar.update(self._task, completed=done, status=status)

    def _write_line(self, done: float, status: str) -> None:
        elapsed = self._clock() - self._start
        fraction = min(1.0, done / self._total) if self._total > 0 else 1.0
        if fraction >= 1.0:
            timing = f"took {clock_text(elapsed)}"
        elif fraction > 0:
            timing = f"ETA {clock_text(elapsed * (1 - fraction) / fraction)}"
        else:
            timing = "ETA unknown"
        self._stream.write(f"{self._label}: {fraction:.0%}, {status}, {timing}\n")
        self._stream.flush()
        self._unwritten = None
