"""When a streamed event should start a hedge cycle now instead of at the next timer tick.

Pure: the event layer (:mod:`bot.engine.stream_job`) hands in the last cycle's
decision for an underlying and the index the stream just saw; this module says
whether that move may have pushed the book out of its band. The cycle that
follows re-reads every venue over REST and decides for itself: a trigger that
fires needlessly costs one cycle, never a trade the strategy would not make.

The delta after a move is first order in the move: the book's delta changes by
its gamma per 1 % times the move in percent. Worked example (Hull, *Options,
Futures and Other Derivatives*, 10th ed., §19.6: delta changes by gamma x dS):
a book at total delta +0.05 BTC, gamma 0.8 BTC per 1 %, band [-0.5, +0.5] BTC,
index 60 000 -> 60 450 USD (+0.75 %): projected delta 0.05 + 0.8 x 0.75 =
0.65 BTC, beyond the band's half-width 0.5 around its centre 0: a cycle now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TriggerRules:
    """``[stream]``'s thresholds: index move fraction, band fraction, spacing (ms)."""

    index_move_frac: float
    band_frac: float
    min_spacing_ms: int


@dataclass(frozen=True, slots=True)
class BandAnchor:
    """One underlying as the last cycle left it: its index, the total delta after the hedge
    it decided, its gamma and its no-trade band (None: the strategy has no band)."""

    index_usd: float
    total_delta_coin: float
    gamma_coin_per_pct: float
    band_lower_coin: float | None
    band_upper_coin: float | None


def move_trigger(anchor: BandAnchor, index_usd: float, rules: TriggerRules) -> str | None:
    """Why the move from the anchor's index to ``index_usd`` calls for a cycle now, or None.

    Either the index moved by at least ``index_move_frac``, or the delta projected
    by gamma left ``band_frac`` of the band around its centre.
    """
    if not (anchor.index_usd > 0 and math.isfinite(index_usd) and index_usd > 0):
        return None
    move_frac = index_usd / anchor.index_usd - 1.0
    if abs(move_frac) >= rules.index_move_frac:
        return f"index moved {move_frac:+.3%}"
    lower, upper = anchor.band_lower_coin, anchor.band_upper_coin
    if lower is None or upper is None or not (math.isfinite(lower) and math.isfinite(upper)):
        return None
    projected = anchor.total_delta_coin + anchor.gamma_coin_per_pct * move_frac * 100.0
    centre, half = (lower + upper) / 2.0, (upper - lower) / 2.0
    if abs(projected - centre) > rules.band_frac * half:
        return f"delta {projected:+.4f} coin projected outside the band"
    return None


def next_start_ms(last_start_ms: int | None, now_ms: int, rules: TriggerRules) -> int:
    """When a triggered cycle may start: now, or ``min_spacing_ms`` after the last one."""
    if last_start_ms is None:
        return now_ms
    return max(now_ms, last_start_ms + rules.min_spacing_ms)
