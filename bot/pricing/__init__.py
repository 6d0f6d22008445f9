"""Vectorised option pricing: Black-76 / Black-Scholes Greeks, coin-settled options,
implied volatility and SVI smiles.

Every function is pure and broadcasts numpy arrays over all its arguments, so
one call values a whole book (or a Monte Carlo grid of books). Units: prices
are in the currency of the forward or spot (USD for crypto options) except
where a name says ``_coin``; ``tau`` is in years; ``vol`` and ``rate`` are
fractions per year (0.60 = 60 %); vega and volga are per 1.00 of vol (divide
by 100 for a vol point) and theta is per year (divide by 365 for a day).

- :func:`black76`, :func:`black_scholes` return :class:`Greeks`: price,
  delta, gamma, vega, theta, vanna, volga. At expiry or zero vol an option is
  worth its intrinsic value; invalid inputs give NaN, never an exception.
- :func:`coin_settled` values Deribit-style inverse options: premium in coin
  (Black-76 value over the forward), Black-Scholes delta and the
  premium-adjusted ("net transaction") delta.
- :func:`implied_vol` inverts Black-76 to ~1e-13 (Jäckel's "Let's Be
  Rational"), and returns NaN for prices outside the no-arbitrage bounds.
- :func:`fit_svi` fits a raw SVI smile to one expiry and checks it for
  butterfly arbitrage (:class:`SviFit`, :class:`SviParams`).

Example: ``black76(True, 60_000.0, 65_000.0, 30 / 365, 0.6).delta`` is the
forward delta of a one-month 65k BTC call at 60 % vol.
"""

from bot.pricing.black import Greeks, black76, black_scholes
from bot.pricing.coin import CoinOption, coin_settled
from bot.pricing.implied import implied_vol
from bot.pricing.svi import ButterflyCheck, SviFit, SviParams, fit_svi

__all__ = [
    "ButterflyCheck",
    "CoinOption",
    "Greeks",
    "SviFit",
    "SviParams",
    "black76",
    "black_scholes",
    "coin_settled",
    "fit_svi",
    "implied_vol",
]
