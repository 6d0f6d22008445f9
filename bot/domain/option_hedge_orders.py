"""An approved option-hedge proposal as order intents, with the premium each moves.

Each leg becomes one IOC limit order at the option's mark IV moved against us
by ``iv_tolerance`` (bought at mark IV + tolerance, sold at mark IV −
tolerance): sent as that implied vol where the venue takes one (Deribit's
``advanced="implv"``, ``OrderRequest.limit_iv``), and everywhere else, and in
the journal and the gate, as its price from the surface: Black-76 at the
mark's forward, in the option's price currency and on its tick (a buy rounded
down, a sell up, so the tolerance is never exceeded). Each intent carries the
premium it moves at that limit (amount × limit price in USD), which the risk
gate caps per order and per UTC day (:mod:`bot.domain.risk`) beside the caps
every hedge order meets.

Example: buying a 60,000 call at forward 60,000 with 30 days, mark IV 60 % and
a tolerance of 2 vol points is limited at the 62 % price, 0.07082 BTC
(Black-76), rounded down to 0.0708 on the 0.0001 tick; 4.2 BTC of it moves
4.2 × 0.0708 × 60,000 = 17,841.6 USD of premium.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.instruments import Instrument, OptionType
from bot.domain.orders import OrderRequest, TimeInForce
from bot.domain.risk import OrderIntent
from bot.domain.rounding import round_amount, round_price, side_of
from bot.domain.snapshot import Mark
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing import black76


@dataclass(frozen=True, slots=True)
class Leg:
    """One traded option of a proposal: its signed amount in coin."""

    symbol: Symbol
    amount_coin: float


def leg_intents(
    proposal_id: str,
    venue: VenueId,
    underlying: Currency,
    legs: Sequence[Leg],
    *,
    instruments: Mapping[Symbol, Instrument],
    marks: Mapping[Symbol, Mark],
    held_coin: Mapping[Symbol, float],
    now_ms: int,
    iv_tolerance: float,
) -> tuple[OrderIntent, ...]:
    """One IOC intent per leg (module docstring); ValueError naming a leg without a usable
    instrument or mark."""
    intents = []
    for k, leg in enumerate(legs):
        inst, mark = instruments.get(leg.symbol), marks.get(leg.symbol)
        if (
            inst is None
            or mark is None
            or mark.mark_iv is None
            or inst.expiry_ms is None
            or inst.strike_usd is None
        ):
            raise ValueError(f"{proposal_id}: {leg.symbol} has no option instrument or mark IV")
        side = side_of(leg.amount_coin)
        amount = abs(round_amount(inst, leg.amount_coin))
        if amount == 0:
            raise ValueError(f"{proposal_id}: {leg.symbol} amount {leg.amount_coin} is below a lot")
        vol = mark.mark_iv + iv_tolerance * side.sign
        tau = (inst.expiry_ms - now_ms) / MS_PER_YEAR
        usd = float(
            black76(
                inst.option_type is OptionType.CALL,
                mark.underlying_usd,
                inst.strike_usd,
                tau,
                max(vol, 1e-4),
            ).price
        )
        coin_priced = inst.price_currency == inst.underlying
        per_unit = usd / mark.underlying_usd if coin_priced else usd
        limit_price = round_price(inst, per_unit, side)
        limit_usd = limit_price * mark.underlying_usd if coin_priced else limit_price
        order = OrderRequest(
            client_id=ClientOrderId(f"{proposal_id}-{k}"),
            venue=venue,
            symbol=leg.symbol,
            side=side,
            amount=amount,
            limit_price=limit_price,
            tif=TimeInForce.IOC,
            limit_iv=round(vol, 4),
        )
        intents.append(
            OrderIntent(
                order=order,
                underlying=underlying,
                notional_usd=amount * mark.underlying_usd,
                amount_coin=amount,
                position_before_coin=held_coin.get(leg.symbol, 0.0),
                premium_usd=amount * limit_usd,
            )
        )
    return tuple(intents)
