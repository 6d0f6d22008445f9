"""The book prepared once, and its USD equity and maintenance margin per venue under k states.

A stress grid asks the same question as :func:`bot.domain.revalue.revalue`
(value of the book under price multipliers and vol shifts) plus the margin at
each state, for ~10^3 states × 10^4 positions. ``revalue`` computes the full
Black-76 Greek set per element, about 3 s for that size; the margin needs the
option marks too. This kernel therefore prices options with a price-only
Black-76 in coin in one compiled loop (:mod:`.option_kernel`) that adds each
row's value and the margin of its short positions, read off the same marks,
straight into the row's cells:

- an option's coin value is sign·(N(sign·d1) − (K/F)·N(sign·d2)) with
  d1 = ln(F/K)/s + s/2, s = σ·√τ (r = 0, as ``revalue`` by default); a linear
  option is worth that times F in USD;
- Deribit standard maintenance of a short option per coin of amount is
  0.075 + mark (call) or max(0.075, 0.075·mark) + mark (put), mark in coin
  (:func:`bot.domain.margin.standard.short_option_margin`), i.e.
  mark + 0.075·max(1, mark·is_put);
- options are priced once per distinct set of pricing inputs (the same
  instrument on several venues or sub-accounts is one row, its sizes summed
  per venue), in runs of one underlying (one venue's, when venues move apart) and
  one type;
- futures, perps and spot go through the house functions themselves
  (:func:`~bot.domain.revalue.unit_values`,
  :func:`~bot.domain.margin.standard.position_margin`), except the inverse
  futures' and perps' maintenance, a + b/M + c/M² per cell in closed form
  (:func:`_inverse_futures_mm`); portfolio-margin
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

from bot.domain.margin.liquidation import LiquidationParams, MarginModel
from bot.domain.margin.portfolio import PortfolioParams, portfolio_margin
from bot.domain.margin.standard import (
    FUTURE_MM_BASE,
    OPTION_MM_BASE,
    StandardParams,
    position_margin,
)
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import (
    base_vols,
    equity_matrix,
    index_per_underlying,
    per_position,
    unit_values,
)
from bot.domain.stress.option_kernel import option_sums
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing.arrays import FloatArray, IntArray
from bot.pricing.parallel import MIN_PARALLEL_ELEMENTS, run_parts

BLOCK_ELEMENTS: Final = 1 << 15
"""State × position elements per numpy pass over the futures, perps and spot rows: the
temporaries stay in cache."""
STATE_PART: Final = 32
"""States per call of the option kernel, and the grain of the parts handed to the kernel
threads: a row's prices in 32 states and its cells' sums stay in the first-level cache."""


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
    """The distinct option rows (live, non-zero size) the price kernel prices, one per
    set of pricing inputs, sorted so that each segment shares move column and type:
    positions on one instrument across venues are priced once (unless each venue moves
    apart).

    ``segments`` (S × 4) holds each run's first row, stop, move column and is_call. Row
    i adds its figures into the cell keys ``cell[row_start[i]:row_start[i + 1]]``
    (``key = c·m + u`` for column c, underlying u; a row has one or two) with weights
    ``value_weight``: size (coin) or size·F0 (linear), and ``mm_weight``: the same for
    short positions only, sign flipped.
    """

    segments: IntArray
    ln_fk: FloatArray  # ln(F0/K)
    kappa: FloatArray  # K/F0
    sqrt_tau: FloatArray
    sd: FloatArray  # σ·√τ
    floor_sd: FloatArray  # lowest σ·√τ a shift may reach: min(vol_floor, σ)·√τ
    row_start: IntArray
    cell: IntArray
    value_weight: FloatArray
    mm_weight: FloatArray
    call_mm: FloatArray  # 2G: Σ over short calls of 0.075·size, the constant of their MM


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
    move_column: IntArray  # per position: the column of a state's multipliers it moves with
    moves_per_venue: bool  # states move each venue's underlyings apart (venues × underlyings)
    others: IntArray  # live non-option rows
    futures: IntArray  # live linear futures and perpetuals
    w_others: FloatArray
    other_table: PositionTable  # the rows ``others`` and ``futures``, gathered once: every
    future_table: PositionTable  # block of states reads them (issue 18: 14 % at 100k)
    w_futures: FloatArray
    inverse_futures_mm: FloatArray  # 3 × 2G: (a, b, c) of a + b/M + c/M² per cell key
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
    moves_per_venue: bool = False,
) -> StressInputs:
    """Check the inputs and precompute everything that does not depend on the state.

    ``forward_usd``: per position. ``equity_coin``: coin equity per venue ×
    underlying as venues report it (array or {venue: {coin: amount}});
    ``equity_usd``: stablecoin equity per venue. ``vol`` overrides ``mark_iv``.
    A vol shift never takes an option below ``vol_floor_frac`` (or below its
    own vol, if lower). ``moves_per_venue``: a state gives every venue its own
    multipliers and shifts (columns venue·underlyings + underlying, as a
    liquidation search needs), so an instrument held on two venues is priced
    once for each.
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
    futures = live & ((table.kind == KindCode.FUTURE) | (table.kind == KindCode.PERPETUAL))
    inverse_futures = np.flatnonzero(futures & inverse)
    futures = np.flatnonzero(futures & ~inverse)
    scale = np.where(inverse, 1.0, fwd)  # linear option rows are summed in coin·F0
    move = table.venue_idx * m + table.underlying_idx if moves_per_venue else table.underlying_idx
    move = move.astype(np.int64)
    options = _options(
        table,
        opt_rows,
        move_column=move[opt_rows],
        forward_usd=fwd,
        sigma=sigma,
        column=key[opt_rows] // m,
        scale=scale[opt_rows],
        valuation_ts_ms=valuation_ts_ms,
        vol_floor_frac=vol_floor_frac,
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
        move_column=move,
        moves_per_venue=moves_per_venue,
        others=others,
        futures=futures,
        w_others=_weights(key[others], table.size[others], 2 * v * m),
        other_table=subset(table, others),
        future_table=subset(table, futures),
        w_futures=_weights(key[futures], np.ones(futures.size), 2 * v * m),
        inverse_futures_mm=_inverse_futures_mm(
            table, inverse_futures, forward_usd=fwd, key=key, params=setup.standard
        ),
        base_value=np.zeros(2 * v * m),
    )
    one = np.ones((1, move_columns(book)))
    zero = np.zeros((1, move_columns(book)))
    object.__setattr__(book, "base_value", _values(book, one, zero, zero)[0][0])
    return book


