"""The book prepared once, and its USD equity and maintenance margin per venue under k states.

A stress grid asks the same question as :func:`bot.domain.revalue.revalue`
(value of the book under price multipliers and vol shifts) plus the margin at
each state, for ~10^3 states × 10^4 positions. ``revalue`` computes the full
Black-76 Greek set per element, about 3 s for that size; the margin needs the
option marks too. This kernel therefore prices options with a price-only
Black-76 in coin, sum over positions by matrix products, and reads the margin
of short options off the same marks:

- an option's coin value is sign·(N(sign·d1) − (K/F)·N(sign·d2)) with
  d1 = ln(F/K)/s + s/2, s = σ·√τ (r = 0, as ``revalue`` by default); a linear
  option is worth that times F in USD;
- Deribit standard maintenance of a short option per coin of amount is
  0.075 + mark (call) or max(0.075, 0.075·mark) + mark (put), mark in coin
  (:func:`bot.domain.margin.standard.short_option_margin`), i.e.
  mark + 0.075·max(1, mark·is_put);
- futures, perps and spot go through the house functions themselves
  (:func:`~bot.domain.revalue.unit_values`,
  :func:`~bot.domain.margin.standard.position_margin`); portfolio-margin
  venues get :func:`~bot.domain.margin.portfolio.portfolio_margin` around each
  state (one risk matrix per state: slow, fine for the light grid).

Equity follows ``revalue``: a venue's USD equity is Σ_u (E_coin + ΔE_coin)·I·M
+ E_usd + ΔE_usd, with E_coin its coin equity as venues report it (cash plus
position values), I the index and M the state's multiplier. Tests pin both
against ``revalue`` and ``standard_margin``.

Worked example: short 1 inverse call, K = F = 60,000, 30 days, σ = 60 %, on a
venue with 1 BTC of equity: the call is worth 0.06854 BTC, so the venue's MM is
0.075 + 0.06854 = 0.14354 BTC = 8,612.4 USD and its equity 60,000 USD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from bot.domain.margin.liquidation import LiquidationParams, MarginModel
from bot.domain.margin.portfolio import PortfolioParams, portfolio_margin
from bot.domain.margin.standard import OPTION_MM_BASE, StandardParams, position_margin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import (
    base_vols,
    equity_matrix,
    index_per_underlying,
    per_position,
    unit_values,
)
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing.arrays import FloatArray, IntArray
from bot.pricing.parallel import MIN_PARALLEL_ELEMENTS, run_parts

BLOCK_ELEMENTS: Final = 1 << 15
"""State × option elements per pass: the dozen temporaries stay in cache."""
STATE_PART: Final = 32
"""States per part of the grid handed to a kernel thread (1,024 options a pass each)."""


@dataclass(frozen=True, slots=True)
class MarginSetup:
    """Margin model per venue and the parameters of every model (from ``[margin]``)."""

    default_model: MarginModel = MarginModel.STANDARD
    venue_models: Mapping[str, MarginModel] = field(default_factory=dict)
    standard: StandardParams = field(default_factory=StandardParams)
    portfolio: PortfolioParams = field(default_factory=PortfolioParams)
    liquidation: LiquidationParams = field(default_factory=LiquidationParams)

    def model_for(self, venue: str) -> MarginModel:
        return MarginModel(self.venue_models.get(venue, self.default_model))


@dataclass(frozen=True, slots=True)
class _Options:
    """Per option row (live, non-zero size): what the price kernel needs."""

    und: IntArray
    sign: FloatArray  # +1 call, -1 put
    is_put: FloatArray
    ln_fk: FloatArray  # ln(F0/K)
    kappa: FloatArray  # K/F0
    sqrt_tau: FloatArray
    sigma: FloatArray
    floor: FloatArray  # lowest vol a shift may reach: min(vol_floor, sigma)
    w_value: FloatArray  # n × 2G: size (coin) or size·F0 (linear) at the cell key
    w_mm: FloatArray  # the same for short rows only, sign flipped


@dataclass(frozen=True, slots=True)
class StressInputs:
    """A book ready for many states: build with :func:`prepare`; pure, reusable.

    ``equity_coin`` is venues × underlyings (coin), ``equity_usd`` per venue
    (USD, stablecoins), ``index_usd`` per underlying (0 where unknown and
    unused), ``vol`` per position.
    """

    table: PositionTable
    forward_usd: FloatArray
    valuation_ts_ms: int
    vol: FloatArray
    index_usd: FloatArray
    equity_coin: FloatArray
    equity_usd: FloatArray
    margin: MarginSetup
    vol_floor_frac: float
    portfolio_venues: NDArray[np.bool_]
    options: _Options
    others: IntArray  # live non-option rows
    futures: IntArray  # live futures and perpetuals
    w_others: FloatArray
    other_table: PositionTable  # the rows ``others`` and ``futures``, gathered once: every
    future_table: PositionTable  # block of states reads them (issue 18: 14 % at 100k)
    w_futures: FloatArray
    base_value: FloatArray  # 2G: Σ size·value at the unmoved state (options + others)

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(self.table.venues)

    @property
    def underlyings(self) -> tuple[str, ...]:
        return tuple(self.table.underlyings)

    @property
    def equity0_usd(self) -> FloatArray:
        """USD equity per venue now: Σ_u E_coin·I + E_usd."""
        out: FloatArray = self.equity_coin @ self.index_usd + self.equity_usd
        return out


@dataclass(frozen=True, slots=True)
class States:
    """USD figures per state (rows) and venue; ``equity_cell_usd`` also per underlying.

    ``equity_cell_usd`` (k × venues × underlyings) excludes ``equity_usd``
    (stablecoin cash has no underlying); ``equity_usd`` (k × venues) includes it.
    """

    equity_cell_usd: FloatArray
    equity_usd: FloatArray
    maintenance_usd: FloatArray


def prepare(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    equity_coin: ArrayLike | Mapping[str, Mapping[str, float]],
    equity_usd: ArrayLike | Mapping[str, float] = 0.0,
    margin: MarginSetup | None = None,
    vol: ArrayLike | None = None,
    vol_floor_frac: float = 0.01,
) -> StressInputs:
    """Check the inputs and precompute everything that does not depend on the state.

    ``forward_usd``: per position. ``equity_coin``: coin equity per venue ×
    underlying as venues report it (array or {venue: {coin: amount}});
    ``equity_usd``: stablecoin equity per venue. ``vol`` overrides ``mark_iv``.
    A vol shift never takes an option below ``vol_floor_frac`` (or below its
    own vol, if lower).
    """
    n, m, v = len(table), len(table.underlyings), len(table.venues)
    fwd = per_position("forward_usd", forward_usd, n)
    bad = (table.size != 0) & ~(np.isfinite(fwd) & (fwd > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{table.label(i)}: forward_usd must be positive, got {fwd[i]!r}")
    if not (np.isfinite(vol_floor_frac) and vol_floor_frac >= 0):
        raise ValueError(f"vol_floor_frac must be >= 0, got {vol_floor_frac}")
    setup = MarginSetup() if margin is None else margin
    sigma = base_vols(table, vol)
    eq_coin = equity_matrix(equity_coin, table)
    eq_usd = _per_venue("equity_usd", equity_usd, table.venues)
    index = index_per_underlying(table, fwd)
    need = (np.abs(eq_coin).sum(axis=0) > 0) | np.bincount(
        table.underlying_idx, weights=np.abs(table.size), minlength=m
    ).astype(bool)
    if (need & np.isnan(index)).any():
        name = table.underlyings[int(np.argmax(need & np.isnan(index)))]
        raise ValueError(f"{name}: no index_usd to convert coin to USD")
    index = np.where(np.isnan(index), 0.0, index)
    live = table.size != 0
    inverse = table.is_inverse & (table.kind != KindCode.SPOT)
    key = (~inverse).astype(np.int64) * v * m + table.venue_idx * m + table.underlying_idx
    opt_rows = np.flatnonzero(live & (table.kind == KindCode.OPTION))
    others = np.flatnonzero(live & (table.kind != KindCode.OPTION))
    futures = np.flatnonzero(
        live & ((table.kind == KindCode.FUTURE) | (table.kind == KindCode.PERPETUAL))
    )
    scale = np.where(inverse, 1.0, fwd)  # linear option rows are summed in coin·F0
    o = opt_rows
    w_value = _weights(key[o], table.size[o] * scale[o], 2 * v * m)
    w_mm = _weights(key[o], np.where(table.size[o] < 0, -table.size[o], 0.0) * scale[o], 2 * v * m)
    tau = np.maximum(table.expiry_ms[o] - valuation_ts_ms, 0) / MS_PER_YEAR
    options = _Options(
        und=table.underlying_idx[o],
        sign=np.where(table.is_call[o], 1.0, -1.0),
        is_put=np.where(table.is_call[o], 0.0, 1.0),
        ln_fk=np.log(fwd[o] / table.strike_usd[o]),
        kappa=table.strike_usd[o] / fwd[o],
        sqrt_tau=np.sqrt(tau),
        sigma=sigma[o],
        floor=np.minimum(vol_floor_frac, sigma[o]),
        w_value=w_value,
        w_mm=w_mm,
    )
    book = StressInputs(
        table=table,
        forward_usd=fwd,
        valuation_ts_ms=valuation_ts_ms,
        vol=sigma,
        index_usd=index,
        equity_coin=eq_coin,
        equity_usd=eq_usd,
        margin=setup,
        vol_floor_frac=float(vol_floor_frac),
        portfolio_venues=np.array(
            [setup.model_for(name) is MarginModel.PORTFOLIO for name in table.venues], dtype=bool
        ),
        options=options,
        others=others,
        futures=futures,
        w_others=_weights(key[others], table.size[others], 2 * v * m),
        other_table=subset(table, others),
        future_table=subset(table, futures),
        w_futures=_weights(key[futures], np.ones(futures.size), 2 * v * m),
        base_value=np.zeros(2 * v * m),
    )
    one = np.ones((1, m))
    zero = np.zeros((1, m))
    object.__setattr__(book, "base_value", _values(book, one, zero, zero)[0][0])
    return book


def evaluate(book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray) -> States:
    """Equity and maintenance (USD) per state; ``mult``/``shift``/``rel`` are k × underlyings.

    State vol of an option is max(σ·(1 + rel) + shift, min(vol_floor, σ)).
    """
    t = book.table
    m, v = len(t.underlyings), len(t.venues)
    k = mult.shape[0]
    value, mm_opt = _values(book, mult, shift, rel)
    pnl = (value - book.base_value).reshape(k, 2, v, m)
    mm = mm_opt.reshape(k, 2, v, m)
    mm = mm + _futures_mm(book, mult).reshape(k, 2, v, m)
    moved = book.index_usd[None, :] * mult  # k × m
    coin_eq = book.equity_coin[None] + pnl[:, 0]
    cells: FloatArray = coin_eq * moved[:, None, :] + pnl[:, 1]
    equity = cells.sum(axis=2) + book.equity_usd[None, :]
    maintenance = (mm[:, 0] * moved[:, None, :]).sum(axis=2) + mm[:, 1].sum(axis=2)
    if book.portfolio_venues.any():
        maintenance[:, book.portfolio_venues] = _portfolio_mm(book, mult, shift, rel)[
            :, book.portfolio_venues
        ]
    return States(cells, equity, maintenance)


def state_vol(book: StressInputs, shift: FloatArray, rel: FloatArray) -> FloatArray:
    """Vol per position in each state (k × n): the kernel's rule, for ``revalue`` cross-checks."""
    und = book.table.underlying_idx
    s = book.vol[None, :] * (1.0 + rel[:, und]) + shift[:, und]
    out: FloatArray = np.maximum(s, np.minimum(book.vol_floor_frac, book.vol)[None, :])
    return out


