"""The alert throttle: nothing lost, the first at once, at most one message per key and window."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.alerts import Alert, AlertEvent, AlertKind, Severity, Throttle

WINDOW_MS = 60_000


def event(key: str, ts_ms: int, *, resolved: bool = False) -> AlertEvent:
    return AlertEvent(
        AlertKind.RATE_LIMITED, Severity.WARNING, key, f"{key} slow", ts_ms, resolved=resolved
    )


@dataclass
class Run:
    """Every alert sent, with the time it went out."""

    sent: list[tuple[int, Alert]]
    throttle: Throttle


# Steps: (gap to the previous step in ms, key index, whether to call due() instead of offer()).
steps = st.lists(
    st.tuples(st.integers(0, 3 * WINDOW_MS), st.integers(0, 2), st.booleans()), max_size=60
)


def run(plan: list[tuple[int, int, bool]]) -> tuple[Run, int]:
    """Drive a throttle through ``plan``; returns the run and how many events were offered."""
    throttle = Throttle(WINDOW_MS)
    now, offered, sent = 0, 0, []
    for gap, key, flush in plan:
        now += gap
        if flush:
            throttle, out = throttle.due(now)
        else:
            throttle, out = throttle.offer(event(f"k{key}", now))
            offered += 1
        sent += [(now, a) for a in out]
    return Run(sent, throttle), offered


@given(steps)
def test_every_occurrence_is_sent_or_still_counted(plan: list[tuple[int, int, bool]]) -> None:
    """Counts of the sent alerts plus the repeats still pending add up to the events offered."""
    result, offered = run(plan)
    pending = sum(k.repeats for k in result.throttle.keys.values())
    assert sum(a.count for _, a in result.sent) + pending == offered


@given(steps)
def test_one_message_per_key_and_window(plan: list[tuple[int, int, bool]]) -> None:
    """Two messages of one key go out at least a window apart: a storm is one message."""
    result, _ = run(plan)
    for key in ("k0", "k1", "k2"):
        times = [t for t, a in result.sent if a.event.key == key]
        assert all(b - a >= WINDOW_MS for a, b in pairwise(times))


@given(st.lists(st.integers(0, 2 * WINDOW_MS), min_size=1, max_size=40))
def test_the_first_occurrence_goes_out_at_once(gaps: list[int]) -> None:
    """A key never seen (or quiet for a window) is sent the moment it is offered, alone."""
    throttle, now = Throttle(WINDOW_MS), 0
    last_sent: int | None = None
    for gap in gaps:
        now += gap
        quiet = last_sent is None or now - last_sent >= WINDOW_MS
        throttle, out = throttle.offer(event("k", now))
        assert bool(out) == quiet
        if out:
            last_sent = now


@given(st.integers(1, 50), st.integers(0, WINDOW_MS - 1))
def test_a_storm_is_one_message_with_its_count(repeats: int, spread_ms: int) -> None:
    """One alert, then ``repeats`` more inside the window: at its end one message says ×N."""
    throttle, first = Throttle(WINDOW_MS).offer(event("k", 0))
    for i in range(repeats):
        throttle, out = throttle.offer(event("k", spread_ms * (i + 1) // repeats))
        assert out == ()
    throttle, [burst] = throttle.due(WINDOW_MS)
    assert [a.count for a in first] == [1] and burst.count == repeats
    suffix = "" if repeats == 1 else f" (×{repeats} in the last 1 min)"
    assert burst.text.endswith(f"k slow{suffix}")


@given(st.integers(0, 5), st.integers(1, 3))
def test_a_resolution_is_said_once(repeats: int, resolutions: int) -> None:
    """A resolved condition goes out once (after any pending burst); later ones say nothing,
    and one for a key never alerted says nothing either."""
    throttle, _ = Throttle(WINDOW_MS).offer(event("k", 0))
    for i in range(repeats):
        throttle, _ = throttle.offer(event("k", i + 1))
    said = []
    for i in range(resolutions):
        throttle, out = throttle.offer(event("k", 100 + i, resolved=True))
        said += out
    assert [a.event.resolved for a in said] == [False] * (repeats > 0) + [True]
    assert throttle.offer(event("other", 200, resolved=True))[1] == ()
