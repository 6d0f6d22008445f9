"""Deribit standard margin, vectorised over a :class:`PositionTable` (and over scenarios).

Standard margin sums a requirement per position. Deribit's published rules
(its "Margin" support pages; the simulator applies the same functions one
contract at a time through ``bot.sim.margin``):

- short inverse call, per coin of amount: IM = max(0.15 − OTM/F, 0.10) + mark,
  MM = 0.075 + mark; short put: MM = max(0.075, 0.075·mark) + mark,
  IM = max(max(0.15 − OTM/F, 0.10) + mark, MM); OTM = max(K − F, 0) for calls,
  max(F − K, 0) for puts; F the underlying price, mark in coin. Long options
  carry no margin (the premium is paid).
- futures and perps: IM = 2 % + size·f, MM = 1 % + size·f of the coin
  notional, size in coin, f = 0.005 % per BTC and 0.0004 % per ETH.

Linear (USD-settled) positions: options use the same fractions of the
underlying in USD (Deribit's USDC options follow the inverse formula with
prices in USD); futures, perps use the venue's notional tiers
(:mod:`bot.domain.margin.linear`); spot holds no margin.

Worked examples: a short 70,000 call with F = 60,000 and mark 0.01 BTC needs
IM max(0.15 − 1/6, 0.10) + 0.01 = 0.11 BTC and MM 0.085 BTC; a 25 BTC future
needs IM 2.125 % (0.53125 BTC) and MM 1.125 % (0.28125 BTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.margin.linear import BINANCE_BTCUSDT_2021, TierTable, tiered_margin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import base_vols, index_per_underlying, per_position, unit_values
from bot.pricing.arrays import FloatArray, IntArray

OPTION_IM_BASE: Final = 0.15
OPTION_IM_FLOOR: Final = 0.10
OPTION_MM_BASE: Final = 0.075
FUTURE_IM_BASE: Final = 0.02
FUTURE_MM_BASE: Final = 0.01
FUTURE_SIZE_FACTOR: Final = {"BTC": 0.00005, "ETH": 0.000004}
"""Deribit's f per coin of position (fraction of notional added per coin held)."""


