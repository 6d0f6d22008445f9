"""Clocks: manual time never runs backwards; accelerated time scales the wall clock."""

import pytest

from bot.clock import AcceleratedClock, ManualClock, SystemClock


def test_manual_clock_advances_and_sets_forward() -> None:
    """ManualClock moves only by advance/set, and set to the same time is allowed."""
    clk = ManualClock(1_000)
    clk.advance(250)
    assert clk.now_ms() == 1_250
    clk.set(5_000)
    clk.set(5_000)
    assert clk.now_ms() == 5_000


def test_manual_clock_refuses_to_go_back() -> None:
    """set() to an earlier time and a negative advance() raise ValueError naming the problem."""
    clk = ManualClock(10_000)
    with pytest.raises(ValueError, match="before the current time"):
        clk.set(9_999)
    with pytest.raises(ValueError, match="non-negative"):
        clk.advance(-1)
    assert clk.now_ms() == 10_000


def test_manual_clock_rejects_bad_start() -> None:
    """A negative or non-int start is refused."""
    with pytest.raises(ValueError, match="start_ms"):
        ManualClock(-5)
    with pytest.raises(ValueError, match="start_ms"):
        ManualClock(1.5)  # type: ignore[arg-type]


def test_accelerated_clock_scales_elapsed_wall_time() -> None:
    """Sim time = start + elapsed monotonic seconds x speed x 1000."""
    wall = [100.0]
    clk = AcceleratedClock(1_000_000, speed=60.0, monotonic=lambda: wall[0])
    assert clk.now_ms() == 1_000_000
    wall[0] = 102.5
    assert clk.now_ms() == 1_000_000 + 150_000


def test_accelerated_clock_rejects_non_positive_speed() -> None:
    """Speed must be a positive finite number."""
    with pytest.raises(ValueError, match="speed"):
        AcceleratedClock(0, speed=0.0)
    with pytest.raises(ValueError, match="speed"):
        AcceleratedClock(0, speed=float("inf"))


def test_system_clock_reads_epoch_milliseconds() -> None:
    """SystemClock returns an int of epoch milliseconds (after 2020-01-01, before 2100)."""
    now = SystemClock().now_ms()
    assert isinstance(now, int)
    assert 1_577_836_800_000 < now < 4_102_444_800_000
