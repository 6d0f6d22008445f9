"""The ``[sim]`` book as a position table marked at ``sim.start``, and what each venue holds.

The simulated market starts flat: every option is valued at its underlying's
``vol`` against the forward ``spot·e^(rate·tau)``. A venue's equity is its
``[[sim.balances]]`` cash plus the marks of the options it holds, as a venue
reports equity: coin for inverse options, USD for linear ones. ``deltabot
value`` and ``deltabot stress`` both start from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from bot.config import SimConfig
from bot.domain.instruments import InstrumentKind, OptionType, Settlement
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing.coin import coin_settled


def book_table(sim: SimConfig) -> PositionTable:
    """The ``[[sim.book]]`` positions as a table marked at the simulated start."""
    names = [u.name for u in sim.underlyings]
    spec = {u.name: u for u in sim.underlyings}
    book = sim.book
    expiry_ms = np.array(
        [NO_EXPIRY_MS if p.expiry is None else int(p.expiry.timestamp() * 1000) for p in book]
    )
    tau_years = np.where(expiry_ms == NO_EXPIRY_MS, 0.0, (expiry_ms - sim.start_ms) / MS_PER_YEAR)
    spot = np.array([spec[p.underlying].spot_usd for p in book])
    rate = np.array([spec[p.underlying].rate for p in book])
    forward = spot * np.exp(rate * tau_years)
    is_option = np.array([p.kind is InstrumentKind.OPTION for p in book])
    is_call = np.array([p.option_type is OptionType.CALL for p in book])
    is_inverse = np.array([p.settlement is Settlement.INVERSE for p in book])
    strike = np.array([np.nan if p.strike_usd is None else p.strike_usd for p in book])
    vol = np.array([spec[p.underlying].vol for p in book])
    price_coin = coin_settled(
        is_call, forward, np.where(is_option, strike, forward), tau_years, vol, rate
    ).price_coin
    # Marks in each instrument's price currency: coin for inverse options, USD otherwise.
    mark_price = np.where(is_inverse, price_coin, price_coin * forward)
    mark_price = np.where(is_option, mark_price, forward)
    venues = sorted({p.venue for p in book})
    return PositionTable.from_arrays(
        underlyings=names,
        underlying_idx=[names.index(p.underlying) for p in book],
        venues=venues,
        venue_idx=[venues.index(p.venue) for p in book],
        kind=[KindCode.of(p.kind) for p in book],
        size=[p.size for p in book],
        is_inverse=is_inverse,
        amount_is_usd=~is_option & is_inverse,
        is_call=is_call,
        strike_usd=strike,
        expiry_ms=expiry_ms,
        mark_price=mark_price,
        mark_iv=np.where(is_option, vol, np.nan),
        underlying_usd=forward,
        index_usd=[u.spot_usd for u in sim.underlyings],
        symbols=[_label(p.underlying, p.kind, p.option_type, p.strike_usd, p.expiry) for p in book],
    )


def position_rate(sim: SimConfig, table: PositionTable) -> np.ndarray:
    """Each position's underlying's interest rate."""
    rates = np.array([u.rate for u in sim.underlyings])
    return rates[table.underlying_idx]


def venue_equity(
    sim: SimConfig, table: PositionTable, venues: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Coin equity (venue × underlying) and USD-like (USDC, USDT) equity per venue of
    ``venues``.

    Each is the venue's cash (USDC and USDT are no underlying's delta) plus the marks of
    the options it holds in ``table``; a venue of ``table`` must be in ``venues``.
    """
    coin = np.zeros((len(venues), len(table.underlyings)))
    usd = np.zeros(len(venues))
    for b in sim.balances:
        if b.venue not in venues:
            continue
        k = venues.index(b.venue)
        if b.currency in table.underlyings:
            coin[k, table.underlyings.index(b.currency)] += b.amount
        elif b.currency in ("USDC", "USDT"):
            usd[k] += b.amount
    at = np.array([venues.index(v) for v in table.venues], dtype=int)[table.venue_idx]
    marks = np.where(table.kind == KindCode.OPTION, table.size * table.mark_price, 0.0)
    inverse = table.is_inverse
    np.add.at(coin, (at, table.underlying_idx), np.where(inverse, marks, 0.0))
    np.add.at(usd, at, np.where(inverse, 0.0, marks))
    return coin, usd


def _label(
    underlying: str,
    kind: InstrumentKind,
    option_type: OptionType | None,
    strike_usd: float | None,
    expiry: datetime | None,
) -> str:
    """Deribit-style instrument name, e.g. ``BTC-25DEC26-65000-C``."""
    if kind is InstrumentKind.PERPETUAL or expiry is None:
        return f"{underlying}-PERPETUAL"
    date = expiry.strftime("%d%b%y").upper().lstrip("0")
    if kind is InstrumentKind.FUTURE:
        return f"{underlying}-{date}"
    letter = "C" if option_type is OptionType.CALL else "P"
    return f"{underlying}-{date}-{strike_usd:.0f}-{letter}"
