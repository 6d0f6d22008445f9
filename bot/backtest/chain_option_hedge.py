"""The option-hedge loop over a recorded chain, proposals auto-approved (issue 16 §3).

Per underlying with a vega limit, the hedge is one listed call of the recorded
chain (:func:`bot.backtest.chain_data.pick_hedge_call`). At each snapshot, the
book's standardised vega on bucket ``all`` (Σ size × vega × 0.01 ×
√(30 / days), USD per vol point, :mod:`bot.domain.greek_limits`' convention;
the call held included) is compared with the limit: past
``hard_vega_usd_per_volpt``, whole lots of the call are bought or sold to bring
it back to ``soft_vega_usd_per_volpt`` (the proposal's aim, the optimizer's
one-candidate answer in closed form, :mod:`bot.backtest.vega_lots`), filled
at the recorded ask or bid. Where that side was not quoted nothing trades: a
desk cannot fill at a quote that is not there. The book does not depend on the
delta hedge, so the call's position is decided once, before any strategy runs,
and every strategy hedges the same book, the call's delta included.

A trade's costs are its distance from the mark (``slippage``: quantity × (fill
− mark)) and ``fee_frac`` of the index per coin (``fees``; Deribit's option
taker fee is 0.0003 of the underlying). Example: buying 2 BTC of a call marked
2,400 USD, ask 2,460, index 60,000, fee 0.0003: slippage 2 × 60 = 120 USD,
fees 2 × 60,000 × 0.0003 = 36 USD.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from bot.backtest.vega_lots import vega_hedge_coin
from bot.pricing.arrays import FloatArray


@dataclass(frozen=True, slots=True)
class VegaLimit:
    """One underlying's standardised vega limits on bucket ``all``, USD per vol point."""

    underlying: str
    hard_vega_usd_per_volpt: float
    soft_vega_usd_per_volpt: float

    def __post_init__(self) -> None:
        hard, soft = self.hard_vega_usd_per_volpt, self.soft_vega_usd_per_volpt
        if not 0 < soft <= hard < math.inf:
            raise ValueError(
                f"{self.underlying} vega limits must satisfy 0 < soft <= hard, got {soft} and "
                f"{hard}"
            )


@dataclass(frozen=True, slots=True)
class ChainOptionHedge:
    """The loop's settings: the limits, the call's lot (coin), the fee per coin of option as
    a fraction of the index, and the call's shortest tenor (days)."""

    limits: tuple[VegaLimit, ...]
    lot_coin: float = 0.1
    fee_frac: float = 0.0003
    min_tenor_days: float = 0.0

    def __post_init__(self) -> None:
        if not self.limits:
            raise ValueError("the option hedge needs a vega limit on at least one underlying")
        if not (math.isfinite(self.lot_coin) and self.lot_coin > 0):
            raise ValueError(f"option hedge lot_coin must be > 0, got {self.lot_coin}")
        if not (math.isfinite(self.fee_frac) and 0 <= self.fee_frac < 0.1):
            raise ValueError(f"option hedge fee_frac must be in [0, 0.1), got {self.fee_frac}")
        if not (math.isfinite(self.min_tenor_days) and self.min_tenor_days >= 0):
            raise ValueError(f"option hedge min_tenor_days must be >= 0, got {self.min_tenor_days}")

    def limit_of(self, underlying: str) -> VegaLimit | None:
        return next((lim for lim in self.limits if lim.underlying == underlying), None)


@dataclass(frozen=True, slots=True)
class HedgeTrades:
    """The call positions the loop holds, (T, legs) (the other legs' sizes unchanged), and
    per step (T, underlyings) its trades' slippage and fees, USD."""

    size_coin: FloatArray
    slippage_usd: FloatArray
    fees_usd: FloatArray
    trades: int


def hedge_trades(
    size_coin: FloatArray,
    leg_underlying: np.ndarray,
    calls: Mapping[int, VegaLimit],
    *,
    std_vega_per_coin: FloatArray,
    premium_usd: FloatArray,
    bid_usd: FloatArray,
    ask_usd: FloatArray,
    spot_usd: FloatArray,
    lot_coin: float,
    fee_frac: float,
) -> HedgeTrades:
    """The loop over the snapshots (module docstring).

    ``size_coin`` (legs,) holds the book's sizes, 0 for the calls; ``calls``
    maps a call's column to its underlying's limit; ``leg_underlying`` (legs,)
    is each leg's underlying column. ``std_vega_per_coin`` (T, legs) is each
    leg's standardised vega per coin (0 where it is not live or has no IV);
    ``premium_usd``, ``bid_usd`` and ``ask_usd`` (T, legs) its mark and quotes,
    ``spot_usd`` (T, underlyings) the index, all USD per coin.
    """
    n_t, n_u = std_vega_per_coin.shape[0], spot_usd.shape[1]
    sizes = np.asarray(size_coin, dtype=np.float64).copy()
    held = np.empty((n_t, sizes.size))
    slippage, fees = np.zeros((n_t, n_u)), np.zeros((n_t, n_u))
    trades = 0
    for k in range(n_t):
        for j, lim in calls.items():
            u = int(leg_underlying[j])
            mine = leg_underlying == u
            dq = float(
                vega_hedge_coin(
                    np.dot(sizes[mine], std_vega_per_coin[k, mine]),
                    std_vega_per_coin[k, j],
                    hard=lim.hard_vega_usd_per_volpt,
                    soft=lim.soft_vega_usd_per_volpt,
                    lot_coin=lot_coin,
                )
            )
            if dq == 0:
                continue
            fill = ask_usd[k, j] if dq > 0 else bid_usd[k, j]
            if not (math.isfinite(fill) and math.isfinite(premium_usd[k, j])):
                continue  # that side not quoted: no fill
            sizes[j] += dq
            slippage[k, u] += dq * (fill - premium_usd[k, j])
            fees[k, u] += abs(dq) * fee_frac * spot_usd[k, u]
            trades += 1
        held[k] = sizes
    return HedgeTrades(held, slippage, fees, trades)
