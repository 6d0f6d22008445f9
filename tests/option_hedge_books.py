"""Whitelists built from Black-76 Greeks of BTC options (F = 60,000), for the option-hedge tests
and its bench."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from bot.domain.greek_limits import STANDARD_DAYS
from bot.domain.ids import Currency
from bot.domain.option_hedge import Candidates
from bot.pricing import black76

F = 60_000.0
BTC = Currency("BTC")


def candidates(
    days: Sequence[float],
    strikes: Sequence[float],
    *,
    buckets: Sequence[str],
    calls: Sequence[bool] | None = None,
    cost_usd: float = 30.0,
    lot_coin: float = 0.1,
    min_coin: float = 0.1,
    cap_coin: float = 50.0,
    vol: float = 0.6,
) -> Candidates:
    """One option per (days, strike, bucket) triple, Greeks per coin from one Black-76 call."""
    n = len(days)
    d = np.asarray(days, dtype=float)
    is_call = np.ones(n, dtype=bool) if calls is None else np.asarray(calls)
    g = black76(is_call, F, np.asarray(strikes, dtype=float), d / 365.0, vol)
    return Candidates(
        symbols=tuple(
            f"BTC-{x:g}D-{k:g}-{'C' if c else 'P'}"
            for x, k, c in zip(days, strikes, is_call, strict=True)
        ),
        underlying=(BTC,) * n,
        bucket=tuple(buckets),
        vega_std_usd_per_volpt=g.vega * 0.01 * np.sqrt(STANDARD_DAYS / d),
        gamma_usd_per_pct=0.01 * F * g.gamma * F,
        delta_coin=g.delta,
        cost_usd=np.full(n, cost_usd),
        premium_usd=g.price,
        lot_coin=np.full(n, lot_coin),
        min_coin=np.full(n, min_coin),
        max_buy_coin=np.full(n, cap_coin),
        max_sell_coin=np.full(n, cap_coin),
    )


def vega_std_per_coin(days: float, strike: float = F, vol: float = 0.6) -> float:
    """Standardised vega of one coin of a call, USD per vol point."""
    return float(black76(True, F, strike, days / 365.0, vol).vega) * 0.01 * math.sqrt(30 / days)
