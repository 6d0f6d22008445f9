"""Deribit's advanced option orders in the emulator: a price given in implied vol or USD.

Deribit (``private/buy``/``private/sell``, parameter ``advanced``, options only):
with ``implv`` the ``price`` is an implied volatility in percent, with ``usd``
a USD price; the venue converts it to the option's coin price and keeps it
there as the underlying moves. The emulator converts once, at placement, with
Black-76 at the contract's forward and time to expiry (no later repricing: its
orders are matched on placement or rest at that coin price), rounded to the
tick toward the passive side (bids down, asks up), so an IV order never pays
more than the vol asked.

Example: a 60,000 call, forward 60,000, 30 days, ``implv`` 60 is 0.06854 BTC
(docs/architecture.md §3), a bid at 0.0685 on the 0.0005 tick.
"""

from __future__ import annotations

from typing import Final, Literal

from bot.pricing import black76
from bot.sim.contracts import SimContract
from bot.sim.errors import BAD_REQUEST, INVALID_PRICE, sim_error

Advanced = Literal["implv", "usd"]
ADVANCED: Final[tuple[str, ...]] = ("implv", "usd")


def coin_price(
    c: SimContract,
    advanced: Advanced,
    price: float,
    *,
    forward_usd: float,
    tau_years: float,
    buying: bool,
) -> float:
    """The coin price of an ``advanced`` order's ``price`` on option ``c`` (module docstring)."""
    if not c.is_option:
        raise sim_error(BAD_REQUEST, param="advanced", reason="only for options")
    if not price > 0:
        raise sim_error(INVALID_PRICE, param="price", reason="must be > 0")
    if advanced == "implv":
        usd = float(black76(c.is_call, forward_usd, c.strike_usd, tau_years, price / 100.0).price)
    else:
        usd = price
    coin = usd / forward_usd
    if not coin > 0:
        raise sim_error(INVALID_PRICE, param="price", reason="worth nothing at that price")
    return c.round_price(coin, up=not buying)
