"""The price × vol stress grid over the whole book: P&L, equity, margin and who liquidates first.

Every underlying moves by the same fraction (the desk's "what if crypto falls
30 %"); per-underlying moves are the custom scenarios' job. The vol axis is a
relative shift (σ·(1 + x): 1.0 doubles every vol) or an absolute one (σ + x,
0.10 = +10 vol points). P&L is mark-to-market: the change of the book's USD
value, coin collateral included, with no liquidation applied.

"First to liquidate" follows the path from the unmoved market to the cell at
the cell's vol: along that price path each venue breaches (equity < MM) at
its first crossing, interpolated linearly between grid moves, and a breach is
final even if a larger move would restore the venue. The venue with the
smallest crossing is first; ties go to the venue listed first.

Worked example: a venue short 30,000 USD of inverse perp at F0 = 60,000, no
collateral. At +50 % (F1 = 90,000) the position makes size·(1/F0 − 1/F1) =
−30,000·(1/60,000 − 1/90,000) = −0.166667 BTC, worth −15,000 USD at F1; at
−50 % it makes +0.5 BTC, +15,000 USD at 30,000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.position_table import PositionTable
from bot.domain.stress.kernel import MarginSetup, StressInputs, evaluate, prepare
from bot.pricing.arrays import FloatArray, IntArray

NO_VENUE = -1
"""``first_liquidated`` of a cell where no venue has breached."""


@dataclass(frozen=True, slots=True)
class StressGrid:
    """Figures per price move (rows, ascending) × vol shift (columns) and venue; USD.

    ``pnl_usd`` (p × q) is the total, ``venue_pnl_usd``/``equity_usd``/
    ``maintenance_usd`` are p × q × venues; ``first_liquidated`` (p × q) holds a
    venue index or :data:`NO_VENUE`; ``equity0_usd`` is each venue's equity now.
    """

    venues: tuple[str, ...]
    price_moves_frac: FloatArray
    vol_shifts: FloatArray
    vol_relative: bool
    pnl_usd: FloatArray
    venue_pnl_usd: FloatArray
    equity_usd: FloatArray
    maintenance_usd: FloatArray
    first_liquidated: IntArray
    equity0_usd: FloatArray

    @property
    def worst_loss_usd(self) -> float:
        """Largest loss over the cells, >= 0 (0 when no cell loses)."""
        return max(0.0, -float(self.pnl_usd.min()))

    @property
    def worst_cell(self) -> tuple[int, int]:
        """(price row, vol column) of the lowest total P&L."""
        i, j = np.unravel_index(int(np.argmin(self.pnl_usd)), self.pnl_usd.shape)
        return int(i), int(j)

    @property
    def breached(self) -> NDArray[np.bool_]:
        """Equity below maintenance at the cell's state, per venue (no path: see module doc)."""
        out: NDArray[np.bool_] = self.equity_usd < self.maintenance_usd
        return out

    def first_venue(self, i: int, j: int) -> str | None:
        """Name of the first venue to liquidate on the way to cell (i, j), or None."""
        code = int(self.first_liquidated[i, j])
        return None if code == NO_VENUE else self.venues[code]


def stress_grid(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    equity_coin: ArrayLike | Mapping[str, Mapping[str, float]],
    equity_usd: ArrayLike | Mapping[str, float] = 0.0,
    price_moves_frac: ArrayLike,
    vol_shifts: ArrayLike = (0.0,),
    vol_relative: bool = True,
    margin: MarginSetup | None = None,
    vol: ArrayLike | None = None,
    vol_floor_frac: float = 0.01,
) -> StressGrid:
    """The grid of the module docstring; inputs as :func:`~bot.domain.stress.kernel.prepare`.

    ``price_moves_frac``: moves of every forward and index (−0.5 = −50 %, > −1);
    ``vol_shifts``: relative (``vol_relative``) or absolute vol shifts, fractions.
    """
    book = prepare(
        table,
        forward_usd=forward_usd,
        valuation_ts_ms=valuation_ts_ms,
        equity_coin=equity_coin,
        equity_usd=equity_usd,
        margin=margin,
        vol=vol,
        vol_floor_frac=vol_floor_frac,
    )
    return grid_of(book, price_moves_frac, vol_shifts, vol_relative=vol_relative)


