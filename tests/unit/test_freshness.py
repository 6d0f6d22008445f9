"""Input ages by the venues' own timestamps, and clock skew, with worked numbers."""

from __future__ import annotations

import dataclasses

import pytest

from bot.domain.freshness import InputStamp, VenueClock, oldest, skew_problem, stale_problem
from bot.domain.ids import Currency, Symbol, VenueId
from tests.books import BTC, NOW_MS, PERP, VENUE, small_btc_book

A = VenueId("deribit-a")


def test_skew_is_the_venue_time_minus_the_midpoint_of_our_round_trip() -> None:
    """Sent at 1,000,000, answered at 1,000,200, the venue saying 1,030,100: +30,000 ms ±100."""
    clock = VenueClock(venue_ms=1_030_100, sent_ms=1_000_000, received_ms=1_000_200)
    assert (clock.skew_ms, clock.uncertainty_ms) == (30_000, 100)


def test_an_odd_round_trip_rounds_the_uncertainty_up() -> None:
    """A 1 ms round trip is ±1 ms, so the venue reading at either end stays within it."""
    assert VenueClock(1_001, 1_000, 1_001).uncertainty_ms == 1
    assert abs(VenueClock(1_001, 1_000, 1_001).skew_ms) <= 1


def test_an_answer_before_its_request_is_refused() -> None:
    """received_ms before sent_ms is a broken clock reading, not a negative round trip."""
    with pytest.raises(ValueError, match="before sent_ms"):
        VenueClock(1_000, 1_000, 999)


def test_skew_alarms_only_beyond_the_limit_plus_the_uncertainty() -> None:
    """Limit 5 s, ±200 ms: a 5,150 ms skew may be 4,950 (no alarm); 5,250 is at least 5,050."""
    assert skew_problem(A, VenueClock(1_005_250, 999_900, 1_000_300), 5_000) is None
    problem = skew_problem(A, VenueClock(1_005_350, 999_900, 1_000_300), 5_000)
    assert problem == "clock skew: deribit-a is 5.25 s ahead of ours (±0.2 s, max 5 s)"


def test_a_venue_behind_us_is_named_so() -> None:
    """A venue 30 s behind our clock is reported as behind, with the size of the skew."""
    problem = skew_problem(A, VenueClock(970_000, 1_000_000, 1_000_000), 5_000)
    assert problem == "clock skew: deribit-a is 30 s behind ours (±0 s, max 5 s)"


def test_input_age_is_on_our_clock_after_the_skew_correction() -> None:
    """The module's example: a mark the venue stamped 1,025,100 with the venue 30,000 ms
    ahead is 995,100 on our clock, 5.1 s old at our 1,000,200."""
    clock = VenueClock(venue_ms=1_030_100, sent_ms=1_000_000, received_ms=1_000_200)
    stamp = InputStamp(A, "mark BTC/USD:BTC", 1_025_100, 1_025_100 - clock.skew_ms)
    assert stamp.ts_ms == 995_100 and stamp.age_ms(1_000_200) == 5_100


def test_stale_beyond_the_limit_and_fresh_at_it() -> None:
    """max 10 s: 10,000 ms old is fresh, 10,001 ms is stale and the problem names the input."""
    stamp = InputStamp(A, "index BTC", 1_040_000, 1_000_000)
    assert stale_problem(stamp, 1_010_000, 10_000) is None
    assert stale_problem(stamp, 1_010_001, 10_000) == (
        "index BTC on deribit-a is 10.001 s old (venue stamp 1040000, max 10 s)"
    )


def test_oldest_is_the_earliest_on_our_clock_not_by_venue_stamp() -> None:
    """Two venues with different skews: the oldest input is compared on our clock."""
    ahead = InputStamp(A, "mark X", 2_000_000, 1_000_000)
    behind = InputStamp(VenueId("okx-a"), "mark Y", 1_500_000, 1_000_500)
    assert oldest([behind, ahead]) is ahead


def test_snapshot_stamps_positions_marks_and_indexes_with_its_skew() -> None:
    """Venue 30 s ahead: positions count as of the read start (our clock), the perp's mark
    stamped NOW+25 s is NOW-5 s on ours, and an index without a venue time counts as read."""
    [snap] = small_btc_book().venues
    skewed = dataclasses.replace(
        snap,
        ts_ms=NOW_MS,
        marks={**snap.marks, PERP: dataclasses.replace(snap.marks[PERP], ts_ms=NOW_MS + 25_000)},
        clock=VenueClock(NOW_MS + 30_000, NOW_MS, NOW_MS),
    )
    stamps = {s.name: s for s in skewed.input_stamps([PERP, Symbol("gone")], [BTC])}
    assert set(stamps) == {"positions", "mark BTC/USD:BTC", "index BTC"}
    assert stamps["positions"] == InputStamp(VENUE, "positions", NOW_MS + 30_000, NOW_MS)
    assert stamps["mark BTC/USD:BTC"].ts_ms == NOW_MS - 5_000
    assert stamps["index BTC"].ts_ms == NOW_MS
    timed = dataclasses.replace(skewed, index_ts_ms={BTC: NOW_MS + 10_000})
    [index] = [s for s in timed.input_stamps([], [BTC]) if s.name == "index BTC"]
    assert (index.venue_ts_ms, index.ts_ms) == (NOW_MS + 10_000, NOW_MS - 20_000)


def test_an_index_time_needs_an_index_price() -> None:
    """An index time for a currency without an index price is refused at construction."""
    [snap] = small_btc_book().venues
    with pytest.raises(ValueError, match="index times without an index price"):
        dataclasses.replace(snap, index_ts_ms={Currency("ETH"): NOW_MS})
