"""The demo's progress on stderr while it runs, so a person sees it is alive before the report.

Simulated time elapsed of the total, cycles, orders sent and each routed
underlying's total delta, shown by :class:`bot.ops.progress.RunProgress`: a bar
with the time remaining on a terminal, a plain line per tenth of the simulated
stretch anywhere else. Stdout is left to the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from bot.domain.timeunits import MS_PER_HOUR
from bot.engine.cycle_result import CycleResult
from bot.ops.progress import RunProgress


@dataclass(slots=True)
class DemoProgress:
    """Counts the demo's cycles and orders and shows them on ``stream``."""

    start_ms: int
    end_ms: int
    stream: TextIO
    cycles: int = 0
    orders: int = 0
    delta_coin: dict[str, float] = field(default_factory=dict)
    display: RunProgress = field(init=False)

    def __post_init__(self) -> None:
        self.display = RunProgress(self.stream, "demo", self.end_ms - self.start_ms)

    def on_cycle(self, result: CycleResult) -> None:
        """Count ``result`` and show the progress."""
        self.cycles += 1
        self.orders += len(result.outcomes)
        self.delta_coin.update({b.underlying: b.total_delta_coin for b in result.bands})
        done_ms = min(max(0, result.started_ms - self.start_ms), self.end_ms - self.start_ms)
        self.display.update(done_ms, self.status(result.started_ms))

    def note(self, text: str) -> None:
        """A line of its own beside the progress (the dashboard's address)."""
        self.display.note(text)

    def finish(self, now_ms: int | None = None) -> None:
        """End the bar, or write the last cycles no plain line showed yet; with ``now_ms``, the
        simulated time the demo reached, show that first."""
        if now_ms is not None:
            done_ms = min(max(0, now_ms - self.start_ms), self.end_ms - self.start_ms)
            self.display.update(done_ms, self.status(now_ms))
        self.display.close()

    def status(self, now_ms: int) -> str:
        """``3.0/12.0 h simulated, 36 cycles, 5 orders, delta BTC +0.1234 coin``."""
        total_h = (self.end_ms - self.start_ms) / MS_PER_HOUR
        done_h = min(max(0, now_ms - self.start_ms) / MS_PER_HOUR, total_h)
        deltas = ", ".join(f"{u} {d:+.4f}" for u, d in sorted(self.delta_coin.items()))
        return f"{done_h:.1f}/{total_h:.1f} h simulated, {self.cycles} cycles, " + (
            f"{self.orders} orders" + (f", delta {deltas} coin" if deltas else "")
        )
