"""Deribit portfolio margin (S:PM): the worst loss of a risk matrix of price × vol shocks.

Sources: Deribit's support article "Portfolio Margin" (the components, no
formulas) and the API reference of ``private/pme/simulate``
(docs.deribit.com/api-reference/account-management/private-simulate), which
publishes the model parameters (BTC: price_range 0.16, buckets_count 4,
volatility_range_up 0.5, volatility_range_down 0.25,
min_volatility_for_shock_up 0.5, short_term_vega_power 0.3,
long_term_vega_power 0.13, extended_table_factor 1; per settlement currency
extended_dampener btc 100,000 and usd 25,000, min_annualised_move 0.01;
mm_factor 0.8) and a numeric example, reproduced below and in the tests.

- price moves: ±price_range in buckets_count steps each side plus zero
  (9 moves: −16 %, −12 %, ..., +16 %);
- three vol scenarios per move: up σ·(1 + range_up·w) floored at
  min_volatility_for_shock_up, same, down σ·(1 − range_down·w) floored at 0,
  with w = (30 / days to expiry)^power, power short-term below 30 days and
  long-term above;
- extended table: moves −66 %, −33 %, +50 %, +100 %, ..., +500 %, vol up only,
  counting "only a fraction of simulated P&L" less "a dampener";
- roll shock: min_annualised_move × Σ|Q| over the futures and perpetuals, Q
  each position in coin (gross: a long and a short both count);
- risk matrix margin = worst loss + roll shock; each settlement currency is
  margined separately (segregated PM); IM is the risk matrix margin and MM is
  ``mm_factor`` of it.

Rules read from the published example: the risk vector of a future or
perpetual in an extended cell is its P&L at the edge of the standard range on
the same side (−66 % and −33 % give the −16 % P&L, +50 % ... +500 % the +16 %
one), which is "price_range/|move| of the P&L" exactly for a linear position;
the roll shock is 1 % of the gross futures position. Rules that remain our
reading, because nothing published pins them: an option's extended cell
counts price_range / |move| × extended_table_factor of its P&L (the weights
Paradex publishes for its Deribit-style table, 24 % at −66 % ... 3.2 % at
+500 %, are exactly 0.16/|move|), and the dampener (USD, converted at the
index) is subtracted from each extended loss, floored at zero (the published
example's extended losses are all below it, as this reading says). Not
modelled: the delta shock (parameters max_delta_shock 0.1 and
delta_total_liq_shock_threshold 20,000,000 are published, the formula is not;
the example's delta shock is 0), annualised_move_risk (0.075, role not
documented: possibly a roll move growing with a future's term, which would not
bind under ~49 days), the X:PM correlation contingency and P&L offsets, and
the MMP and open-order margin Deribit adds to IM (configure a margin buffer).

Each (venue, underlying) is one account per settlement kind: coin P&L of the
inverse positions (coin-margined account), USD P&L of the linear ones.

Worked example (Deribit's published ``private/pme/simulate`` response, BTC,
index 65,666.19): long 0.314538364 BTC of BTC-PERPETUAL, short 0.001187534 BTC
of BTC-28JUN24. An inverse future's coin P&L at move m is Q·m/(1 + m): at
−16 % the perpetual loses 0.314538364 × 0.16/0.84 = 0.0599120693 BTC and the
future gains 0.0002261970, so the worst case is 0.0596858724 BTC (the −66 %
cell counts the −16 % P&L, −0.0596858724 BTC, well inside the 100,000 USD =
1.52 BTC dampener). Roll shock 0.01 × (0.314538364 + 0.001187534) =
0.00315725898 BTC; IM = 0.0596858724 + 0.0031572590 = 0.0628431314 BTC
(Deribit: 0.06284313098), MM = 0.8 × IM = 0.0502745051 BTC (Deribit:
0.050274504784). Deribit's initial_margin 0.122861343 adds 0.06 of MMP margin
and 0.000018212 of open-order margin, which no position implies.

Second example, an option (built by hand from these rules): short 1 BTC inverse
call, F = K = 60,000, 30 days, σ = 60 %: w = 1, vol up = max(0.9, 0.5) = 0.9,
vol down = 0.45. The worst cell is +16 % with vol up: the call goes from
0.06854 BTC to B(69,600, 0.9)/69,600 = 0.17981 BTC, a loss of 0.11127 BTC; the
extended +500 % cell loses 0.76479 BTC × 0.032 = 0.02447 BTC, below the
100,000 USD (1.667 BTC) dampener; no future, no roll shock. IM = 0.11127 BTC,
MM = 0.8 × IM = 0.08901 BTC.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.margin.standard import AccountMargin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import index_per_underlying, per_position, revalue
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.units import amount_to_coin
from bot.pricing.arrays import FloatArray

DEFAULT_EXTENDED_MOVES: Final = (-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)


@dataclass(frozen=True, slots=True)
class PortfolioParams:
    """Deribit PM parameters (BTC defaults from ``private/pme/simulate``); fractions, days.

    ``extended_dampener_usd`` applies to coin-settled (inverse) positions,
    ``linear_extended_dampener_usd`` to USD-settled ones (Deribit's btc and usd
    ``extended_dampener``); ``roll_shock_frac`` is ``min_annualised_move``.
    """

    price_range_frac: float = 0.16
    price_buckets: int = 4
    vol_range_up_frac: float = 0.5
    vol_range_down_frac: float = 0.25
    min_vol_for_shock_up_frac: float = 0.5
    short_term_vega_power: float = 0.30
    long_term_vega_power: float = 0.13
    vega_power_cutoff_days: float = 30.0
    min_days: float = 1.0
    extended_moves_frac: tuple[float, ...] = DEFAULT_EXTENDED_MOVES
    extended_table_factor: float = 1.0
    extended_dampener_usd: float = 100_000.0
    linear_extended_dampener_usd: float = 25_000.0
    roll_shock_frac: float = 0.01
    mm_factor: float = 0.8

    def __post_init__(self) -> None:
        if not (0 < self.price_range_frac < 1 and self.price_buckets >= 1):
            raise ValueError("price_range_frac must be in (0, 1) and price_buckets >= 1")
        if not 0 < self.mm_factor <= 1:
            raise ValueError(f"mm_factor must be in (0, 1], got {self.mm_factor}")
        if any(m <= -1 or m == 0 for m in self.extended_moves_frac):
            raise ValueError("extended moves must be > -1 and non-zero")
        if not self.roll_shock_frac >= 0:
            raise ValueError(f"roll_shock_frac must be >= 0, got {self.roll_shock_frac}")

    def standard_moves(self) -> FloatArray:
        """The 2·buckets + 1 evenly spaced price moves, zero included."""
        return np.linspace(
            -self.price_range_frac, self.price_range_frac, 2 * self.price_buckets + 1
        )

    def term_weight(self, table: PositionTable, valuation_ts_ms: int) -> FloatArray:
        """(30 / days)^power per position (1 for non-options), days floored at ``min_days``."""
        days = np.maximum((table.expiry_ms - valuation_ts_ms) / MS_PER_DAY, self.min_days)
        short = days < self.vega_power_cutoff_days
        power = np.where(short, self.short_term_vega_power, self.long_term_vega_power)
        w = (self.vega_power_cutoff_days / days) ** power
        return np.where(table.kind == KindCode.OPTION, w, 1.0)


@dataclass(frozen=True, slots=True)
class Scenarios:
    """One column per risk-matrix cell: standard cells first, then the extended ones.

    ``move_frac`` and ``weight`` are what options see (an extended cell counts
    ``weight`` of the P&L at its move); futures, perpetuals and spot see
    ``delta_one_move_frac`` at full weight, the edge of the standard range in
    an extended cell (Deribit's published risk vectors).
    """

    move_frac: FloatArray
    vol_shift_rel: FloatArray
    vol_floor: FloatArray
    weight: FloatArray
    extended: NDArray[np.bool_]
    delta_one_move_frac: FloatArray


def scenarios(params: PortfolioParams) -> Scenarios:
    """Standard moves × (vol up, same, down), then extended moves at vol up."""
    p = params
    moves = p.standard_moves()
    rel = np.array([p.vol_range_up_frac, 0.0, -p.vol_range_down_frac])
    floor = np.array([p.min_vol_for_shock_up_frac, 0.0, 0.0])
    ext = np.asarray(p.extended_moves_frac, dtype=np.float64)
    n_std, n_ext = moves.size * 3, ext.size
    return Scenarios(
        move_frac=np.concatenate([np.repeat(moves, 3), ext]),
        vol_shift_rel=np.concatenate(
            [np.tile(rel, moves.size), np.full(n_ext, p.vol_range_up_frac)]
        ),
        vol_floor=np.concatenate(
            [np.tile(floor, moves.size), np.full(n_ext, p.min_vol_for_shock_up_frac)]
        ),
        weight=np.concatenate(
            [np.ones(n_std), p.price_range_frac / np.abs(ext) * p.extended_table_factor]
        ),
        extended=np.concatenate([np.zeros(n_std, dtype=bool), np.ones(n_ext, dtype=bool)]),
        delta_one_move_frac=np.concatenate(
            [np.repeat(moves, 3), np.sign(ext) * p.price_range_frac]
        ),
    )


@dataclass(frozen=True, slots=True)
class PortfolioMargin:
    """Requirements (``margin``) and the risk matrices they come from.

    ``pnl_coin``/``pnl_usd``: scenarios × venues × underlyings, the risk vector
    of inverse (coin) and linear (USD) positions, extended cells already
    reduced to their counted fraction (Deribit's ``initial_risk_vectors``
    summed); ``loss_coin``/``loss_usd`` the dampened losses whose maximum is
    the worst case; ``roll_shock_coin``/``roll_shock_usd`` (venues ×
    underlyings) the roll shock added to it.
    """

    margin: AccountMargin
    scenarios: Scenarios
    pnl_coin: FloatArray
    pnl_usd: FloatArray
    loss_coin: FloatArray
    loss_usd: FloatArray
    roll_shock_coin: FloatArray
    roll_shock_usd: FloatArray


def portfolio_margin(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    params: PortfolioParams | None = None,
    vol: ArrayLike | None = None,
) -> PortfolioMargin:
    """Deribit S:PM per venue × underlying (module docstring); vol defaults to ``mark_iv``."""
    p = PortfolioParams() if params is None else params
    sc = scenarios(p)
    n, v, m = len(table), len(table.venues), len(table.underlyings)
    fwd = per_position("forward_usd", forward_usd, n)
    vols = None if vol is None else per_position("vol", vol, n)
    weight = p.term_weight(table, valuation_ts_ms)
    option = table.kind == KindCode.OPTION
    pnl_coin = np.zeros((sc.move_frac.size, v, m))
    pnl_usd = np.zeros_like(pnl_coin)
    for rows, moves, counted in (
        (option, sc.move_frac, sc.weight),
        (~option, sc.delta_one_move_frac, np.ones_like(sc.weight)),
    ):
        idx = np.flatnonzero(rows)
        if not idx.size:
            continue
        rv = revalue(
            _rows(table, idx),
            forward_usd=fwd[idx],
            valuation_ts_ms=valuation_ts_ms,
            price_mult=1.0 + moves,
            vol_shift_rel=sc.vol_shift_rel,
            vol_floor=sc.vol_floor,
            term_weight=weight[idx],
            vol=None if vols is None else vols[idx],
        )
        pnl_coin += rv.pnl_coin * counted[:, None, None]
        pnl_usd += rv.pnl_usd * counted[:, None, None]
    index = index_per_underlying(table, fwd)
    with np.errstate(invalid="ignore", divide="ignore"):
        damp_coin = np.where(index > 0, p.extended_dampener_usd / index, np.inf)
    loss_coin = _losses(pnl_coin, sc.extended, damp_coin)
    loss_usd = _losses(pnl_usd, sc.extended, np.full(m, p.linear_extended_dampener_usd))
    roll_coin, roll_usd = roll_shock(table, fwd, p.roll_shock_frac)
    im_coin = loss_coin.max(axis=0, initial=0.0) + roll_coin
    im_usd = loss_usd.max(axis=0, initial=0.0) + roll_usd
    margin = AccountMargin(
        underlyings=table.underlyings,
        venues=table.venues,
        initial_coin=im_coin,
        maintenance_coin=p.mm_factor * im_coin,
        initial_usd=im_usd,
        maintenance_usd=p.mm_factor * im_usd,
        index_usd=index,
    )
    return PortfolioMargin(margin, sc, pnl_coin, pnl_usd, loss_coin, loss_usd, roll_coin, roll_usd)


def roll_shock(
    table: PositionTable, forward_usd: FloatArray, frac: float
) -> tuple[FloatArray, FloatArray]:
    """``frac`` × Σ|Q| of futures and perpetuals per venue × underlying: (coin, USD).

    Q is each position in coin (a USD-counted amount over its forward); inverse
    positions add coin, linear ones their USD notional |Q|·F. Example
    (Deribit's): +0.314538364 and −0.001187534 BTC at 1 % → 0.00315725898 BTC.
    """
    m, v = len(table.underlyings), len(table.venues)
    live = ((table.kind == KindCode.FUTURE) | (table.kind == KindCode.PERPETUAL)) & (
        table.size != 0
    )
    f = np.where(live, forward_usd, 1.0)
    coin = np.where(live, np.abs(amount_to_coin(table.size, table.amount_is_usd, f)), 0.0)
    group = table.venue_idx * m + table.underlying_idx
    inverse = table.is_inverse
    sums = [
        np.bincount(group, weights=w, minlength=v * m).astype(np.float64).reshape(v, m)
        for w in (np.where(inverse, coin, 0.0), np.where(inverse, 0.0, coin * f))
    ]
    return frac * sums[0], frac * sums[1]


def _rows(table: PositionTable, rows: NDArray[np.intp]) -> PositionTable:
    """The positions ``rows`` of ``table``; venues, underlyings and index unchanged."""
    cols = {
        f.name: getattr(table, f.name)[rows]
        for f in fields(table)
        if f.name not in ("underlyings", "venues", "index_usd", "symbols")
    }
    return PositionTable(
        underlyings=table.underlyings,
        venues=table.venues,
        index_usd=table.index_usd.copy(),
        symbols=tuple(table.symbols[i] for i in rows) if table.symbols else (),
        **cols,
    )


def _losses(pnl: FloatArray, extended: NDArray[np.bool_], dampener: FloatArray) -> FloatArray:
    """Losses per cell (>= 0); extended cells lose the dampener (per underlying)."""
    loss = np.maximum(-pnl, 0.0)
    damped = np.maximum(loss - dampener[None, None, :], 0.0)
    out: FloatArray = np.where(extended[:, None, None], damped, loss)
    return out


__all__ = ["PortfolioMargin", "PortfolioParams", "Scenarios", "portfolio_margin", "roll_shock"]
