"""``[stream]``: event-driven hedging over the venues' websockets, with REST as the truth.

A stream only *triggers* cycles: an index move or a fill that may have pushed
an underlying out of its band starts a cycle at once instead of at the next
timer tick. The cycle itself still reads every venue over REST, so nothing a
stream says is traded on without REST confirming it (docs/architecture.md §9).
Streaming needs the venue's websocket dialect: Deribit only for now; every
other exchange stays REST only (``check-config`` says so).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.config.base import Array, FrozenModel
from bot.domain.ids import VenueId

STREAMED_EXCHANGES = frozenset({"deribit"})
"""Exchanges whose websocket events the daemon understands (ticker, index, user.changes)."""


class StreamConfig(FrozenModel):
    """Which venues stream, what triggers a cycle, and when a silent stream is stale."""

    enabled: bool = Field(
        default=True,
        description=(
            "Stream index moves and account changes from every venue that supports it "
            "(deribit) and hedge on them; false: REST polling only. Default true."
        ),
    )
    rest_only: Array[VenueId] = Field(
        default=(),
        description=("Venue names kept on REST polling although they could stream. Default none."),
    )
    index_move_frac: float = Field(
        default=0.002,
        gt=0,
        le=1,
        description=(
            "An index move of at least this fraction since the last cycle's index triggers a "
            "cycle at once (0.002: 0.2 %). A fraction in (0, 1]. Default 0.002."
        ),
    )
    band_frac: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description=(
            "An index move triggers a cycle when the book's delta, moved by its gamma, leaves "
            "this fraction of the last cycle's no-trade band around its centre (1: the band "
            "itself; 0.5: half of it). A fraction in (0, 10]. Default 1."
        ),
    )
    min_spacing_s: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description=(
            "Seconds of the daemon's clock between the starts of two triggered cycles (one is "
            "never started while another runs); the timer's cycles do not count. In [0, 3600]. "
            "Default 1."
        ),
    )
    stale_after_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "Wall seconds without an index tick or account change after which a stream counts "
            "as stale input: health degrades and the timer alone hedges. The daemon asks "
            "Deribit for a connection heartbeat every third of it (at least 10 s). In "
            "(0, 3600]. Default 30."
        ),
    )
    reconnect_min_s: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description=(
            "First wait, in wall seconds, before reconnecting a dropped stream; it doubles at "
            "each failure up to reconnect_max_s. In (0, 60]. Default 0.5."
        ),
    )
    reconnect_max_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Longest wait between reconnections, wall seconds. In (0, 3600]. Default 30.",
    )

    @model_validator(mode="after")
    def _check_backoff(self) -> StreamConfig:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError(
                f"reconnect_min_s ({self.reconnect_min_s:g}) exceeds reconnect_max_s "
                f"({self.reconnect_max_s:g})"
            )
        return self

    def streams(self, venue: VenueId, exchange: str) -> bool:
        """Whether ``venue`` (on ``exchange``) streams under this section."""
        return self.enabled and exchange in STREAMED_EXCHANGES and venue not in self.rest_only
