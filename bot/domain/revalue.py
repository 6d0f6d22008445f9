"""Full revaluation of a :class:`PositionTable` under price and vol scenarios.

Margin models (portfolio margin's risk matrix), liquidation distance and the
stress tests all ask the same question: what is the book worth if every
forward moves by a factor and every vol shifts? Greeks answer it only for
small moves, so this module reprices every position with Black-76 for every
scenario, vectorised as scenarios × positions in bounded chunks.

Values are in each position's **settlement unit** (docs/architecture.md §3): coin for
inverse (coin-settled) contracts, USD for linear ones.

- inverse option: q·B(F)/F coin (B the undiscounted Black-76 USD value);
- inverse future/perp: −size_usd/F coin, so a change is size_usd·(1/F0 − 1/F1);
- linear option: q·B(F) USD; linear future/perp/spot: q·F USD.

Futures values are defined up to a constant (the entry price): only changes are
meaningful, which is all a scenario needs. A coin-margined account's USD
equity is F·E_coin with E_coin its coin equity (venues report it including
option values and unrealised P&L), so a scenario changes its USD value by
E_coin·I·(M − 1) + I·M·ΔE_coin with I the index and M the price multiplier.

Worked example: long an inverse perpetual of 10,000 USD at F0 = 50,000 moved
+10 % to 55,000 gains 10,000·(1/50,000 − 1/55,000) = 0.0181818 BTC (Deribit's
own example in ``bot.sim.margin.inverse_pnl_coin``); with 1 BTC of equity the
account's USD value changes by 1·50,000·0.1 + 55,000·0.0181818 = 6,000 USD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from bot.domain.ids import Currency, VenueId
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing import black76
from bot.pricing.arrays import FloatArray, IntArray

CHUNK_ELEMENTS: Final = 1 << 18
"""Scenario × position elements priced per pass: bounds memory to a few MiB per buffer."""


def base_vols(table: PositionTable, vol: ArrayLike | None = None) -> FloatArray:
    """Vol per position: ``vol`` if given, else ``mark_iv``; options must have a usable one."""
    n = len(table)
    out = table.mark_iv if vol is None else per_position("vol", vol, n)
    opt = (table.kind == KindCode.OPTION) & (table.size != 0)
    bad = opt & ~(np.isfinite(out) & (out >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{table.label(i)}: no usable vol, got {out[i]!r}")
    return np.where(opt, out, 0.0)


def unit_values(
    table: PositionTable,
    forward_usd: FloatArray,
    vol: FloatArray,
    valuation_ts_ms: int,
    *,
    rate: float = 0.0,
    sel: slice | IntArray = slice(None),
) -> FloatArray:
    """Value per unit of ``table.size[sel]`` in the settlement unit, over leading axes.

    ``forward_usd`` and ``vol`` have shape (..., len(sel)) and belong to the
    positions ``sel``. Options past expiry are worth their intrinsic value
    (tau is clamped at 0).
    """
    kind = table.kind[sel]
    inverse = table.is_inverse[sel] & (kind != KindCode.SPOT)
    out = np.where(inverse, -1.0 / forward_usd, forward_usd)  # futures, perps, spot
    o = np.flatnonzero(kind == KindCode.OPTION)
    if o.size:
        f = forward_usd[..., o]
        tau = np.maximum(table.expiry_ms[sel][o] - valuation_ts_ms, 0) / MS_PER_YEAR
        strike, call = table.strike_usd[sel][o], table.is_call[sel][o]
        price = black76(call, f, strike, tau, vol[..., o], rate).price
        out[..., o] = np.where(inverse[o], price / f, price)
    return out


@dataclass(frozen=True, slots=True)
class Revaluation:
    """Value changes per scenario, venue and underlying (shape k × venues × underlyings).

    ``pnl_coin``: coin-settled positions, in coin of the underlying (the
    change of a coin-margined account's equity). ``pnl_usd``: USD-settled
    positions, in USD. ``equity_usd``: change of the USD value of everything,
    coin equity included (see the module docstring). ``index_usd`` is the
    base index per underlying used for the coin→USD conversion.
    """

    underlyings: tuple[Currency, ...]
    venues: tuple[VenueId, ...]
    pnl_coin: FloatArray
    pnl_usd: FloatArray
    equity_usd: FloatArray
    index_usd: FloatArray

    @property
    def venue_equity_usd(self) -> FloatArray:
        """USD equity change per scenario and venue (k × venues)."""
        total: FloatArray = self.equity_usd.sum(axis=2)
        return total


def revalue(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    price_mult: ArrayLike,
    vol_shift: ArrayLike = 0.0,
    vol_shift_rel: ArrayLike = 0.0,
    vol_floor: ArrayLike = 0.0,
    term_weight: ArrayLike = 1.0,
    equity_coin: ArrayLike | Mapping[str, Mapping[str, float]] = 0.0,
    vol: ArrayLike | None = None,
    rate: float = 0.0,
) -> Revaluation:
    """Reprice the book under k scenarios; see :class:`Revaluation` for the result.

    ``forward_usd``: base forward per position (USD). ``price_mult``: k × m
    multipliers of every forward and index of each underlying (1.1 = +10 %).
    Scenario vol of position i (underlying u) is
    max(σ_i·(1 + ``vol_shift_rel``·w_i) + ``vol_shift``, ``vol_floor``), the
    three k × m arrays (or scalars) in vol fractions, w_i = ``term_weight``
    (per position, e.g. Deribit's (30/days)^power). ``equity_coin`` is the
    coin equity per venue × underlying (array or {venue: {coin: amount}}).
    """
    n, m, v = len(table), len(table.underlyings), len(table.venues)
    fwd = per_position("forward_usd", forward_usd, n)
    bad = (table.size != 0) & ~(np.isfinite(fwd) & (fwd > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{table.label(i)}: forward_usd must be positive, got {fwd[i]!r}")
    mult = _scenario_grid("price_mult", price_mult, m)
    k = mult.shape[0]
    if not (np.isfinite(mult).all() and (mult > 0).all()):
        raise ValueError("price_mult must be positive and finite")
    shift, rel, floor = (
        np.broadcast_to(_scenario_grid(name, x, m), (k, m))
        for name, x in (
            ("vol_shift", vol_shift),
            ("vol_shift_rel", vol_shift_rel),
            ("vol_floor", vol_floor),
        )
    )
    weight = per_position("term_weight", term_weight, n)
    sigma = base_vols(table, vol)
    index = index_per_underlying(table, fwd)
    equity = equity_matrix(equity_coin, table)
    und, ven = table.underlying_idx, table.venue_idx
    group = ven * m + und
    inverse = table.is_inverse & (table.kind != KindCode.SPOT)
    base = table.size * unit_values(table, fwd, sigma, valuation_ts_ms, rate=rate)
    coin = np.zeros((k, v * m))
    usd = np.zeros((k, v * m))
    step = max(1, CHUNK_ELEMENTS // max(k, 1))
    for lo in range(0, n, step):
        sl = slice(lo, min(n, lo + step))
        u = und[sl]
        f = fwd[sl] * mult[:, u]
        s = np.maximum(sigma[sl] * (1.0 + rel[:, u] * weight[sl]) + shift[:, u], floor[:, u])
        pnl = (
            table.size[sl] * unit_values(table, f, s, valuation_ts_ms, rate=rate, sel=sl) - base[sl]
        )
        onehot = np.zeros((sl.stop - sl.start, v * m))
        onehot[np.arange(sl.stop - sl.start), group[sl]] = 1.0
        coin += np.where(inverse[sl], pnl, 0.0) @ onehot
        usd += np.where(inverse[sl], 0.0, pnl) @ onehot
    pnl_coin = coin.reshape(k, v, m)
    pnl_usd = usd.reshape(k, v, m)
    idx = np.where(np.isnan(index), 0.0, index)
    need = (np.abs(pnl_coin).sum(axis=(0, 1)) + np.abs(equity).sum(axis=0)) > 0
    if (need & np.isnan(index)).any():
        name = table.underlyings[int(np.argmax(need & np.isnan(index)))]
        raise ValueError(f"{name}: no index_usd to convert coin to USD")
    moved = idx * mult  # k × m
    equity_usd = equity[None] * (moved - idx)[:, None, :] + moved[:, None, :] * pnl_coin + pnl_usd
    return Revaluation(table.underlyings, table.venues, pnl_coin, pnl_usd, equity_usd, index)


def index_per_underlying(table: PositionTable, forward_usd: FloatArray) -> FloatArray:
    """Venue index per underlying; the mean forward of its positions where none was given."""
    m = len(table.underlyings)
    count = np.bincount(table.underlying_idx, minlength=m)
    total = np.bincount(table.underlying_idx, weights=forward_usd, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return np.where(np.isnan(table.index_usd), mean, table.index_usd).astype(np.float64)


def equity_matrix(
    value: ArrayLike | Mapping[str, Mapping[str, float]], table: PositionTable
) -> FloatArray:
    """Coin equity as a venues × underlyings array, from an array or a nested mapping."""
    shape = (len(table.venues), len(table.underlyings))
    if isinstance(value, Mapping):
        out = np.zeros(shape)
        for venue, coins in value.items():
            if venue not in table.venues:
                raise ValueError(f"equity_coin names venue {venue!r}, not in {table.venues}")
            for coin, amount in coins.items():
                if coin not in table.underlyings:
                    raise ValueError(f"equity_coin names {coin!r}, not in {table.underlyings}")
                out[table.venues.index(VenueId(venue)), table.underlyings.index(Currency(coin))] = (
                    amount
                )
        return out
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()
    if not np.isfinite(arr).all():
        raise ValueError("equity_coin must be finite")
    return arr


def per_position(name: str, value: ArrayLike, n: int) -> FloatArray:
    """A scalar broadcast to n positions, or an array of exactly n values."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or one value per position ({n}), got {arr.shape}"
        )
    return arr


def _scenario_grid(name: str, value: ArrayLike, m: int) -> FloatArray:
    """k × m array from a scalar, a length-k vector (same for every underlying) or k × m."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return arr.reshape(1, 1) * np.ones((1, m))
    if arr.ndim == 1:
        return arr[:, None] * np.ones((1, m))
    if arr.ndim != 2 or arr.shape[1] != m:
        raise ValueError(f"{name} must be a scalar, (k,) or (k, {m}), got {arr.shape}")
    return arr
