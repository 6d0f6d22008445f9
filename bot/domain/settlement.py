"""How much of an option about to expire the hedger still counts.

In its last minutes an at-the-money option's delta swings between 0 and 1 with
every tick, and at expiry it becomes cash or nothing: chasing that delta with
perps only pays spreads. Deribit settles at 08:00 UTC on a 30-minute average
of the index, so an expiring option's delta is, in effect, being fixed over
that window. The policy says what the hedged Greeks count of an option inside
its last ``window_ms``:

- ``hedge``: all of it, up to expiry (the option leaves the exposure at expiry);
- ``fade``: a share falling linearly from 1 at the window's start to 0 at expiry;
- ``exclude``: none of it.

Worked example: window 30 minutes, an option expiring in 12 minutes counts
12 / 30 = 0.4 of its Greeks under ``fade``, 0 under ``exclude``, 1 under
``hedge``; one expiring in 2 hours counts fully under every policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from bot.domain.position_table import KindCode, PositionTable
from bot.domain.timeunits import MS_PER_MINUTE
from bot.pricing.arrays import FloatArray


class SettlementMode(StrEnum):
    HEDGE = "hedge"
    FADE = "fade"
    EXCLUDE = "exclude"


@dataclass(frozen=True, slots=True)
class SettlementPolicy:
    """What the hedger counts of an option in the last ``window_ms`` before its expiry."""

    mode: SettlementMode = SettlementMode.FADE
    window_ms: int = 30 * MS_PER_MINUTE

    def __post_init__(self) -> None:
        if self.window_ms < 0:
            raise ValueError(f"settlement window_ms must be >= 0, got {self.window_ms}")


def counted_fraction(table: PositionTable, now_ms: int, policy: SettlementPolicy) -> FloatArray:
    """Per position, the share counted in the hedged Greeks (1 for all but options in their
    settlement window; see the module docstring)."""
    share = np.ones(len(table))
    if policy.mode is SettlementMode.HEDGE or policy.window_ms == 0:
        return share
    left_ms = table.expiry_ms - now_ms
    closing = (table.kind == KindCode.OPTION) & (left_ms < policy.window_ms)
    if policy.mode is SettlementMode.EXCLUDE:
        return np.where(closing, 0.0, share)
    return np.where(closing, np.clip(left_ms / policy.window_ms, 0.0, 1.0), share)
