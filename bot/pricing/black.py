"""Black-76 and Black-Scholes prices and Greeks, broadcast over every argument."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

FloatArray = NDArray[np.float64]
_INV_SQRT_2PI = 0.3989422804014327


@dataclass(frozen=True, slots=True)
class Greeks:
    """Price and Greeks per unit of underlying, in the forward's currency.

    ``delta`` is d price / d underlying (forward for Black-76, spot for
    Black-Scholes); ``gamma`` its derivative; ``vega`` and ``volga`` are per
    1.00 (100 vol points) of volatility; ``theta`` is d price / d calendar time
    per **year** (negative for a long option that decays); ``vanna`` is
    d delta / d vol per 1.00 of vol.
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    vanna: FloatArray
    volga: FloatArray


def black76(
    is_call: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    tau: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
) -> Greeks:
    """Black-76 price and Greeks of a European option on a forward.

    ``tau`` in years, ``vol`` and ``rate`` as fractions per year (continuous).
    """
    call = np.asarray(is_call, dtype=bool)
    f, k, t, v, r = (np.asarray(a, dtype=np.float64) for a in (forward, strike, tau, vol, rate))
    sqrt_t = np.sqrt(t)
    sd = v * sqrt_t
    d1 = (np.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    disc = np.exp(-r * t)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    sign = np.where(call, 1.0, -1.0)
    nd1 = ndtr(sign * d1)
    nd2 = ndtr(sign * d2)
    price = disc * sign * (f * nd1 - k * nd2)
    delta = disc * sign * nd1
    gamma = disc * pdf / (f * sd)
    vega = disc * f * pdf * sqrt_t
    theta = r * price - disc * f * pdf * v / (2.0 * sqrt_t)
    vanna = -disc * pdf * d2 / v
    volga = vega * d1 * d2 / v
    return Greeks(price, delta, gamma, vega, theta, vanna, volga)


def black_scholes(
    is_call: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    tau: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend: ArrayLike = 0.0,
) -> Greeks:
    """Black-Scholes(-Merton) price and Greeks with a continuous dividend yield.

    Uses F = S·e^((r−q)τ) and the chain rule from :func:`black76`.
    """
    s, t, r, q = (np.asarray(a, dtype=np.float64) for a in (spot, tau, rate, dividend))
    growth = np.exp((r - q) * t)
    g = black76(is_call, s * growth, strike, t, vol, r)
    delta = g.delta * growth
    gamma = g.gamma * growth * growth
    # d/dt at fixed spot adds the forward's own drift: dF/dt = (r-q)·F.
    theta = g.theta - g.delta * (r - q) * s * growth
    vanna = g.vanna * growth
    return Greeks(g.price, delta, gamma, g.vega, theta, vanna, g.volga)
