"""The option book of a backtest: legs, parsing, and its vectorised revaluation.

A leg is a European call or put with a strike in USD, an expiry in years from
the start and a signed quantity in coin (negative = written). A linear leg pays
its premium and payoff in USD; a coin-settled (inverse, Deribit-style) leg pays
them in coin, so the writer holds the premium as coin and that coin is delta
(docs/architecture.md §3). With the coin's own rate at 0, the USD value of a
coin-settled option is the Black-Scholes value on spot (see
:func:`bot.pricing.coin.coin_settled`: e^(−r·τ)·B(F) with F = S·e^(r·τ)), so
every leg is revalued with :func:`bot.pricing.black_scholes` and only the
cash flows differ.

On the command line a leg is ``KIND:STRIKE:EXPIRY_YEARS:QUANTITY[:coin]``, e.g.
``call:100:0.0833:-1`` writes one one-month call struck at 100 USD.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np

from bot.domain.greek_limits import MIN_DAYS, STANDARD_DAYS
from bot.domain.timeunits import DAYS_PER_YEAR
from bot.pricing import black_scholes
from bot.pricing.arrays import FloatArray

Settlement = Literal["linear", "coin"]


class BookError(ValueError):
    """A book that cannot be built; the message names the leg or key and what is wrong."""


@dataclass(frozen=True, slots=True)
class OptionLeg:
    """One European option position; ``quantity_coin`` < 0 is written (short)."""

    is_call: bool
    strike_usd: float
    expiry_years: float
    quantity_coin: float
    settlement: Settlement = "linear"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.strike_usd) and self.strike_usd > 0):
            raise BookError(f"strike must be a positive number of USD, got {self.strike_usd}")
        if not (math.isfinite(self.expiry_years) and self.expiry_years > 0):
            raise BookError(f"expiry must be a positive number of years, got {self.expiry_years}")
        if not (math.isfinite(self.quantity_coin) and self.quantity_coin != 0):
            raise BookError(f"quantity must be a non-zero number, got {self.quantity_coin}")
        if self.settlement not in ("linear", "coin"):
            raise BookError(f"settlement must be 'linear' or 'coin', got {self.settlement!r}")


@dataclass(frozen=True, slots=True)
class Book:
    """Option legs plus the hedge held at the start (coin, funded from the cash account)."""

    legs: tuple[OptionLeg, ...]
    initial_hedge_coin: float = 0.0

    def __post_init__(self) -> None:
        if not self.legs:
            raise BookError("the book needs at least one option leg")
        if not math.isfinite(self.initial_hedge_coin):
            raise BookError(f"initial hedge must be finite, got {self.initial_hedge_coin}")

    @property
    def horizon_years(self) -> float:
        """The last expiry: the backtest runs until every leg has settled."""
        return max(leg.expiry_years for leg in self.legs)


def parse_leg(text: str) -> OptionLeg:
    """``call:100:0.0833:-1`` or ``put:60000:0.25:2:coin`` → :class:`OptionLeg`."""
    parts = text.split(":")
    if len(parts) not in (4, 5):
        raise BookError(
            f"option {text!r}: expected KIND:STRIKE:EXPIRY_YEARS:QUANTITY[:linear|coin]"
        )
    kind = parts[0].strip().lower()
    if kind not in ("call", "put"):
        raise BookError(f"option {text!r}: kind must be 'call' or 'put', got {parts[0]!r}")
    numbers = []
    for name, raw in zip(("strike", "expiry", "quantity"), parts[1:4], strict=True):
        try:
            numbers.append(float(raw))
        except ValueError:
            raise BookError(f"option {text!r}: {name} {raw!r} is not a number") from None
    settlement = parts[4].strip().lower() if len(parts) == 5 else "linear"
    if settlement not in ("linear", "coin"):
        raise BookError(f"option {text!r}: settlement must be 'linear' or 'coin'")
    strike_usd, expiry_years, quantity_coin = numbers
    try:
        return OptionLeg(
            kind == "call",
            strike_usd,
            expiry_years,
            quantity_coin,
            "coin" if settlement == "coin" else "linear",
        )
    except BookError as exc:
        raise BookError(f"option {text!r}: {exc}") from None


def load_book_toml(path: Path) -> Book:
    """A book from TOML: ``initial_hedge_coin = 0.5`` and ``[[options]]`` tables.

    Each table has ``kind`` ("call"/"put"), ``strike_usd``, ``expiry_years``,
    ``quantity_coin`` and optionally ``settlement`` ("linear"/"coin").
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BookError(f"{path}: {exc}") from None
    unknown = set(data) - {"options", "initial_hedge_coin"}
    if unknown:
        raise BookError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    legs = []
    for i, table in enumerate(data.get("options", [])):
        keys = {"kind", "strike_usd", "expiry_years", "quantity_coin", "settlement"}
        if (
            not isinstance(table, dict)
            or set(table) - keys
            or table.get("kind")
            not in (
                "call",
                "put",
            )
        ):
            raise BookError(f"{path}: options[{i}] needs kind = 'call'|'put' and keys {keys}")
        try:
            legs.append(
                OptionLeg(
                    table["kind"] == "call",
                    float(table["strike_usd"]),
                    float(table["expiry_years"]),
                    float(table["quantity_coin"]),
                    table.get("settlement", "linear"),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BookError(f"{path}: options[{i}]: {exc}") from None
    try:
        return Book(tuple(legs), float(data.get("initial_hedge_coin", 0.0)))
    except (BookError, TypeError, ValueError) as exc:
        raise BookError(f"{path}: {exc}") from None


VOL_POINT: Final = 0.01
"""A vol point: 0.01 of vol (1 %)."""


@dataclass(frozen=True, slots=True)
class BookGreeks:
    """USD value and Greeks of the live legs, one element per path.

    ``delta_coin`` is d value / d spot (the options only; coin premiums held
    are added by the engine); ``vega_usd`` is per 1.00 of vol, ``theta_usd``
    per year; ``vanna_coin`` is d delta / d vol per 1.00;
    ``vega_std_usd_per_volpt`` the vega per vol point standardised to 30 days
    (each leg's × sqrt(30 / days left), :mod:`bot.domain.greek_limits`).
    """

    value_usd: FloatArray
    delta_coin: FloatArray
    gamma_coin_per_usd: FloatArray
    vega_usd: FloatArray
    theta_usd: FloatArray
    vanna_coin: FloatArray
    vega_std_usd_per_volpt: FloatArray


def book_greeks(
    legs: Sequence[OptionLeg],
    spot_usd: FloatArray,
    t_years: float,
    vol: FloatArray | float,
    rate: float,
    *,
    cross: bool = True,
) -> BookGreeks:
    """Sum of ``quantity × black_scholes`` over ``legs`` at time ``t_years`` (τ floored at 0).

    A leg at or past its expiry is worth its intrinsic value with zero Greeks. With
    ``cross`` False, vanna and the standardised vega are left at zero: a backtest whose
    strategies do not read them (and with no option hedge) sums only the rest.
    """
    total = np.zeros((7, spot_usd.size))
    for leg in legs:
        tau = max(leg.expiry_years - t_years, 0.0)
        for i, greek in enumerate(leg_greeks(leg, spot_usd, tau, vol, rate, cross=cross)):
            total[i] += leg.quantity_coin * greek
    return BookGreeks(*total)


def leg_greeks(
    leg: OptionLeg,
    spot_usd: FloatArray,
    tau_years: float,
    vol: FloatArray | float,
    rate: float,
    *,
    cross: bool,
) -> list[FloatArray]:
    """One coin of ``leg``'s value, delta, gamma, vega and theta (and, with ``cross``, vanna
    and the standardised vega), in :class:`BookGreeks`'s order, ``tau_years`` before expiry."""
    g = black_scholes(leg.is_call, spot_usd, leg.strike_usd, tau_years, vol, rate)
    greeks = [g.price, g.delta, g.gamma, g.vega, g.theta]
    if cross:
        weight = VOL_POINT * math.sqrt(STANDARD_DAYS / max(tau_years * DAYS_PER_YEAR, MIN_DAYS))
        greeks += [g.vanna, g.vega * weight]
    return greeks
