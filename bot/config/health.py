"""``[health]``: how long trouble may last before ``/health`` calls a component failing.

Health judges hedge quality as well as liveness (docs/architecture.md §7). A
single cycle outside the band or with every order denied is normal trading (a
hedge in progress, a transient stale input); these counts say when it has
lasted long enough for a supervisor to be paged.
"""

from __future__ import annotations

from pydantic import Field

from bot.config.base import FrozenModel

MAX_CYCLES = 10_000
"""Largest count of consecutive cycles a threshold may ask for."""


class HealthConfig(FrozenModel):
    """Thresholds of the ``band:<U>``, ``risk_gate`` and ``margin:<VENUE>`` components."""

    band_failing_cycles: int = Field(
        default=3,
        ge=1,
        le=MAX_CYCLES,
        description=(
            "Consecutive cycles an underlying may sit outside its band with no order sent or in "
            "flight (every order denied, no usable route) before band:<UNDERLYING> fails; "
            "fewer only degrade it. In 1..10000. Default 3."
        ),
    )
    gate_failing_cycles: int = Field(
        default=2,
        ge=1,
        le=MAX_CYCLES,
        description=(
            "Consecutive cycles in which the risk gate denies every order the plan made (the "
            "hourly cap, say) before risk_gate fails; fewer only degrade it. In 1..10000. "
            "Default 2."
        ),
    )
    margin_near_frac: float = Field(
        default=0.2,
        ge=0,
        le=10,
        description=(
            "margin:<VENUE> degrades when an account's equity / maintenance margin is within "
            "this fraction above its [collateral] band floor (0.2: below 1.2 x floor), and fails "
            "below the floor. A fraction in [0, 10]. Default 0.2."
        ),
    )
