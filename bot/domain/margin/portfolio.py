"""Deribit portfolio margin (S:PM): the worst loss of a risk matrix of price × vol shocks.

Published methodology (Deribit support, "Portfolio Margin", and the model
parameters ``private/pme/simulate`` returns, e.g. BTC: price_range 0.16,
buckets_count 4, volatility_range_up 0.5, volatility_range_down 0.25,
min_volatility_for_shock_up 0.5, short_term_vega_power 0.3,
long_term_vega_power 0.13, extended_dampener 100,000, mm_factor 0.8):

- price moves: ±price_range in buckets_count steps each side plus zero
  (9 moves: −16 %, −12 %, ..., +16 %);
- three vol scenarios per move: up σ·(1 + range_up·w) floored at
  min_volatility_for_shock_up, same, down σ·(1 − range_down·w) floored at 0,
  with w = (30 / days to expiry)^power, power short-term below 30 days and
  long-term above;
- extended table: moves −66 %, −33 %, +50 %, +100 %, ..., +500 %, vol up only,
  counting "only a fraction of simulated P&L" and "a dampener";
- each settlement currency is margined separately (segregated PM); the
  requirement is the worst scenario loss; maintenance is ``mm_factor`` of it.

Two rules are our reading, because the published summary names them without a
formula: the extended fraction is price_range / |move| × extended_table_factor
(the weights Paradex publishes for its Deribit-style table, 24 % at −66 % ...
3.2 % at +500 %, are exactly 0.16/|move|), and the dampener (USD) is
subtracted from each weighted extended loss, floored at zero, so a small far
out-of-the-money short does not trigger it. Contingency add-ons, the delta
shock and the roll shock are not modelled (configure a margin buffer instead).

Each (venue, underlying) is one account per settlement kind: coin P&L of the
inverse positions (coin-margined account), USD P&L of the linear ones.

Worked example (built by hand from these rules; Deribit publishes no numeric
example): short 1 BTC inverse call, F = K = 60,000, 30 days, σ = 60 %: w = 1,
vol up = max(0.9, 0.5) = 0.9, vol down = 0.45. The worst cell is +16 % with vol
up: the call goes from 0.06854 BTC to B(69,600, 0.9)/69,600 = 0.17981 BTC, a
loss of 0.11127 BTC; the extended +500 % cell loses 0.76479 BTC × 0.032 =
0.02447 BTC, below the 100,000 USD (1.667 BTC) dampener. IM = 0.11127 BTC,
MM = 0.8 × IM = 0.08901 BTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.margin.standard import AccountMargin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import per_position, revalue
from bot.domain.timeunits import MS_PER_DAY
from bot.pricing.arrays import FloatArray

DEFAULT_EXTENDED_MOVES: Final = (-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)


@dataclass(frozen=True, slots=True)
class PortfolioParams:
    """Deribit PM parameters (BTC defaults from ``private/pme/simulate``); fractions, days."""

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
    mm_factor: float = 0.8

    def __post_init__(self) -> None:
        if not (0 < self.price_range_frac < 1 and self.price_buckets >= 1):
            raise ValueError("price_range_frac must be in (0, 1) and price_buckets >= 1")
        if not 0 < self.mm_factor <= 1:
            raise ValueError(f"mm_factor must be in (0, 1], got {self.mm_factor}")
        if any(m <= -1 or m == 0 for m in self.extended_moves_frac):
            raise ValueError("extended moves must be > -1 and non-zero")

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
    """One column per risk-matrix cell: standard cells first, then the extended ones."""

    move_frac: FloatArray
    vol_shift_rel: FloatArray
    vol_floor: FloatArray
    weight: FloatArray
    extended: NDArray[np.bool_]


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
    )


@dataclass(frozen=True, slots=True)
class PortfolioMargin:
    """Requirements (``margin``) and the risk matrices they come from.

    ``pnl_coin``/``pnl_usd``: scenarios × venues × underlyings, unweighted P&L
    of inverse (coin) and linear (USD) positions; ``loss_coin``/``loss_usd``
    the weighted, dampened losses whose maximum is the IM.
    """

    margin: AccountMargin
    scenarios: Scenarios
    pnl_coin: FloatArray
    pnl_usd: FloatArray
    loss_coin: FloatArray
    loss_usd: FloatArray


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
    fwd = per_position("forward_usd", forward_usd, len(table))
    rv = revalue(
        table,
        forward_usd=fwd,
        valuation_ts_ms=valuation_ts_ms,
        price_mult=1.0 + sc.move_frac,
        vol_shift_rel=sc.vol_shift_rel,
        vol_floor=sc.vol_floor,
        term_weight=p.term_weight(table, valuation_ts_ms),
        vol=vol,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        damp_coin = np.where(rv.index_usd > 0, p.extended_dampener_usd / rv.index_usd, np.inf)
    loss_coin = _losses(rv.pnl_coin, sc, damp_coin)
    loss_usd = _losses(rv.pnl_usd, sc, np.full(len(table.underlyings), p.extended_dampener_usd))
    im_coin, im_usd = loss_coin.max(axis=0), loss_usd.max(axis=0)
    margin = AccountMargin(
        underlyings=table.underlyings,
        venues=table.venues,
        initial_coin=im_coin,
        maintenance_coin=p.mm_factor * im_coin,
        initial_usd=im_usd,
        maintenance_usd=p.mm_factor * im_usd,
        index_usd=rv.index_usd,
    )
    return PortfolioMargin(margin, sc, rv.pnl_coin, rv.pnl_usd, loss_coin, loss_usd)


def _losses(pnl: FloatArray, sc: Scenarios, dampener: FloatArray) -> FloatArray:
    """Weighted losses per cell (>= 0); extended cells lose the dampener (per underlying)."""
    loss = np.maximum(-pnl, 0.0) * sc.weight[:, None, None]
    damped = np.maximum(loss - dampener[None, None, :], 0.0)
    out: FloatArray = np.where(sc.extended[:, None, None], damped, loss)
    return out


__all__ = ["PortfolioMargin", "PortfolioParams", "Scenarios", "portfolio_margin"]