def _options(
    table: PositionTable,
    rows: IntArray,
    *,
    move_column: IntArray,
    forward_usd: FloatArray,
    sigma: FloatArray,
    column: IntArray,
    scale: FloatArray,
    valuation_ts_ms: int,
    vol_floor_frac: float,
) -> _Options:
    """The option ``rows`` grouped by their pricing inputs (see :class:`_Options`).

    ``move_column`` is each row's column of the state multipliers, ``column`` its cell key
    without its underlying (linear·venues + venue),
    ``scale`` its weight per unit of size (1, or F0 for linear rows).
    """
    v, m = len(table.venues), len(table.underlyings)
    und, call = table.underlying_idx[rows], table.is_call[rows]
    fwd, strike, sig = forward_usd[rows], table.strike_usd[rows], sigma[rows]
    tau = np.maximum(table.expiry_ms[rows] - valuation_ts_ms, 0) / MS_PER_YEAR
    first, which = _distinct_rows(np.column_stack([move_column, call, fwd, strike, tau, sig]))
    size = table.size[rows] * scale
    short = np.where(size < 0, -size, 0.0)
    cells = which * 2 * v + column
    shape = (first.size, 2 * v)
    w_value = _sums(cells, size, shape)
    w_mm = _sums(cells, short, shape)
    move_d, u_d, call_d = move_column[first], und[first], call[first]
    starts = np.flatnonzero(np.diff(move_d * 2 + call_d, prepend=-1))
    stops = np.concatenate([starts[1:], [first.size]])[: starts.size]
    segments = np.column_stack([starts, stops, move_d[starts], call_d[starts]]).astype(np.int64)
    call_mm = np.zeros(2 * v * m)
    for lo, hi, _, is_call in segments:
        if is_call:
            call_mm[np.arange(2 * v) * m + u_d[lo]] += OPTION_MM_BASE * w_mm[lo:hi].sum(axis=0)
    # Each row sums into one or two of its 2·venues columns: keep those, not the zeros.
    held = (w_value != 0) | (w_mm != 0)
    row, col = np.nonzero(held)
    f_d, k_d, tau_d, sig_d = fwd[first], strike[first], tau[first], sig[first]
    sqrt_tau = np.sqrt(tau_d)
    return _Options(
        segments=segments,
        ln_fk=np.log(f_d / k_d),
        kappa=k_d / f_d,
        sqrt_tau=sqrt_tau,
        sd=sig_d * sqrt_tau,
        floor_sd=np.minimum(vol_floor_frac, sig_d) * sqrt_tau,
        row_start=np.concatenate([[0], np.cumsum(held.sum(axis=1))]).astype(np.int64),
        cell=(col * m + u_d[row]).astype(np.int64),
        value_weight=w_value[row, col],
        mm_weight=w_mm[row, col],
        call_mm=call_mm,
    )


