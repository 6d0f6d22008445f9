"""Builders of the frozen Deribit views from engine state (no state of their own)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.units import position_coin
from bot.sim.accounts import AccountState, PositionState, Valuation, position_margin, position_upl
from bot.sim.contracts import SimContract, expiry_code
from bot.sim.marks import MarkRow, net_delta
from bot.sim.order_book import Level, OrderBook
from bot.sim.spec import FeeSchedule, WalletSpec
from bot.sim.views import (
    AccountSummaryView,
    BookSummaryView,
    CurrencyView,
    InstrumentView,
    OrderBookView,
    PositionView,
    SubaccountView,
    TickerView,
)


@dataclass(frozen=True, slots=True)
class Activity:
    """Trading activity of one instrument: open interest, last trade price, 24h volume."""

    open_interest: float
    last_price: float | None
    volume_24h: float


_LONG_NAMES = {
    "BTC": ("Bitcoin", "BITCOIN"),
    "ETH": ("Ethereum", "ETHER"),
    "USDC": ("USD Coin", "ERC20"),
    "USDT": ("Tether USD", "ERC20"),
}
FUTURES_MAX_LEVERAGE = 50  # Deribit standard margin: 2% initial margin, i.e. 50x


def currency_view(currency: str, wallet: WalletSpec) -> CurrencyView:
    long_name, coin_type = _LONG_NAMES[currency]
    fee = wallet.withdrawal_fee.get(currency, 0.0)
    return CurrencyView(currency, long_name, coin_type, 4, 1, fee, fee, [])


def settlement_period(c: SimContract) -> str:
    """``perpetual``, or ``month`` for a last-Friday expiry and ``week`` otherwise."""
    if c.is_perpetual:
        return "perpetual"
    d = datetime.fromtimestamp(c.expiry_ms / 1000, tz=UTC)
    return "month" if d.day + 7 > calendar.monthrange(d.year, d.month)[1] else "week"


def instrument_view(c: SimContract, fees: FeeSchedule, expired: bool) -> InstrumentView:
    inst = c.instrument
    inverse = c.is_inverse
    if c.is_option:
        maker = taker = fees.option_rate
    else:
        maker, taker = fees.future_maker, fees.future_taker
    return InstrumentView(
        instrument_name=c.instrument_name,
        instrument_id=c.instrument_id,
        kind=c.deribit_kind,
        instrument_type="reversed" if inverse else "linear",
        future_type=None if c.is_option else ("reversed" if inverse else "linear"),
        base_currency=c.underlying,
        quote_currency=str(inst.price_currency),
        counter_currency=str(inst.quote),
        settlement_currency=c.currency,
        settlement_period=settlement_period(c),
        price_index=c.price_index if inverse else f"{c.underlying.lower()}_usdc",
        contract_size=c.contract_size,
        min_trade_amount=inst.min_size,
        tick_size=inst.tick_size,
        tick_size_steps=[{"above_price": a, "tick_size": t} for a, t in c.tick_steps],
        maker_commission=maker,
        taker_commission=taker,
        creation_timestamp=c.creation_ms,
        expiration_timestamp=c.expiry_ms,
        is_active=not expired,
        rfq=False,
        strike=inst.strike_usd,
        option_type=str(inst.option_type) if inst.option_type else None,
        max_leverage=None if c.is_option else FUTURES_MAX_LEVERAGE,
    )


def _underlying_index(c: SimContract) -> str | None:
    return f"SYN.{c.underlying}-{expiry_code(c.expiry_ms)}" if c.is_option else None


def ticker_view(
    c: SimContract,
    row: MarkRow,
    top: tuple[Level | None, Level | None],
    now: int,
    activity: Activity,
) -> TickerView:
    """``public/ticker``: marks, best levels (``top``: bid, ask), IV in percent and
    Deribit-unit Greeks."""
    bid, ask = top
    volume_24h = activity.volume_24h
    greeks = None
    if c.is_option:
        greeks = {
            "delta": row.delta,
            "gamma": row.gamma or 0.0,
            "vega": row.vega_usd_per_volpt or 0.0,
            "theta": row.theta_usd_per_day or 0.0,
            "rho": row.rho_usd_per_pct or 0.0,
        }
        lo, hi = c.instrument.tick_size, c.round_price(row.mark_price + 0.05, up=True)
    else:
        lo = c.round_price(row.mark_price * 0.95, up=False)
        hi = c.round_price(row.mark_price * 1.05, up=True)
    usd_per_unit = row.index_usd if c.is_option else (1.0 if c.is_inverse else row.mark_price)
    return TickerView(
        instrument_name=c.instrument_name,
        timestamp=now,
        state="open",
        mark_price=row.mark_price,
        index_price=row.index_usd,
        underlying_price=row.underlying_usd if c.is_option else None,
        underlying_index=_underlying_index(c),
        best_bid_price=bid.price if bid else None,
        best_bid_amount=bid.amount if bid else 0.0,
        best_ask_price=ask.price if ask else None,
        best_ask_amount=ask.amount if ask else 0.0,
        last_price=activity.last_price,
        settlement_price=None,
        min_price=lo,
        max_price=hi,
        open_interest=activity.open_interest,
        estimated_delivery_price=row.index_usd,
        mark_iv=row.iv * 100.0 if row.iv is not None else None,
        bid_iv=None,
        ask_iv=None,
        interest_rate=0.0 if c.is_option else None,
        greeks=greeks,
        current_funding=row.funding_8h,
        funding_8h=row.funding_8h,
        interest_value=None,
        stats={
            "high": None,
            "low": None,
            "price_change": None,
            "volume": volume_24h,
            "volume_usd": volume_24h * usd_per_unit,
        },
    )


def order_book_view(
    ticker: TickerView, book: OrderBook, depth: int, change_id: int
) -> OrderBookView:
    fields = {name: getattr(ticker, name) for name in TickerView.__dataclass_fields__}
    return OrderBookView(
        **fields,
        bids=[[lv.price, lv.amount] for lv in book.bids[:depth]],
        asks=[[lv.price, lv.amount] for lv in book.asks[:depth]],
        change_id=change_id,
    )


def book_summary_view(c: SimContract, t: TickerView) -> BookSummaryView:
    bid, ask = t.best_bid_price, t.best_ask_price
    return BookSummaryView(
        instrument_name=c.instrument_name,
        base_currency=c.underlying,
        quote_currency=str(c.instrument.price_currency),
        creation_timestamp=t.timestamp,
        mark_price=t.mark_price,
        mark_iv=t.mark_iv,
        mid_price=(bid + ask) / 2 if bid is not None and ask is not None else None,
        bid_price=bid,
        ask_price=ask,
        last=t.last_price,
        high=None,
        low=None,
        price_change=None,
        volume=t.stats["volume"] or 0.0,
        volume_usd=t.stats["volume_usd"] or 0.0,
        open_interest=t.open_interest,
        underlying_price=t.underlying_price,
        underlying_index=t.underlying_index,
        interest_rate=t.interest_rate,
        estimated_delivery_price=t.estimated_delivery_price,
        current_funding=t.current_funding,
        funding_8h=t.funding_8h,
    )


def position_view(
    c: SimContract, pos: PositionState, row: MarkRow, open_orders_margin: float
) -> PositionView:
    """``private/get_positions`` item; option Greeks are the position's (size × per unit).

    An option's ``delta`` is size × Net Transaction Delta (premium-adjusted, so
    the positions' deltas sum to ``delta_total`` as Deribit's do); the ticker's
    ``greeks.delta`` stays the Black-Scholes delta per unit.
    """
    upl = position_upl(c, pos, row.mark_price)
    im, mm = position_margin(c, pos.size, row)
    size_coin = position_coin(c.instrument, pos.size, row.mark_price)
    opt = c.is_option
    return PositionView(
        instrument_name=c.instrument_name,
        kind=c.deribit_kind,
        direction="buy" if pos.size > 0 else ("sell" if pos.size < 0 else "zero"),
        size=pos.size,
        size_currency=size_coin,
        average_price=pos.average_price,
        average_price_usd=None,
        mark_price=row.mark_price,
        index_price=row.index_usd,
        settlement_price=None,
        delta=pos.size * net_delta(c, row) if opt else size_coin,
        gamma=pos.size * (row.gamma or 0.0) if opt else None,
        vega=pos.size * (row.vega_usd_per_volpt or 0.0) if opt else None,
        theta=pos.size * (row.theta_usd_per_day or 0.0) if opt else None,
        floating_profit_loss=upl,
        floating_profit_loss_usd=upl * row.index_usd if opt else None,
        realized_profit_loss=pos.realized_pnl,
        total_profit_loss=pos.realized_pnl + upl,
        realized_funding=pos.realized_funding if c.is_perpetual else None,
        interest_value=None,
        initial_margin=im,
        maintenance_margin=mm,
        open_orders_margin=open_orders_margin,
        leverage=None if opt else FUTURES_MAX_LEVERAGE,
        estimated_liquidation_price=None,
    )


def account_summary_view(
    acc: AccountState,
    currency: str,
    v: Valuation,
    *,
    futures_rpl: float,
    options_rpl: float,
    creation_ms: int,
) -> AccountSummaryView:
    s = acc.spec
    return AccountSummaryView(
        id=s.id,
        username=s.username,
        type="main" if acc.is_main else "subaccount",
        system_name=s.username,
        currency=currency,
        balance=v.balance,
        equity=v.equity,
        margin_balance=v.equity,
        initial_margin=v.initial_margin,
        maintenance_margin=v.maintenance_margin,
        projected_initial_margin=v.initial_margin,
        projected_maintenance_margin=v.maintenance_margin,
        available_funds=v.available_funds,
        available_withdrawal_funds=v.available_withdrawal_funds,
        delta_total=v.delta_total,
        projected_delta_total=v.delta_total,
        options_value=v.options_value,
        options_delta=v.options_delta,
        options_gamma=v.options_gamma,
        options_vega=v.options_vega,
        options_theta=v.options_theta,
        options_pl=v.options_upl + options_rpl,
        options_session_upl=v.options_upl,
        options_session_rpl=options_rpl,
        futures_pl=v.futures_upl + futures_rpl,
        futures_session_upl=v.futures_upl,
        futures_session_rpl=futures_rpl,
        session_upl=v.options_upl + v.futures_upl,
        session_rpl=options_rpl + futures_rpl,
        total_pl=v.options_upl + v.futures_upl + options_rpl + futures_rpl,
        fee_balance=0.0,
        margin_model="segregated_sm",
        portfolio_margining_enabled=False,
        cross_collateral_enabled=False,
        creation_timestamp=creation_ms,
    )


def subaccount_view(acc: AccountState, summaries: dict[str, AccountSummaryView]) -> SubaccountView:
    """``private/get_subaccounts`` item; ``portfolio`` is keyed by lower-case currency."""
    s = acc.spec
    portfolio: dict[str, dict[str, float | str]] = {
        cur.lower(): {
            "currency": cur,
            "balance": v.balance,
            "equity": v.equity,
            "margin_balance": v.margin_balance,
            "initial_margin": v.initial_margin,
            "maintenance_margin": v.maintenance_margin,
            "available_funds": v.available_funds,
            "available_withdrawal_funds": v.available_withdrawal_funds,
        }
        for cur, v in summaries.items()
    }
    return SubaccountView(
        id=s.id,
        username=s.username,
        email=f"{s.username}@sim.invalid",
        type="main" if acc.is_main else "subaccount",
        system_name=s.username,
        is_password=acc.is_main,
        login_enabled=acc.is_main,
        receive_notifications=False,
        security_keys_enabled=False,
        portfolio=portfolio,
    )
