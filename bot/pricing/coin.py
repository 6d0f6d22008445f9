"""Coin-settled (inverse) options, as Deribit lists them (docs/architecture.md §3).

A Deribit BTC call pays max(S_T − K, 0)/S_T BTC at expiry: a USD payoff paid
in coin. Its USD value today is e^(−r_usd·τ)·B(F), with B the undiscounted
Black-76 value on the forward F of that expiry; converting at spot S gives
the coin premium e^(−r_usd·τ)·B(F)/S = e^(−r_coin·τ)·B(F)/F, because
F = S·e^((r_usd − r_coin)·τ). So the premium divides by the **forward** and
discounts at the coin's own rate. Dividing the USD value by the index instead
would misprice by the basis factor F/S; Deribit marks against the forward of
the option's expiry with r = 0, i.e. premium = B(F)/F.

The premium-adjusted ("net transaction") delta is F·∂V_coin/∂F
= Δ_BS − V_coin: holding the option also holds its premium in coin, whose USD
value moves one for one with the coin price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bot.pricing.arrays import FloatArray
from bot.pricing.black import black76


@dataclass(frozen=True, slots=True)
class CoinOption:
    """Value and deltas per 1 coin of option amount (one Deribit BTC option = 1 BTC).

    ``price_coin`` is the premium in coin; ``delta`` (Black-Scholes, dV_usd/dF)
    and ``net_delta`` (premium-adjusted) are coin of underlying exposure per
    coin of option amount.
    """

    price_coin: FloatArray
    delta: FloatArray
    net_delta: FloatArray


def coin_settled(  # noqa: PLR0917 - positional, like black76 (issue 2)
    is_call: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    tau: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
) -> CoinOption:
    """Premium in coin and deltas of a coin-settled option; broadcasts like :func:`black76`.

    ``forward`` and ``strike`` in USD per coin (the forward of the option's
    expiry), ``tau`` in years, ``vol`` a fraction per year, ``rate`` the
    continuously compounded interest rate of the settlement coin (Deribit: 0).

    Worked example (docs/architecture.md §3): F = S = K = 60,000 USD, τ = 30/365,
    σ = 60 %, r = 0 gives d1 = 0.0860, a premium of N(d1) − N(d2)
    = 0.06854 BTC, Δ_BS = N(d1) = 0.5343 and net delta 0.5343 − 0.0685 = 0.4657.
    """
    g = black76(is_call, forward, strike, tau, vol, rate)
    with np.errstate(all="ignore"):  # invalid elements are already NaN
        price_coin = np.divide(g.price, forward, out=np.empty_like(g.price))
    net_delta = np.subtract(g.delta, price_coin, out=np.empty_like(g.delta))
    return CoinOption(price_coin, g.delta, net_delta)
