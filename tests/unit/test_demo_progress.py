"""The demo's progress on stderr: simulated time, cycles, orders and delta per underlying."""

from __future__ import annotations

import io
from typing import Any, cast

from bot.app.demo_progress import DemoProgress
from bot.domain.health_rules import BandState, BandView
from bot.domain.ids import Currency
from bot.domain.timeunits import MS_PER_HOUR
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.cycle_result import CycleResult

START_MS = 1_796_112_000_000


def cycle(hours: float, orders: int = 0) -> CycleResult:
    """A cycle at ``hours`` into the stretch with ``orders`` sends and BTC at +0.5 coin."""
    band = BandView(Currency("BTC"), BandState.INSIDE, 0.5, 0.0, 0.0)
    sends = cast(Any, ((None, None),) * orders)  # only counted
    started_ms = START_MS + int(hours * MS_PER_HOUR)
    return CycleResult(started_ms, None, None, None, sends, None, INITIAL_STATE, {}, 0.0, (band,))


def progress(stream: io.StringIO) -> DemoProgress:
    return DemoProgress(START_MS, START_MS + 10 * MS_PER_HOUR, stream)


def test_plain_lines_one_per_tenth_when_not_a_terminal() -> None:
    """Twenty cycles over ten hours write ten plain lines, with time, cycles, orders, delta."""
    out = io.StringIO()
    shown = progress(out)
    for i in range(1, 21):
        shown.on_cycle(cycle(i / 2, orders=1))
    shown.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert lines[-1].startswith(
        "demo: 100%, 10.0/10.0 h simulated, 20 cycles, 20 orders, delta BTC +0.5000 coin, took "
    )


def test_the_last_cycles_get_a_line_at_the_end() -> None:
    """Cycles after the last tenth's line are shown once the demo finishes."""
    out = io.StringIO()
    shown = progress(out)
    shown.on_cycle(cycle(1.0))
    shown.on_cycle(cycle(1.5))
    shown.finish()
    assert out.getvalue().splitlines()[-1].startswith("demo: 15%, 1.5/10.0 h simulated, 2 cycles")


def test_the_time_reached_closes_the_run() -> None:
    """finish with the simulated time reached shows the whole stretch done."""
    out = io.StringIO()
    shown = progress(out)
    shown.on_cycle(cycle(9.5))
    shown.finish(START_MS + 10 * MS_PER_HOUR + 1)
    assert out.getvalue().splitlines()[-1].startswith("demo: 100%, 10.0/10.0 h simulated, 1 cycles")


def test_status_before_any_delta() -> None:
    """Before a cycle has reported a band the status has no delta part."""
    assert progress(io.StringIO()).status(START_MS + 3 * MS_PER_HOUR) == (
        "3.0/10.0 h simulated, 0 cycles, 0 orders"
    )