def grid_of(
    book: StressInputs, price_moves_frac: ArrayLike, vol_shifts: ArrayLike, *, vol_relative: bool
) -> StressGrid:
    """:func:`stress_grid` on a prepared book (the daemon reuses one book for several passes)."""
    moves = np.unique(np.asarray(price_moves_frac, dtype=np.float64).ravel())
    shifts = np.asarray(vol_shifts, dtype=np.float64).ravel()
    if moves.size == 0 or shifts.size == 0:
        raise ValueError("the grid needs at least one price move and one vol shift")
    if not (np.isfinite(moves).all() and (moves > -1).all()):
        raise ValueError(f"price moves must be finite and > -1, got {moves}")
    if not np.isfinite(shifts).all() or (vol_relative and (shifts <= -1).any()):
        raise ValueError(f"vol shifts must be finite (and > -1 if relative), got {shifts}")
    # Evaluate the unmoved price too: every venue's path starts there.
    axis = np.union1d(moves, [0.0])
    p, q, m, v = axis.size, shifts.size, len(book.underlyings), len(book.venues)
    mult = np.repeat(1.0 + axis, q)[:, None] * np.ones((1, m))
    shift_col = np.tile(shifts, p)[:, None] * np.ones((1, m))
    zero = np.zeros_like(mult)
    states = evaluate(
        book, mult, zero if vol_relative else shift_col, shift_col if vol_relative else zero
    )
    equity = states.equity_usd.reshape(p, q, v)
    mm = states.maintenance_usd.reshape(p, q, v)
    first = _first_liquidated(axis, equity - mm)
    keep = np.searchsorted(axis, moves)
    venue_pnl = (equity - book.equity0_usd)[keep]
    return StressGrid(
        venues=book.venues,
        price_moves_frac=moves,
        vol_shifts=shifts,
        vol_relative=vol_relative,
        pnl_usd=venue_pnl.sum(axis=2),
        venue_pnl_usd=venue_pnl,
        equity_usd=equity[keep],
        maintenance_usd=mm[keep],
        first_liquidated=first[keep],
        equity0_usd=book.equity0_usd,
    )


def join_columns(parts: Sequence[StressGrid]) -> StressGrid:
    """Grids of one book over the same price moves, side by side: their vol shifts in order.

    Every column of a grid depends only on its own vol shift (the liquidation path
    runs along the price axis), so a grid computed in column chunks and joined
    is the grid computed whole, figure for figure.
    """
    first = parts[0]
    if any(not np.array_equal(p.price_moves_frac, first.price_moves_frac) for p in parts):
        raise ValueError("grids to join need the same price moves")
    return StressGrid(
        venues=first.venues,
        price_moves_frac=first.price_moves_frac,
        vol_shifts=np.concatenate([p.vol_shifts for p in parts]),
        vol_relative=first.vol_relative,
        pnl_usd=np.concatenate([p.pnl_usd for p in parts], axis=1),
        venue_pnl_usd=np.concatenate([p.venue_pnl_usd for p in parts], axis=1),
        equity_usd=np.concatenate([p.equity_usd for p in parts], axis=1),
        maintenance_usd=np.concatenate([p.maintenance_usd for p in parts], axis=1),
        first_liquidated=np.concatenate([p.first_liquidated for p in parts], axis=1),
        equity0_usd=first.equity0_usd,
    )


def _first_liquidated(axis: FloatArray, surplus: FloatArray) -> IntArray:
    """First venue to breach on the way from move 0 to each cell (p × q), or NO_VENUE.

    ``axis`` is sorted and holds 0; ``surplus`` = equity − MM is p × q × venues.
    """
    p, q, _ = surplus.shape
    zero = int(np.searchsorted(axis, 0.0))
    out = np.full((p, q), NO_VENUE, dtype=np.int64)
    for rows in (np.arange(zero, -1, -1), np.arange(zero, p)):  # down side, up side
        s = surplus[rows]  # path order, starting at 0
        dist = np.abs(axis[rows])
        cross = _crossings(dist, s)  # q × venues
        best = np.argmin(cross, axis=1)  # first index wins ties
        when = cross[np.arange(q), best]
        hit = when[None, :] <= dist[:, None]  # path rows × q
        out[rows] = np.where(hit, best[None, :], NO_VENUE)
    return out


def _crossings(dist: FloatArray, s: FloatArray) -> FloatArray:
    """|move| of each venue's first breach along the path (q × venues); inf if none.

    ``s`` is path rows × q × venues; the breach between two rows is placed by
    linear interpolation of the surplus; a breach at the start is at 0.
    """
    below = s < 0
    first = np.argmax(below, axis=0)  # q × venues
    any_ = below.any(axis=0)
    prev = np.maximum(first - 1, 0)
    col, ven = np.arange(s.shape[1])[:, None], np.arange(s.shape[2])[None, :]
    s_prev, s_at = s[prev, col, ven], s[first, col, ven]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(s_prev > s_at, s_prev / (s_prev - s_at), 1.0)
    at = dist[prev] + (dist[first] - dist[prev]) * np.clip(frac, 0.0, 1.0)
    out: FloatArray = np.where(any_, np.where(first == 0, 0.0, at), np.inf)
    return out