def evaluate(book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray) -> States:
    """Equity and maintenance (USD) per state; ``mult``/``shift``/``rel`` are k × underlyings
    (k × venues·underlyings for a book prepared with ``moves_per_venue``).

    State vol of an option is max(σ·(1 + rel) + shift, min(vol_floor, σ)).
    """
    t = book.table
    m, v = len(t.underlyings), len(t.venues)
    k = mult.shape[0]
    columns = move_columns(book)
    for name, arr in (("mult", mult), ("shift", shift), ("rel", rel)):
        if arr.shape != (k, columns):
            raise ValueError(
                f"{name} must be {k} × {columns} (states × move columns), got {arr.shape}"
            )
    value, mm_opt = _values(book, mult, shift, rel)
    pnl = (value - book.base_value).reshape(k, 2, v, m)
    mm = mm_opt.reshape(k, 2, v, m)
    mm = mm + _futures_mm(book, mult).reshape(k, 2, v, m)
    moved = book.index_usd * _cell_mult(book, mult)  # k × v × m
    coin_eq = book.equity_coin[None] + pnl[:, 0]
    cells: FloatArray = coin_eq * moved + pnl[:, 1]
    equity = cells.sum(axis=2) + book.equity_usd[None, :]
    maintenance = (mm[:, 0] * moved).sum(axis=2) + mm[:, 1].sum(axis=2)
    if book.portfolio_venues.any():
        maintenance[:, book.portfolio_venues] = _portfolio_mm(book, mult, shift, rel)[
            :, book.portfolio_venues
        ]
    return States(cells, equity, maintenance)


def move_columns(book: StressInputs) -> int:
    """Columns of a state's ``mult``/``shift``/``rel``: underlyings, or venues × underlyings."""
    m = len(book.table.underlyings)
    return len(book.table.venues) * m if book.moves_per_venue else m


def state_vol(book: StressInputs, shift: FloatArray, rel: FloatArray) -> FloatArray:
    """Vol per position in each state (k × n): the kernel's rule, for ``revalue`` cross-checks."""
    move = book.move_column
    s = book.vol[None, :] * (1.0 + rel[:, move]) + shift[:, move]
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
    groups = book.w_others.shape[1]
    value = np.zeros((k, groups))
    mm = np.zeros((k, groups))

    def part(first: int, stop: int) -> None:
        for lo in range(first, stop, STATE_PART):
            ks = slice(lo, min(lo + STATE_PART, stop))
            value[ks], mm[ks] = _values_part(book, mult[ks], shift[ks], rel[ks])

    run_parts(part, k, grain=STATE_PART, min_elements=_min_states(book.options.ln_fk.size))
    return value, mm