def short_option_margin(
    is_call: ArrayLike, strike_usd: ArrayLike, underlying_usd: ArrayLike, mark_coin: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """(IM, MM) in coin per 1 short inverse option; broadcasts.

    Example: short 70,000 call, underlying 60,000, mark 0.01 BTC → (0.11, 0.085).
    """
    call = np.asarray(is_call, dtype=bool)
    k = np.asarray(strike_usd, dtype=np.float64)
    f = np.asarray(underlying_usd, dtype=np.float64)
    mark = np.asarray(mark_coin, dtype=np.float64)
    otm = np.maximum(np.where(call, k - f, f - k), 0.0)
    base = np.maximum(OPTION_IM_BASE - otm / f, OPTION_IM_FLOOR) + mark
    mm = np.where(call, OPTION_MM_BASE, np.maximum(OPTION_MM_BASE, OPTION_MM_BASE * mark)) + mark
    return np.where(call, base, np.maximum(base, mm)), mm


def future_margin_rates(
    size_coin: ArrayLike, size_factor: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """(IM, MM) fractions of notional for futures of ``size_coin`` (sign ignored).

    Example (Deribit, BTC, f = 0.005 %): 25 BTC → (2.125 %, 1.125 %).
    """
    extra = np.abs(np.asarray(size_coin, dtype=np.float64)) * np.asarray(size_factor)
    return FUTURE_IM_BASE + extra, FUTURE_MM_BASE + extra


@dataclass(frozen=True, slots=True)
class StandardParams:
    """``size_factor`` per underlying name (missing: 0); ``tiers`` for linear futures/perps."""

    size_factor: dict[str, float] = field(default_factory=lambda: dict(FUTURE_SIZE_FACTOR))
    tiers: TierTable = field(default_factory=lambda: TierTable.from_rows(BINANCE_BTCUSDT_2021))

    def factor_per_underlying(self, underlyings: tuple[str, ...]) -> FloatArray:
        return np.array([self.size_factor.get(u, 0.0) for u in underlyings], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PositionMargin:
    """IM and MM per position in its settlement unit (coin if inverse, else USD)."""

    initial: FloatArray
    maintenance: FloatArray


def position_margin(
    table: PositionTable,
    *,
    forward_usd: FloatArray,
    unit_value: FloatArray,
    params: StandardParams,
    sel: slice | IntArray = slice(None),
) -> PositionMargin:
    """Standard IM/MM of positions ``sel``; arrays (..., len(sel)) broadcast over scenarios.

    ``unit_value`` is the value per unit of size in the settlement unit (as
    :func:`bot.domain.revalue.unit_values` returns): an option's mark in coin
    (inverse) or USD (linear); it is ignored for other kinds.
    """
    kind, size = table.kind[sel], table.size[sel]
    inverse = table.is_inverse[sel] & (kind != KindCode.SPOT)
    f = np.broadcast_to(forward_usd, np.broadcast_shapes(forward_usd.shape, size.shape))
    im = np.zeros(f.shape)
    mm = np.zeros(f.shape)
    # Short options: per coin of amount on the coin-equivalent mark, then to settlement units.
    o = np.flatnonzero((kind == KindCode.OPTION) & (size < 0))
    if o.size:
        fo, inv = f[..., o], inverse[o]
        mark = np.broadcast_to(unit_value, f.shape)[..., o]
        mark_coin = np.where(inv, mark, mark / fo)
        im_o, mm_o = short_option_margin(
            table.is_call[sel][o], table.strike_usd[sel][o], fo, mark_coin
        )
        scale = -size[o] * np.where(inv, 1.0, fo)
        im[..., o] = im_o * scale
        mm[..., o] = mm_o * scale
    fut = (kind == KindCode.FUTURE) | (kind == KindCode.PERPETUAL)
    # Inverse futures/perps: size is USD, notional in coin.
    i = np.flatnonzero(fut & inverse)
    if i.size:
        size_coin = np.abs(np.where(table.amount_is_usd[sel][i], size[i] / f[..., i], size[i]))
        factor = params.factor_per_underlying(table.underlyings)[table.underlying_idx[sel][i]]
        im_rate, mm_rate = future_margin_rates(size_coin, factor)
        im[..., i] = im_rate * size_coin
        mm[..., i] = mm_rate * size_coin
    # Linear futures/perps: size is coin, notional tiers in USD.
    lin = np.flatnonzero(fut & ~inverse)
    if lin.size:
        im[..., lin], mm[..., lin] = tiered_margin(size[lin] * f[..., lin], params.tiers)
    return PositionMargin(im, mm)


@dataclass(frozen=True, slots=True)
class AccountMargin:
    """Requirements per venue × underlying: coin for inverse positions, USD for linear.

    ``*_total_usd`` add both per venue, converting coin at ``index_usd``.
    """

    underlyings: tuple[str, ...]
    venues: tuple[str, ...]
    initial_coin: FloatArray
    maintenance_coin: FloatArray
    initial_usd: FloatArray
    maintenance_usd: FloatArray
    index_usd: FloatArray

    @property
    def initial_total_usd(self) -> FloatArray:
        return _total(self.initial_coin, self.initial_usd, self.index_usd)

    @property
    def maintenance_total_usd(self) -> FloatArray:
        return _total(self.maintenance_coin, self.maintenance_usd, self.index_usd)


def standard_margin(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    params: StandardParams | None = None,
    vol: ArrayLike | None = None,
) -> AccountMargin:
    """Deribit standard margin of the book per venue × underlying (module docstring).

    Option marks are our Black-76 values at ``vol`` (default ``mark_iv``), the
    same valuation every scenario uses, so a what-if is consistent with now.
    """
    p = StandardParams() if params is None else params
    n = len(table)
    fwd = per_position("forward_usd", forward_usd, n)
    value = unit_values(table, fwd, base_vols(table, vol), valuation_ts_ms)
    pm = position_margin(table, forward_usd=fwd, unit_value=value, params=p)
    inverse = table.is_inverse & (table.kind != KindCode.SPOT)
    cells = sum_cells(table, np.stack([pm.initial, pm.maintenance]), inverse)
    return AccountMargin(
        underlyings=table.underlyings,
        venues=table.venues,
        initial_coin=cells[0, 0],
        maintenance_coin=cells[1, 0],
        initial_usd=cells[0, 1],
        maintenance_usd=cells[1, 1],
        index_usd=index_per_underlying(table, fwd),
    )


def cell_onehot(table: PositionTable, inverse: NDArray[np.bool_]) -> FloatArray:
    """n × (2·venues·underlyings) indicator of each position's cell (inverse first)."""
    m, v = len(table.underlyings), len(table.venues)
    key = (~inverse).astype(np.int64) * v * m + table.venue_idx * m + table.underlying_idx
    onehot = np.zeros((len(table), 2 * v * m))
    onehot[np.arange(len(table)), key] = 1.0
    return onehot


def sum_cells(
    table: PositionTable,
    x: FloatArray,
    inverse: NDArray[np.bool_],
    onehot: FloatArray | None = None,
) -> FloatArray:
    """Sum x (..., n) into (..., 2, venues, underlyings): [0] inverse rows, [1] linear rows.

    ``onehot`` (from :func:`cell_onehot`) may be passed in when summing often.
    """
    m, v = len(table.underlyings), len(table.venues)
    ind = cell_onehot(table, inverse) if onehot is None else onehot
    out: FloatArray = (x @ ind).reshape(*x.shape[:-1], 2, v, m)
    return out


def _total(coin: FloatArray, usd: FloatArray, index_usd: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        coin_usd = np.where(coin == 0, 0.0, coin * index_usd)
    total: FloatArray = coin_usd.sum(axis=-1) + usd.sum(axis=-1)
    return total
