"""Deribit fee and P&L formulas per contract, and the margin rules adapted to one contract.

Each function carries the venue's own worked example; the tests check them.
The margin rules themselves live once, in :mod:`bot.domain.margin.standard`.
"""

from __future__ import annotations

from bot.domain.margin.standard import FUTURE_SIZE_FACTOR
from bot.domain.margin.standard import future_margin_rates as domain_rates
from bot.domain.margin.standard import short_option_margin as domain_short_option


def inverse_pnl_coin(size_usd: float, entry_usd: float, exit_usd: float) -> float:
    """P&L in coin of an inverse contract: size_usd·(1/entry − 1/exit).

    Example: long 10,000 USD of BTC-PERPETUAL at 50,000, mark 55,000:
    10,000·(1/50,000 − 1/55,000) = +0.0181818 BTC.
    """
    return size_usd * (1.0 / entry_usd - 1.0 / exit_usd)


def future_margin_rates(size_coin: float, underlying: str) -> tuple[float, float]:
    """(IM, MM) as fractions of the notional for a futures position of ``size_coin``.

    Deribit's rule lives in :func:`bot.domain.margin.standard.future_margin_rates`;
    this adapts it to one contract of a named underlying. Example (BTC): a 25 BTC
    position needs IM 2.125% (0.53125 BTC) and MM 1.125% (0.28125 BTC).
    """
    im, mm = domain_rates(size_coin, FUTURE_SIZE_FACTOR[underlying])
    return float(im), float(mm)


def short_option_margin(
    is_call: bool, strike_usd: float, underlying_usd: float, mark_coin: float
) -> tuple[float, float]:
    """(IM, MM) in coin per 1 short inverse option: Deribit standard margin, one contract.

    The rule lives in :func:`bot.domain.margin.standard.short_option_margin`.
    Example: short 70,000 call, underlying 60,000, mark 0.01 BTC: OTM/F = 1/6, so
    IM = max(0.15 − 0.1667, 0.1) + 0.01 = 0.11 BTC and MM = 0.085 BTC.
    """
    im, mm = domain_short_option(is_call, strike_usd, underlying_usd, mark_coin)
    return float(im), float(mm)


def option_fee_coin(amount_coin: float, price_coin: float, rate: float, cap: float) -> float:
    """Option trade fee in coin: ``rate`` per contract, capped at ``cap`` of the premium.

    Example (Deribit "Fees"): 1 BTC option traded at 0.0001 BTC pays
    min(0.0003, 12.5%·0.0001) = 0.0000125 BTC instead of 0.0003 BTC.
    """
    return min(rate * abs(amount_coin), cap * price_coin * abs(amount_coin))


def future_fee(amount: float, price: float, rate: float, inverse: bool) -> float:
    """Futures fee in the settlement currency: ``rate`` of the notional.

    Inverse (amount USD) pays coin: example (Deribit "Fees") a 50,000 USD trade
    at 100,000 pays 0.05% of 0.5 BTC = 0.00025 BTC. Linear (amount coin) pays
    ``rate``·amount·price in the quote currency.
    """
    notional = abs(amount) / price if inverse else abs(amount) * price
    return rate * notional


def option_payoff_coin(is_call: bool, strike_usd: float, delivery_usd: float) -> float:
    """Coin paid per long inverse option at expiry: intrinsic value / delivery price.

    Example (Deribit "Options"): a 10,000 call with delivery at 12,500 pays
    2,500/12,500 = 0.2 BTC; a 10,000 put with delivery at 5,000 pays 1 BTC.
    """
    intrinsic = delivery_usd - strike_usd if is_call else strike_usd - delivery_usd
    return max(intrinsic, 0.0) / delivery_usd
