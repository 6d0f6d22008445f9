"""The demo's progress on stderr while it runs, so a person sees it is alive before the report.

One line: simulated time elapsed of the total, cycles, orders sent, and each
routed underlying's total delta. On a terminal the line is redrawn in place
after every cycle; anywhere else (a pipe, a CI log) a plain line is written
each time another tenth of the simulated stretch has passed. Stdout is left
to the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, TextIO

from bot.domain.timeunits import MS_PER_HOUR
from bot.engine.cycle_result import CycleResult

STEPS: Final = 10
"""Plain lines written over the stretch when stderr is no terminal."""


@dataclass(slots=True)
class DemoProgress:
    """Counts the demo's cycles and orders and writes the progress line to ``stream``."""

    start_ms: int
    end_ms: int
    stream: TextIO
    cycles: int = 0
    orders: int = 0
    delta_coin: dict[str, float] = field(default_factory=dict)
    next_step: int = field(default=1, init=False)
    """The tenth of the stretch whose passing writes the next plain line."""
    drawn: bool = field(default=False, init=False)
    """A line was redrawn in place and awaits its newline."""
    unwritten_ms: int | None = field(default=None, init=False)
    """The time of a counted cycle no plain line has shown yet."""

    def on_cycle(self, result: CycleResult) -> None:
        """Count ``result`` and write the line if it is due."""
        self.cycles += 1
        self.orders += len(result.outcomes)
        self.delta_coin.update({b.underlying: b.total_delta_coin for b in result.bands})
        done = (result.started_ms - self.start_ms) / max(1, self.end_ms - self.start_ms)
        if self.stream.isatty():
            self.stream.write("\r" + self.line(result.started_ms) + "\x1b[K")
            self.drawn = True
        elif done * STEPS >= self.next_step:
            self.stream.write(self.line(result.started_ms) + "\n")
            self.next_step = int(done * STEPS) + 1
            self.unwritten_ms = None
        else:
            self.unwritten_ms = result.started_ms
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line, or write the last cycles no plain line showed yet."""
        if self.drawn:
            self.stream.write("\n")
        elif self.unwritten_ms is not None:
            self.stream.write(self.line(self.unwritten_ms) + "\n")
        self.stream.flush()

    def line(self, now_ms: int) -> str:
        """``demo: 3.0/12.0 h simulated (25%), 36 cycles, 5 orders, delta BTC +0.1234 coin``."""
        total_h = (self.end_ms - self.start_ms) / MS_PER_HOUR
        done_h = min(max(0, now_ms - self.start_ms) / MS_PER_HOUR, total_h)
        pct = done_h / total_h if total_h > 0 else 1.0
        deltas = ", ".join(f"{u} {d:+.4f}" for u, d in sorted(self.delta_coin.items()))
        return (
            f"demo: {done_h:.1f}/{total_h:.1f} h simulated ({pct:.0%}), {self.cycles} cycles, "
            f"{self.orders} orders" + (f", delta {deltas} coin" if deltas else "")
        )
