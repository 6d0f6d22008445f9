"""Clock skew and input ages: what holds for any clocks and any round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.freshness import InputStamp, VenueClock, skew_problem, stale_problem
from bot.domain.ids import VenueId

A = VenueId("deribit-a")
EPOCH = st.integers(1_600_000_000_000, 2_000_000_000_000)
RTT = st.integers(0, 60_000)
OFFSET = st.integers(-3_600_000, 3_600_000)


@st.composite
def reading(draw: st.DrawFn) -> tuple[int, int, int]:
    """(sent, venue read on our clock, received): the venue reads somewhere in between."""
    sent = draw(EPOCH)
    received = sent + draw(RTT)
    return sent, draw(st.integers(sent, received)), received


@given(reading(), OFFSET)
def test_the_measured_skew_is_within_its_uncertainty_of_the_true_one(
    r: tuple[int, int, int], offset_ms: int
) -> None:
    """Whatever the round trip and the true offset, |measured - true| <= uncertainty."""
    sent, at, received = r
    clock = VenueClock(at + offset_ms, sent, received)
    assert abs(clock.skew_ms - offset_ms) <= clock.uncertainty_ms


@given(reading(), st.integers(0, 10_000))
def test_one_shared_clock_is_never_alarmed(r: tuple[int, int, int], max_skew_ms: int) -> None:
    """The emulator on the daemon's own clock (the demo) never raises a skew alarm, however
    slow the answer."""
    sent, at, received = r
    assert skew_problem(A, VenueClock(at, sent, received), max_skew_ms) is None


@given(EPOCH, OFFSET, st.integers(0, 120_000), st.integers(0, 120_000))
def test_the_corrected_age_does_not_depend_on_the_skew(
    true_ms: int, offset_ms: int, age_ms: int, max_age_ms: int
) -> None:
    """A mark made at our true_ms, stamped on a clock offset_ms off ours (read at an instant),
    is age_ms old at our true_ms + age_ms, and stale exactly when age_ms > max_age_ms."""
    now_ms = true_ms + age_ms
    clock = VenueClock(now_ms + offset_ms, now_ms, now_ms)
    venue_ts = true_ms + offset_ms
    stamp = InputStamp(A, "mark X", venue_ts, venue_ts - clock.skew_ms)
    assert stamp.age_ms(now_ms) == age_ms
    assert (stale_problem(stamp, now_ms, max_age_ms) is not None) == (age_ms > max_age_ms)
