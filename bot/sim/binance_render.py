"""Binance USDⓈ-M JSON shapes of the simulated exchange's contracts, orders and accounts.

Field names, string-encoded decimals and enums follow the fapi reference
(developers.binance.com, derivatives/usds-margined-futures): exchangeInfo,
premiumIndex, ticker/bookTicker, ticker/24hr, depth, order, userTrades,
positionRisk (v2 and v3), account (v2 and v3), balance, income,
forceOrders and leverageBracket; and the wallet's (developers.binance.com, wallet/capital):
withdraw history, deposit history, deposit address. Pure functions of engine views; no HTTP here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.sim.accounts import BINANCE_TIERS
from bot.sim.contracts import SimContract
from bot.sim.marks import MarkRow
from bot.sim.order_book import OrderBook
from bot.sim.views import (
    AccountSummaryView,
    DepositAddressView,
    DepositView,
    OrderView,
    PositionView,
    TradeView,
    WithdrawalView,
)
from bot.sim.world import MS_PER_8H, FundingPayment

PERPETUAL_DELIVERY_MS = 4_133_404_800_000
"""Binance's ``deliveryDate`` of a perpetual (2100-12-25T08:00Z)."""
QTY_DECIMALS = 3
AMOUNT_DECIMALS = 8
ORDER_TYPES = ["LIMIT", "MARKET"]
TIME_IN_FORCE = ["GTC", "IOC", "FOK", "GTX"]


def dec(value: float, decimals: int = AMOUNT_DECIMALS) -> str:
    """Binance's decimal string (``"0.00000000"``), never an exponent."""
    return f"{value:.{decimals}f}"


def price_decimals(c: SimContract) -> int:
    tick = f"{c.instrument.tick_size:.10f}".rstrip("0")
    return len(tick.split(".")[1]) if "." in tick else 0


def px(c: SimContract, price: float) -> str:
    return dec(price, price_decimals(c))


def qty(amount: float) -> str:
    return dec(amount, QTY_DECIMALS)


def seq_of(engine_id: str) -> int:
    """Binance's numeric id of an engine id (``USDT-17`` -> 17, ``USDT-T5`` -> 5)."""
    return int(engine_id.rsplit("-", 1)[1].lstrip("T"))


def symbol_info(c: SimContract) -> dict[str, Any]:
    """One ``symbols`` entry of exchangeInfo (a USDT perpetual; no ``contractSize``)."""
    tick = px(c, c.instrument.tick_size)
    return {
        "symbol": c.instrument_name,
        "pair": c.instrument_name,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": c.creation_ms,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": c.underlying,
        "quoteAsset": c.currency,
        "marginAsset": c.currency,
        "pricePrecision": price_decimals(c),
        "quantityPrecision": QTY_DECIMALS,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "4529764",
                "tickSize": tick,
            },
            {
                "filterType": "LOT_SIZE",
                "stepSize": qty(c.lot),
                "maxQty": "1000",
                "minQty": qty(c.instrument.min_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "stepSize": qty(c.lot),
                "maxQty": "120",
                "minQty": qty(c.instrument.min_size),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": f"{c.min_notional:g}"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": ORDER_TYPES,
        "timeInForce": TIME_IN_FORCE,
    }


def next_funding_ms(now_ms: int) -> int:
    """The next 00:00, 08:00 or 16:00 UTC after ``now_ms``."""
    return (now_ms // MS_PER_8H + 1) * MS_PER_8H


def premium_index(c: SimContract, row: MarkRow, now_ms: int) -> dict[str, Any]:
    return {
        "symbol": c.instrument_name,
        "markPrice": dec(row.mark_price),
        "indexPrice": dec(row.index_usd),
        "estimatedSettlePrice": dec(row.index_usd),
        "lastFundingRate": dec(row.funding_8h or 0.0),
        "interestRate": "0.00010000",
        "nextFundingTime": next_funding_ms(now_ms),
        "time": now_ms,
    }


def book_ticker(c: SimContract, book: OrderBook, now_ms: int) -> dict[str, Any]:
    bid, ask = book.bids[0], book.asks[0]
    return {
        "symbol": c.instrument_name,
        "bidPrice": px(c, bid.price),
        "bidQty": qty(bid.amount),
        "askPrice": px(c, ask.price),
        "askQty": qty(ask.amount),
        "time": now_ms,
    }


def ticker_24h(
    c: SimContract, row: MarkRow, last: float | None, volume: float, now_ms: int
) -> dict[str, Any]:
    """ticker/24hr; the simulator keeps no 24h history, so open/high/low are the last price."""
    price = last if last is not None else row.mark_price
    return {
        "symbol": c.instrument_name,
        "priceChange": "0",
        "priceChangePercent": "0.000",
        "weightedAvgPrice": px(c, price),
        "lastPrice": px(c, price),
        "lastQty": "0",
        "openPrice": px(c, price),
        "highPrice": px(c, price),
        "lowPrice": px(c, price),
        "volume": qty(volume),
        "quoteVolume": dec(volume * price),
        "openTime": now_ms - 86_400_000,
        "closeTime": now_ms,
        "firstId": 0,
        "lastId": 0,
        "count": 0,
    }


def depth(c: SimContract, book: OrderBook, limit: int, now_ms: int) -> dict[str, Any]:
    return {
        "lastUpdateId": now_ms,
        "E": now_ms,
        "T": now_ms,
        "bids": [[px(c, lv.price), qty(lv.amount)] for lv in book.bids[:limit]],
        "asks": [[px(c, lv.price), qty(lv.amount)] for lv in book.asks[:limit]],
    }


_CLOSED_AS_EXPIRED = frozenset({"immediate_or_cancel", "fill_or_kill", "reduce_only"})
_TIF = {"good_til_cancelled": "GTC", "immediate_or_cancel": "IOC", "fill_or_kill": "FOK"}


def order_status(o: OrderView) -> str:
    """Binance's status: an IOC/FOK remainder is EXPIRED, a user's cancel CANCELED."""
    if o.order_state == "open":
        return "PARTIALLY_FILLED" if o.filled_amount > 0 else "NEW"
    if o.order_state == "filled":
        return "FILLED"
    return "EXPIRED" if o.cancel_reason in _CLOSED_AS_EXPIRED else "CANCELED"


def client_order_id(o: OrderView) -> str:
    """The order's ``clientOrderId``; Binance names a liquidation ``autoclose-<time><seq>``
    (e.g. ``autoclose-1596107620040000020``, the forceOrders example)."""
    if o.is_liquidation:
        return f"autoclose-{o.creation_timestamp}{seq_of(o.order_id):06d}"
    return o.label


def order(c: SimContract, o: OrderView) -> dict[str, Any]:
    """An order as ``POST/GET/DELETE /fapi/v1/order`` answer it (``newOrderRespType`` RESULT)."""
    tif = "GTX" if o.post_only else _TIF[o.time_in_force]
    kind = o.order_type.upper()
    return {
        "orderId": seq_of(o.order_id),
        "symbol": c.instrument_name,
        "status": order_status(o),
        "clientOrderId": client_order_id(o),
        "price": px(c, o.price or 0.0),
        "avgPrice": px(c, o.average_price),
        "origQty": qty(o.amount),
        "executedQty": qty(o.filled_amount),
        "cumQty": qty(o.filled_amount),
        "cumQuote": dec(o.filled_amount * o.average_price),
        "timeInForce": tif,
        "type": kind,
        "origType": kind,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.direction.upper(),
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": o.creation_timestamp,
        "updateTime": o.last_update_timestamp,
    }


def user_trade(c: SimContract, t: TradeView, order_view: OrderView) -> dict[str, Any]:
    """One ``userTrades`` entry; ``realizedPnl`` and ``commission`` in USDT."""
    return {
        "buyer": t.direction == "buy",
        "commission": dec(t.fee),
        "commissionAsset": t.fee_currency,
        "id": seq_of(t.trade_id),
        "maker": t.liquidity == "M",
        "orderId": seq_of(t.order_id),
        "price": px(c, t.price),
        "qty": qty(t.amount),
        "quoteQty": dec(t.amount * t.price),
        "realizedPnl": dec(t.profit_loss),
        "side": t.direction.upper(),
        "positionSide": "BOTH",
        "symbol": c.instrument_name,
        "time": t.timestamp,
        "clientOrderId": client_order_id(order_view),  # not in Binance's payload; ignored by ccxt
    }


def _signed(p: PositionView) -> float:
    return p.size if p.direction != "sell" else -abs(p.size)


def position_v2(
    c: SimContract, row: MarkRow, p: PositionView | None, leverage: int, now_ms: int
) -> dict[str, Any]:
    """positionRisk v2: one entry per symbol, flat ones included."""
    amount = _signed(p) if p else 0.0
    return {
        "symbol": c.instrument_name,
        "positionAmt": qty(amount),
        "entryPrice": px(c, p.average_price if p else 0.0),
        "breakEvenPrice": px(c, p.average_price if p else 0.0),
        "markPrice": dec(row.mark_price),
        "unRealizedProfit": dec(p.floating_profit_loss if p else 0.0),
        "liquidationPrice": dec((p.estimated_liquidation_price or 0.0) if p else 0.0),
        "leverage": str(leverage),
        "maxNotionalValue": "1000000",
        "marginType": "cross",
        "isolatedMargin": "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": dec(amount * row.mark_price),
        "isolatedWallet": "0",
        "updateTime": now_ms if p else 0,
    }


def position_v3(c: SimContract, row: MarkRow, p: PositionView, now_ms: int) -> dict[str, Any]:
    """positionRisk v3 (and v3 account ``positions``): open positions only."""
    amount = _signed(p)
    return {
        "symbol": c.instrument_name,
        "positionSide": "BOTH",
        "positionAmt": qty(amount),
        "entryPrice": px(c, p.average_price),
        "breakEvenPrice": px(c, p.average_price),
        "markPrice": dec(row.mark_price),
        "unRealizedProfit": dec(p.floating_profit_loss),
        "liquidationPrice": dec(p.estimated_liquidation_price or 0.0),
        "isolatedMargin": "0",
        "notional": dec(amount * row.mark_price),
        "marginAsset": c.currency,
        "isolatedWallet": "0",
        "initialMargin": dec(p.initial_margin + p.open_orders_margin),
        "maintMargin": dec(p.maintenance_margin),
        "positionInitialMargin": dec(p.initial_margin),
        "openOrderInitialMargin": dec(p.open_orders_margin),
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": now_ms,
    }


def asset_line(
    s: AccountSummaryView, open_orders_im: float, now_ms: int, *, margin_available: bool
) -> dict[str, Any]:
    """One ``assets`` entry of account v2/v3 (cross margin: wallet + unrealised = margin);
    ``margin_available`` False for an asset that margins nothing in this account."""
    upl = s.equity - s.balance
    return {
        "asset": s.currency,
        "walletBalance": dec(s.balance),
        "unrealizedProfit": dec(upl),
        "marginBalance": dec(s.equity),
        "maintMargin": dec(s.maintenance_margin),
        "initialMargin": dec(s.initial_margin),
        "positionInitialMargin": dec(s.initial_margin - open_orders_im),
        "openOrderInitialMargin": dec(open_orders_im),
        "crossWalletBalance": dec(s.balance),
        "crossUnPnl": dec(upl),
        "availableBalance": dec(s.available_funds),
        "maxWithdrawAmount": dec(s.available_withdrawal_funds),
        "marginAvailable": margin_available,
        "updateTime": now_ms,
    }


def account(
    assets: Sequence[dict[str, Any]], positions: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """account v2/v3: totals are the USDT line's (single-asset mode)."""
    usdt = next((a for a in assets if a["asset"] == "USDT"), None)

    def total(key: str) -> str:
        return str(usdt[key]) if usdt else "0.00000000"

    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "multiAssetsMargin": False,
        "totalInitialMargin": total("initialMargin"),
        "totalMaintMargin": total("maintMargin"),
        "totalWalletBalance": total("walletBalance"),
        "totalUnrealizedProfit": total("unrealizedProfit"),
        "totalMarginBalance": total("marginBalance"),
        "totalPositionInitialMargin": total("positionInitialMargin"),
        "totalOpenOrderInitialMargin": total("openOrderInitialMargin"),
        "totalCrossWalletBalance": total("crossWalletBalance"),
        "totalCrossUnPnl": total("crossUnPnl"),
        "availableBalance": total("availableBalance"),
        "maxWithdrawAmount": total("maxWithdrawAmount"),
        "assets": list(assets),
        "positions": list(positions),
    }


def balance_line(line: dict[str, Any], alias: str) -> dict[str, Any]:
    """``/fapi/v2/balance`` entry from the account's asset line."""
    return {
        "accountAlias": alias,
        "asset": line["asset"],
        "balance": line["walletBalance"],
        "crossWalletBalance": line["crossWalletBalance"],
        "crossUnPnl": line["crossUnPnl"],
        "availableBalance": line["availableBalance"],
        "maxWithdrawAmount": line["maxWithdrawAmount"],
        "marginAvailable": line["marginAvailable"],
        "updateTime": line["updateTime"],
    }


def income(p: FundingPayment) -> dict[str, Any]:
    """One ``/fapi/v1/income`` entry of type FUNDING_FEE (< 0: paid)."""
    return {
        "symbol": p.instrument_name,
        "incomeType": "FUNDING_FEE",
        "income": dec(p.amount),
        "asset": p.currency,
        "info": "FUNDING_FEE",
        "time": p.ts_ms,
        "tranId": p.id,
        "tradeId": "",
    }


_WITHDRAW_STATUS = {"unconfirmed": 4, "confirmed": 4, "completed": 6}
"""Binance withdraw status of the wallet's states: 4 Processing (under review, then on chain),
6 Completed."""


def apply_time(ts_ms: int) -> str:
    """Binance's withdrawal ``applyTime``: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def withdrawal(w: WithdrawalView, withdraw_order_id: str | None) -> dict[str, Any]:
    """One ``/sapi/v1/capital/withdraw/history`` entry; ``amount`` is what was sent, the fee
    is taken from it (the wallet model), ``withdrawOrderId`` echoes the client id."""
    line: dict[str, Any] = {
        "id": str(w.id),
        "amount": dec(w.amount),
        "transactionFee": dec(w.fee),
        "coin": w.currency,
        "status": _WITHDRAW_STATUS[w.state],
        "address": w.address,
        "txId": w.transaction_id or "",
        "applyTime": apply_time(w.created_timestamp),
        "network": w.currency,
        "transferType": 0,
        "info": "",
        "confirmNo": 1 if w.confirmed_timestamp is not None else 0,
        "walletType": 0,
    }
    if w.state == "completed":
        line["completeTime"] = apply_time(w.updated_timestamp)
    if withdraw_order_id is not None:
        line["withdrawOrderId"] = withdraw_order_id
    return line


def deposit(d: DepositView) -> dict[str, Any]:
    """One ``/sapi/v1/capital/deposit/hisrec`` entry: status 0 pending, 1 success."""
    return {
        "id": d.transaction_id,
        "amount": dec(d.amount),
        "coin": d.currency,
        "network": d.currency,
        "status": 1 if d.state == "completed" else 0,
        "address": d.address,
        "addressTag": "",
        "txId": d.transaction_id,
        "insertTime": d.received_timestamp,
        "transferType": 0,
        "confirmTimes": "1/1" if d.state == "completed" else "0/1",
        "unlockConfirm": 0,
        "walletType": 0,
    }


def deposit_address(a: DepositAddressView) -> dict[str, Any]:
    """``/sapi/v1/capital/deposit/address``: no tag, no explorer URL."""
    return {"address": a.address, "coin": a.currency, "tag": "", "url": ""}


def leverage_brackets(c: SimContract) -> dict[str, Any]:
    """``/fapi/v1/leverageBracket`` entry: the tiers the engine margins with."""
    t = BINANCE_TIERS
    brackets = []
    floor = 0.0
    for i in range(t.upper_usd.size):
        cap = float(t.upper_usd[i])
        brackets.append(
            {
                "bracket": i + 1,
                "initialLeverage": round(1.0 / float(t.im_rate_frac[i])),
                "notionalCap": cap if cap != float("inf") else 1e12,
                "notionalFloor": floor,
                "maintMarginRatio": float(t.mm_rate_frac[i]),
                "cum": float(t.maintenance_amount_usd[i]),
            }
        )
        floor = cap
    return {"symbol": c.instrument_name, "brackets": brackets}
