"""How old a cycle's market inputs are, by the venues' own clocks (docs/architecture.md §3).

A stuck feed answers promptly with old data, so the age of an input is
measured from the time the venue stamped on it (a mark's, ticker's or
index's timestamp), never from when our read returned.

Those stamps are on the venue's clock. Each read therefore also asks the venue
for its time, bracketed by two readings of ours: the skew is the venue's time
minus the midpoint of ours, known to within half the round trip. A venue stamp
is moved onto our clock by subtracting the skew, and its age is our ``now``
minus that. Correcting by the measured skew, rather than measuring age against
the venue's newest stamp, is what catches a feed frozen as a whole: its newest
stamp is then as old as its oldest, and every age would read 0.

Worked example: our clock reads 1,000,000 ms when the time request leaves and
1,000,200 ms when the answer arrives, which says 1,030,100 ms. The skew is
1,030,100 - 1,000,100 = +30,000 ms (the venue ahead), within ±100 ms. A mark
the venue stamped 1,025,100 is 995,100 on our clock: at our 1,000,200 it is
5.1 s old. Compared with our clock unconverted it would look 24.9 s younger
than now, and would pass as fresh for 24.9 s after the feed froze.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.ids import VenueId


@dataclass(frozen=True, slots=True)
class VenueClock:
    """One reading of a venue's clock (``venue_ms``) between two of ours.

    ``sent_ms`` is our clock before the request left, ``received_ms`` after
    its answer arrived; the venue read its clock somewhere in between.
    """

    venue_ms: int
    sent_ms: int
    received_ms: int

    def __post_init__(self) -> None:
        if self.received_ms < self.sent_ms:
            raise ValueError(
                f"venue clock: received_ms {self.received_ms} is before sent_ms {self.sent_ms}"
            )

    @property
    def skew_ms(self) -> int:
        """Venue minus ours at the midpoint of the round trip (positive: the venue is ahead)."""
        return self.venue_ms - (self.sent_ms + self.received_ms) // 2

    @property
    def uncertainty_ms(self) -> int:
        """Half the round trip, rounded up: the true skew is within ``skew_ms`` ± this."""
        return (self.received_ms - self.sent_ms + 1) // 2


def skew_problem(venue: VenueId, clock: VenueClock, max_skew_ms: int) -> str | None:
    """Why ``venue``'s clock is too far from ours, or None.

    Only a skew beyond the limit by more than the measurement's uncertainty
    counts: a slow answer is not a skewed clock.
    """
    skew_ms = clock.skew_ms
    if abs(skew_ms) - clock.uncertainty_ms <= max_skew_ms:
        return None
    side = "ahead of" if skew_ms > 0 else "behind"
    return (
        f"clock skew: {venue} is {abs(skew_ms) / 1000:g} s {side} ours "
        f"(±{clock.uncertainty_ms / 1000:g} s, max {max_skew_ms / 1000:g} s)"
    )


@dataclass(frozen=True, slots=True)
class InputStamp:
    """When one market input was true: the venue's stamp and the same instant on our clock.

    ``name`` says which input (``"mark BTC/USD:BTC"``, ``"index BTC"``,
    ``"positions"``); ``ts_ms`` is ``venue_ts_ms`` minus the venue's measured skew.
    """

    venue: VenueId
    name: str
    venue_ts_ms: int
    ts_ms: int

    @property
    def label(self) -> str:
        return f"{self.name} on {self.venue}"

    def age_ms(self, now_ms: int) -> int:
        return now_ms - self.ts_ms


def oldest(stamps: Iterable[InputStamp]) -> InputStamp:
    """The input with the earliest time on our clock (ValueError if there is none)."""
    return min(stamps, key=lambda s: s.ts_ms)


def stale_problem(stamp: InputStamp, now_ms: int, max_age_ms: int) -> str | None:
    """Why ``stamp`` is too old at ``now_ms``, or None; at exactly the limit it is fresh."""
    age_ms = stamp.age_ms(now_ms)
    if age_ms <= max_age_ms:
        return None
    return (
        f"{stamp.label} is {age_ms / 1000:g} s old "
        f"(venue stamp {stamp.venue_ts_ms}, max {max_age_ms / 1000:g} s)"
    )