def _values(
    book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(Σ size·value, Σ short MM) per state and cell key, k × 2G (linear keys in USD).

    The states are taken :data:`STATE_PART` at a time, the parts spread over the
    kernel threads (:mod:`bot.pricing.parallel`); a part's figures do not depend on
    which thread computed it, so the result is the same bits on any number of cores.
    """
    k = mult.shape[0]
    groups = book.options.w_value.shape[1]
    value = np.zeros((k, groups))
    mm = np.zeros((k, groups))

    def part(first: int, stop: int) -> None:
        for lo in range(first, stop, STATE_PART):
            ks = slice(lo, min(lo + STATE_PART, stop))
            value[ks], mm[ks] = _values_part(book, mult[ks], shift[ks], rel[ks])

    run_parts(part, k, grain=STATE_PART, min_elements=_min_states(book.options.und.size))
    return value, mm


def _min_states(per_state: int) -> int:
    """The fewest states worth splitting over threads, at ``per_state`` elements each."""
    return max(1, MIN_PARALLEL_ELEMENTS // max(per_state, 1))


def _values_part(
    book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """:func:`_values` for one part of the states."""
    op = book.options
    k = mult.shape[0]
    groups = op.w_value.shape[1]
    value = np.zeros((k, groups))
    mm = np.zeros((k, groups))
    ln_mult, inv_mult = np.log(mult), 1.0 / mult
    step = max(1, BLOCK_ELEMENTS // max(k, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo in range(0, op.und.shape[0], step):
            sl = slice(lo, lo + step)
            u = op.und[sl]
            s = op.sigma[sl] * (1.0 + rel[:, u]) + shift[:, u]
            np.maximum(s, op.floor[sl], out=s)
            sd = s * op.sqrt_tau[sl]
            x = ln_mult[:, u] + op.ln_fk[sl]
            d1 = x / sd
            d1 += 0.5 * sd
            d2 = d1 - sd
            sign = op.sign[sl]
            n1 = ndtr(d1 * sign)
            n2 = ndtr(d2 * sign)
            n2 *= op.kappa[sl]
            n2 *= inv_mult[:, u]  # (K/F)·N(sign·d2)
            coin = n1 - n2
            coin *= sign
            if not sd.min() > 0:  # expired or zero vol: intrinsic value
                dead = ~(sd > 0)
                intrinsic = np.maximum(sign * (1.0 - op.kappa[sl] * inv_mult[:, u]), 0.0)
                coin = np.where(dead, intrinsic, coin)
            value += coin @ op.w_value[sl]
            mark = np.maximum(coin * op.is_put[sl], 1.0)
            mark *= OPTION_MM_BASE
            mark += coin
            mm += mark @ op.w_mm[sl]
    # Linear keys hold Σ size·F0·coin: scale by the state's multiplier to get USD.
    v, m = len(book.table.venues), len(book.table.underlyings)
    lin = np.broadcast_to(mult[:, None, :], (k, v, m)).reshape(k, v * m)
    value[:, v * m :] *= lin
    mm[:, v * m :] *= lin
    rows, sub = book.others, book.other_table
    forward = book.forward_usd[rows]
    step = max(1, BLOCK_ELEMENTS // max(rows.size, 1))
    for lo in range(0, k if rows.size else 0, step):
        ks = slice(lo, lo + step)
        f = forward * mult[ks, sub.underlying_idx]
        unit = unit_values(sub, f, np.zeros_like(f), book.valuation_ts_ms)
        value[ks] += unit @ book.w_others
    return value, mm


def _futures_mm(book: StressInputs, mult: FloatArray) -> FloatArray:
    """Standard maintenance of futures and perps per state and cell key (k × 2G)."""
    t, rows, sub = book.table, book.futures, book.future_table
    m, v = len(t.underlyings), len(t.venues)
    out = np.zeros((mult.shape[0], 2 * v * m))
    if not rows.size:
        return out
    forward = book.forward_usd[rows]
    step = max(1, BLOCK_ELEMENTS // rows.size)

    def part(first: int, stop: int) -> None:  # blocks within each STATE_PART, as _values
        for head in range(first, stop, STATE_PART):
            end = min(head + STATE_PART, stop)
            for lo in range(head, end, step):
                ks = slice(lo, min(lo + step, end))
                f = forward * mult[ks, sub.underlying_idx]
                pm = position_margin(
                    sub, forward_usd=f, unit_value=np.zeros_like(f), params=book.margin.standard
                )
                out[ks] = pm.maintenance @ book.w_futures

    run_parts(part, mult.shape[0], grain=STATE_PART, min_elements=_min_states(rows.size))
    return out


def _portfolio_mm(
    book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray
) -> FloatArray:
    """Portfolio-margin maintenance (USD) per state and venue, one risk matrix per state."""
    t = book.table
    rows = np.flatnonzero(book.portfolio_venues[t.venue_idx] & (t.size != 0))
    sub = subset(t, rows)
    vols = state_vol(book, shift, rel)[:, rows]
    out = np.zeros((mult.shape[0], len(t.venues)))
    for r in range(mult.shape[0]):
        f = book.forward_usd[rows] * mult[r, sub.underlying_idx]
        pm = portfolio_margin(
            sub,
            forward_usd=f,
            valuation_ts_ms=book.valuation_ts_ms,
            params=book.margin.portfolio,
            vol=vols[r],
        ).margin
        px = book.index_usd * mult[r]
        out[r] = (pm.maintenance_coin * px).sum(axis=1) + pm.maintenance_usd.sum(axis=1)
    return out


def subset(table: PositionTable, rows: IntArray) -> PositionTable:
    """The positions ``rows`` of ``table``, same venues and underlyings (indices unchanged)."""
    cols = {
        f.name: getattr(table, f.name)[rows]
        for f in fields(table)
        if isinstance(getattr(table, f.name), np.ndarray) and f.name != "index_usd"
    }
    symbols = tuple(table.symbols[i] for i in rows) if table.symbols else ()
    return PositionTable(
        underlyings=table.underlyings,
        venues=table.venues,
        index_usd=table.index_usd.copy(),
        symbols=symbols,
        **cols,
    )


def _weights(key: IntArray, weight: FloatArray, groups: int) -> FloatArray:
    """n × groups matrix with ``weight[i]`` at column ``key[i]``: sums by matrix product."""
    out = np.zeros((key.shape[0], groups))
    out[np.arange(key.shape[0]), key] = weight
    return out


def _per_venue(
    name: str, value: ArrayLike | Mapping[str, float], venues: tuple[str, ...]
) -> FloatArray:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(venues))
        if unknown:
            raise ValueError(f"{name} names venue(s) {unknown}, not in {venues}")
        return np.array([float(value.get(name_, 0.0)) for name_ in venues])
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (len(venues),)).copy()
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr
