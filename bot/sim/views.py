"""Frozen views the simulated exchange returns, one per Deribit v2 result object.

Field names are exactly Deribit's JSON result keys, so the HTTP facade
serialises a view field by field (:func:`bot.sim.deribit_params.to_json`) and ccxt parses it as it
would the real venue's answer. Fields Deribit omits for some instruments
(``strike`` on a future, ``funding_8h`` on an option) are ``None`` here.
Units follow Deribit: option prices in coin, ``mark_iv`` in percent,
inverse future ``size``/``amount`` in USD, option and linear amounts in coin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CurrencyView:
    """``public/get_currencies`` item."""

    currency: str
    currency_long: str
    coin_type: str
    fee_precision: int
    min_confirmations: int
    min_withdrawal_fee: float
    withdrawal_fee: float
    withdrawal_priorities: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class InstrumentView:
    """``public/get_instruments`` item (``kind`` is "future" for perpetuals too)."""

    instrument_name: str
    instrument_id: int
    kind: str
    instrument_type: str
    future_type: str | None
    base_currency: str
    quote_currency: str
    counter_currency: str
    settlement_currency: str
    settlement_period: str
    price_index: str
    contract_size: float
    min_trade_amount: float
    tick_size: float
    tick_size_steps: list[dict[str, float]]
    maker_commission: float
    taker_commission: float
    creation_timestamp: int
    expiration_timestamp: int
    is_active: bool
    rfq: bool
    strike: float | None
    option_type: str | None
    max_leverage: int | None


@dataclass(frozen=True, slots=True)
class TickerView:
    """``public/ticker`` result."""

    instrument_name: str
    timestamp: int
    state: str
    mark_price: float
    index_price: float
    underlying_price: float | None
    underlying_index: str | None
    best_bid_price: float | None
    best_bid_amount: float
    best_ask_price: float | None
    best_ask_amount: float
    last_price: float | None
    settlement_price: float | None
    min_price: float
    max_price: float
    open_interest: float
    estimated_delivery_price: float
    mark_iv: float | None
    bid_iv: float | None
    ask_iv: float | None
    interest_rate: float | None
    greeks: dict[str, float] | None
    current_funding: float | None
    funding_8h: float | None
    interest_value: float | None
    stats: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class OrderBookView(TickerView):
    """``public/get_order_book`` result: the ticker plus ``[price, amount]`` levels."""

    bids: list[list[float]]
    asks: list[list[float]]
    change_id: int


@dataclass(frozen=True, slots=True)
class IndexPriceView:
    """``public/get_index_price`` result."""

    index_price: float
    estimated_delivery_price: float


@dataclass(frozen=True, slots=True)
class DeliveryPriceView:
    """One ``public/get_delivery_prices`` row: the UTC day (YYYY-MM-DD) and its price."""

    date: str
    delivery_price: float


@dataclass(frozen=True, slots=True)
class DeliveryPricesView:
    """``public/get_delivery_prices`` result: newest first, and how many there are."""

    data: list[DeliveryPriceView]
    records_total: int


@dataclass(frozen=True, slots=True)
class BookSummaryView:
    """``public/get_book_summary_by_currency`` item."""

    instrument_name: str
    base_currency: str
    quote_currency: str
    creation_timestamp: int
    mark_price: float
    mark_iv: float | None
    mid_price: float | None
    bid_price: float | None
    ask_price: float | None
    last: float | None
    high: float | None
    low: float | None
    price_change: float | None
    volume: float
    volume_usd: float
    open_interest: float
    underlying_price: float | None
    underlying_index: str | None
    interest_rate: float | None
    estimated_delivery_price: float
    current_funding: float | None
    funding_8h: float | None


@dataclass(frozen=True, slots=True)
class AccountSummaryView:
    """``private/get_account_summary`` result, all amounts in ``currency``."""

    id: int
    username: str
    type: str
    system_name: str
    currency: str
    balance: float
    equity: float
    margin_balance: float
    initial_margin: float
    maintenance_margin: float
    projected_initial_margin: float
    projected_maintenance_margin: float
    available_funds: float
    available_withdrawal_funds: float
    delta_total: float
    projected_delta_total: float
    options_value: float
    options_delta: float
    options_gamma: float
    options_vega: float
    options_theta: float
    options_pl: float
    options_session_upl: float
    options_session_rpl: float
    futures_pl: float
    futures_session_upl: float
    futures_session_rpl: float
    session_upl: float
    session_rpl: float
    total_pl: float
    fee_balance: float
    margin_model: str
    portfolio_margining_enabled: bool
    cross_collateral_enabled: bool
    creation_timestamp: int


@dataclass(frozen=True, slots=True)
class PositionView:
    """``private/get_positions`` item (``size`` USD for inverse futures, coin otherwise)."""

    instrument_name: str
    kind: str
    direction: str
    size: float
    size_currency: float
    average_price: float
    average_price_usd: float | None
    mark_price: float
    index_price: float
    settlement_price: float | None
    delta: float
    gamma: float | None
    vega: float | None
    theta: float | None
    floating_profit_loss: float
    floating_profit_loss_usd: float | None
    realized_profit_loss: float
    total_profit_loss: float
    realized_funding: float | None
    interest_value: float | None
    initial_margin: float
    maintenance_margin: float
    open_orders_margin: float
    leverage: int | None
    estimated_liquidation_price: float | None


@dataclass(frozen=True, slots=True)
class OrderView:
    """Order object of ``private/buy``, ``get_order_state``, ``get_open_orders_*`` ..."""

    order_id: str
    order_state: str
    order_type: str
    instrument_name: str
    direction: str
    amount: float
    filled_amount: float
    contracts: float
    price: float | None
    average_price: float
    time_in_force: str
    post_only: bool
    reduce_only: bool
    label: str
    creation_timestamp: int
    last_update_timestamp: int
    commission: float
    profit_loss: float
    is_liquidation: bool
    replaced: bool
    api: bool
    web: bool
    risk_reducing: bool
    mmp: bool
    max_show: float
    cancel_reason: str | None
    reject_reason: str | None


@dataclass(frozen=True, slots=True)
class TradeView:
    """Trade object of ``private/buy`` and ``get_user_trades_*``."""

    trade_id: str
    trade_seq: int
    timestamp: int
    instrument_name: str
    order_id: str
    order_type: str
    direction: str
    amount: float
    contracts: float
    price: float
    mark_price: float
    index_price: float
    underlying_price: float | None
    iv: float | None
    fee: float
    fee_currency: str
    liquidity: str
    label: str
    state: str
    tick_direction: int
    matching_id: str | None
    post_only: bool
    reduce_only: bool
    profit_loss: float
    liquidation: str | None
    api: bool


@dataclass(frozen=True, slots=True)
class SubaccountView:
    """``private/get_subaccounts`` item (the main account is listed too, as on Deribit)."""

    id: int
    username: str
    email: str
    type: str
    system_name: str
    is_password: bool
    login_enabled: bool
    receive_notifications: bool
    security_keys_enabled: bool
    portfolio: dict[str, dict[str, float | str]]


@dataclass(frozen=True, slots=True)
class TransferView:
    """``private/submit_transfer_to_subaccount`` result."""

    id: int
    amount: float
    currency: str
    direction: str
    other_side: str
    state: str
    type: str
    created_timestamp: int
    updated_timestamp: int


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    """``private/withdraw`` result and ``get_withdrawals`` item."""

    id: int
    address: str
    amount: float
    currency: str
    fee: float
    priority: float
    state: str
    transaction_id: str | None
    created_timestamp: int
    confirmed_timestamp: int | None
    updated_timestamp: int


@dataclass(frozen=True, slots=True)
class DepositAddressView:
    """``private/get_current_deposit_address`` result."""

    address: str
    currency: str
    type: str
    creation_timestamp: int


@dataclass(frozen=True, slots=True)
class DepositView:
    """``private/get_deposits`` item."""

    address: str
    amount: float
    currency: str
    state: str
    transaction_id: str
    received_timestamp: int
    updated_timestamp: int
    note: str
