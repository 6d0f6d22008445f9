"""From a venue's option chain to the option-hedge optimizer's :class:`Candidates` (issue 16).

The chain's marks are priced in one Black-76 call at their mark IVs, then
filtered by :func:`~bot.domain.option_hedge.whitelist`. Per coin of option:
standardised vega as in :mod:`bot.domain.greek_limits`, USD gamma per 1 %
(0.01·F·Γ·F: the Black-76 gamma, the usd numeraire's; in the coin numeraire an
inverse option adds its premium term, which the next cycle's valuation sees),
the Black delta (the residual delta is the perp hedger's next cycle anyway),
the expected cost (half the quoted spread plus the taker fee, ``fee_frac`` of
the underlying's price, Deribit's option fee of 0.03 %), the mid premium, the
venue's lot and minimum, and what may be bought or sold before |position|
passes ``max_position_coin``.

Example: a BTC call quoted 0.068 / 0.0695 BTC with the forward at 60,000 costs
(0.0695 − 0.068) / 2 × 60,000 = 45 USD of half-spread per coin plus 0.0003 ×
60,000 = 18 USD of fee: 63 USD per coin traded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from bot.domain.greek_limits import MIN_DAYS, STANDARD_DAYS, bucket_labels
from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import Instrument, OptionType
from bot.domain.option_hedge import Candidates, Chain, whitelist
from bot.domain.snapshot import Mark
from bot.domain.timeunits import MS_PER_DAY, MS_PER_YEAR
from bot.pricing import black76

_PCT = 0.01
_VOL_POINT = 0.01


@dataclass(frozen=True, slots=True)
class WhitelistSettings:
    """Which options a proposal may use, and what trading them costs (``[options_hedge]``)."""

    n_expiries: int
    min_abs_delta: float
    max_abs_delta: float
    min_open_interest_coin: float
    max_spread_frac: float
    fee_frac: float
    max_position_coin: float


def chain_candidates(
    instruments: Mapping[Symbol, Instrument],
    chain: Mapping[Symbol, Mark],
    *,
    underlying: Currency,
    now_ms: int,
    held_coin: Mapping[Symbol, float],
    settings: WhitelistSettings,
    edges_days: tuple[float, ...],
) -> Candidates:
    """The whitelisted options of ``chain`` with their Greeks, costs and caps (module
    docstring); ``held_coin`` is the current position per symbol (coin, missing: 0)."""
    rows = [
        (instruments[s], m)
        for s, m in sorted(chain.items())
        if s in instruments
        and instruments[s].is_option
        and instruments[s].underlying == underlying
        and m.mark_iv is not None
    ]
    if not rows:
        return _empty()
    inst = [i for i, _ in rows]
    marks = [m for _, m in rows]
    f = np.array([m.underlying_usd for m in marks])
    coin_priced = np.array([i.price_currency == i.underlying for i in inst])
    to_usd = np.where(coin_priced, f, 1.0)
    bid = np.array([np.nan if m.bid is None else m.bid for m in marks]) * to_usd
    ask = np.array([np.nan if m.ask is None else m.ask for m in marks]) * to_usd
    expiry = np.array([i.expiry_ms or 0 for i in inst], dtype=np.int64)
    tau = (expiry - now_ms) / MS_PER_YEAR
    is_call = np.array([i.option_type is OptionType.CALL for i in inst])
    strike = np.array([i.strike_usd or math.nan for i in inst])
    g = black76(is_call, f, strike, np.maximum(tau, 0.0), np.array([m.mark_iv for m in marks]))
    keep = whitelist(
        Chain(
            expiry_ms=expiry,
            abs_delta=np.abs(g.delta),
            open_interest_coin=np.array([m.open_interest or 0.0 for m in marks]),
            bid_usd=bid,
            ask_usd=ask,
        ),
        now_ms=now_ms,
        n_expiries=settings.n_expiries,
        min_abs_delta=settings.min_abs_delta,
        max_abs_delta=settings.max_abs_delta,
        min_open_interest_coin=settings.min_open_interest_coin,
        max_spread_frac=settings.max_spread_frac,
    )
    days = (expiry[keep] - now_ms) / MS_PER_DAY
    labels = bucket_labels(edges_days)
    slot = np.searchsorted(np.asarray(edges_days), days)
    held = np.array([held_coin.get(inst[k].symbol, 0.0) for k in keep.tolist()])
    cap = settings.max_position_coin
    fk = f[keep]
    return Candidates(
        symbols=tuple(inst[k].symbol for k in keep.tolist()),
        underlying=(underlying,) * keep.size,
        bucket=tuple(labels[int(b)] for b in slot),
        vega_std_usd_per_volpt=g.vega[keep]
        * _VOL_POINT
        * np.sqrt(STANDARD_DAYS / np.maximum(days, MIN_DAYS)),
        gamma_usd_per_pct=_PCT * fk * g.gamma[keep] * fk,
        delta_coin=g.delta[keep],
        cost_usd=0.5 * (ask[keep] - bid[keep]) + settings.fee_frac * fk,
        premium_usd=0.5 * (ask[keep] + bid[keep]),
        lot_coin=np.array([inst[k].lot_size for k in keep.tolist()]),
        min_coin=np.array([inst[k].min_size for k in keep.tolist()]),
        max_buy_coin=np.maximum(cap - held, 0.0),
        max_sell_coin=np.maximum(cap + held, 0.0),
    )


def _empty() -> Candidates:
    none = np.zeros(0)
    return Candidates((), (), (), none, none, none, none, none, none, none, none, none)