def _cell_mult(book: StressInputs, mult: FloatArray) -> FloatArray:
    """Each venue's multiplier of each underlying per state (k × venues × underlyings)."""
    k, v, m = mult.shape[0], len(book.table.venues), len(book.table.underlyings)
    if book.moves_per_venue:
        return mult.reshape(k, v, m)
    return np.broadcast_to(mult[:, None, :], (k, v, m))


def _min_states(per_state: int) -> int:
    """The fewest states worth splitting over threads, at ``per_state`` elements each."""
    return max(1, MIN_PARALLEL_ELEMENTS // max(per_state, 1))


def _values_part(
    book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """:func:`_values` for one part of the states."""
    op = book.options
    k = mult.shape[0]
    v, m = len(book.table.venues), len(book.table.underlyings)
    # The kernel adds a row's k states into its cells: cells × states, then transposed.
    value_t = np.zeros((2 * v * m, k))
    mm_t = np.repeat(op.call_mm[:, None], k, axis=1)
    option_sums(
        value_t,
        mm_t,
        segments=op.segments,
        ln_fk=op.ln_fk,
        kappa=op.kappa,
        sqrt_tau=op.sqrt_tau,
        sd=op.sd,
        floor_sd=op.floor_sd,
        row_start=op.row_start,
        cell=op.cell,
        value_weight=op.value_weight,
        mm_weight=op.mm_weight,
        ln_mult=_by_column(np.log(mult)),
        inv_mult=_by_column(1.0 / mult),
        vol_mult=_by_column(1.0 + rel),
        vol_add=_by_column(shift),
    )
    value, mm = value_t.T.copy(), mm_t.T.copy()
    # Linear keys hold Σ size·F0·coin: scale by the state's multiplier to get USD.
    lin = _cell_mult(book, mult).reshape(k, v * m)
    value[:, v * m :] *= lin
    mm[:, v * m :] *= lin
    rows, sub = book.others, book.other_table
    forward, move = book.forward_usd[rows], book.move_column[rows]
    step = max(1, BLOCK_ELEMENTS // max(rows.size, 1))
    for lo in range(0, k if rows.size else 0, step):
        ks = slice(lo, lo + step)
        f = forward * mult[ks, move]
        unit = unit_values(sub, f, np.zeros_like(f), book.valuation_ts_ms)
        value[ks] += unit @ book.w_others
    return value, mm


def _by_column(states: FloatArray) -> FloatArray:
    """A states × move columns figure as the kernel reads it: columns × states, in
    rows of their own (a fresh C-ordered array, one compiled variant for every caller)."""
    return np.array(states.T, dtype=np.float64, order="C")


def _inverse_futures_mm(
    table: PositionTable,
    rows: IntArray,
    *,
    forward_usd: FloatArray,
    key: IntArray,
    params: StandardParams,
) -> FloatArray:
    """Standard MM (coin) of the inverse futures and perps ``rows`` at a price multiplier M,
    summed per cell key as a + b/M + c/M² (3 × 2G), so no state touches a row.

    MM = (0.01 + f·n)·n for n coin of notional (as
    :func:`~bot.domain.margin.standard.future_margin_rates`): n = |size| for coin amounts,
    summed into a; n = n0/M with n0 = |size|/F0 for USD amounts, so b = Σ 0.01·n0 and
    c = Σ f·n0².
    Example (Deribit, f = 0.005 %): a 1,500,000 USD perp at F0 = 60,000 is n0 = 25 BTC:
    MM 0.28125 BTC at M = 1 (b = 0.25, c = 0.03125), 0.1328125 BTC at M = 2.
    """
    groups = 2 * len(table.venues) * len(table.underlyings)
    factor = params.factor_per_underlying(table.underlyings)[table.underlying_idx[rows]]
    size = np.abs(table.size[rows])
    usd = table.amount_is_usd[rows]
    n0 = np.where(usd, size / forward_usd[rows], size)
    mm0 = FUTURE_MM_BASE * n0
    extra = factor * n0**2
    weights = (np.where(usd, 0.0, mm0 + extra), np.where(usd, mm0, 0.0), np.where(usd, extra, 0.0))
    terms = [np.bincount(key[rows], weights=w, minlength=groups) for w in weights]
    return np.stack(terms).astype(np.float64)


def _futures_mm(book: StressInputs, mult: FloatArray) -> FloatArray:
    """Standard maintenance of futures and perps per state and cell key (k × 2G): the
    inverse ones by their closed form, the linear ones (notional tiers) row by row."""
    rows, sub = book.futures, book.future_table
    # k × 2G: one over the multiplier of each cell key's venue and underlying (key = c·m + u).
    k = mult.shape[0]
    inv_m = 1.0 / np.tile(_cell_mult(book, mult).reshape(k, -1), (1, 2))
    a, b, c = book.inverse_futures_mm
    out: FloatArray = a + inv_m * (b + c * inv_m)
    if not rows.size:
        return out
    forward, move = book.forward_usd[rows], book.move_column[rows]
    step = max(1, BLOCK_ELEMENTS // rows.size)

    def part(first: int, stop: int) -> None:  # blocks within each STATE_PART, as _values
        for head in range(first, stop, STATE_PART):
            end = min(head + STATE_PART, stop)
            for lo in range(head, end, step):
                ks = slice(lo, min(lo + step, end))
                f = forward * mult[ks, move]
                pm = position_margin(
                    sub, forward_usd=f, unit_value=np.zeros_like(f), params=book.margin.standard
                )
                out[ks] += pm.maintenance @ book.w_futures

    run_parts(part, mult.shape[0], grain=STATE_PART, min_elements=_min_states(rows.size))
    return out


def _portfolio_mm(
    book: StressInputs, mult: FloatArray, shift: FloatArray, rel: FloatArray
) -> FloatArray:
    """Portfolio-margin maintenance (USD) per state and venue, one risk matrix per state."""
    t = book.table
    rows = np.flatnonzero(book.portfolio_venues[t.venue_idx] & (t.size != 0))
    sub, move = subset(t, rows), book.move_column[rows]
    vols = state_vol(book, shift, rel)[:, rows]
    moved = book.index_usd * _cell_mult(book, mult)  # k × v × m
    out = np.zeros((mult.shape[0], len(t.venues)))
    for r in range(mult.shape[0]):
        f = book.forward_usd[rows] * mult[r, move]
        pm = portfolio_margin(
            sub,
            forward_usd=f,
            valuation_ts_ms=book.valuation_ts_ms,
            params=book.margin.portfolio,
            vol=vols[r],
        ).margin
        out[r] = (pm.maintenance_coin * moved[r]).sum(axis=1) + pm.maintenance_usd.sum(axis=1)
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


def _distinct_rows(inputs: FloatArray) -> tuple[IntArray, IntArray]:
    """(first row of each distinct row, in lexicographic order; each row's distinct index).

    ``np.unique(axis=0)`` does the same by sorting rows as opaque records, several times
    slower than one ``lexsort`` over the columns (0.22 s against 0.06 s at 90,000 rows).
    """
    order = np.lexsort(inputs.T[::-1])
    ordered = inputs[order]
    starts = np.ones(order.size, dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    which = np.empty(order.size, dtype=np.int64)
    which[order] = np.cumsum(starts) - 1
    return order[starts], which


def _sums(cell: IntArray, weight: FloatArray, shape: tuple[int, int]) -> FloatArray:
    """``shape`` matrix of the ``weight`` summed per flat ``cell`` index."""
    flat = np.bincount(cell, weights=weight, minlength=shape[0] * shape[1])
    return np.asarray(flat, dtype=np.float64).reshape(shape)


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
