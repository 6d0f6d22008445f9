"""Deribit v2 ``private/*`` methods mapped onto one account of the simulated exchange.

The facade authenticates first and passes the account id the API key belongs
to; handlers only translate Deribit's parameter names and result shapes
(``{"order", "trades"}`` for orders, ``{"trades", "has_more"}`` for user trades,
``{"count", "data"}`` for deposits and withdrawals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast, get_args

from bot.sim.advanced import ADVANCED, Advanced
from bot.sim.deribit_params import Params, to_json
from bot.sim.deribit_public import ANY
from bot.sim.errors import bad_param
from bot.sim.exchange import Direction, OrderType, SimExchange, TimeInForce

PrivateHandler = Callable[[SimExchange, int, Params], Any]

MAX_COUNT = 1000
"""Deribit's largest page for order and trade history."""
ORDER_TYPES: tuple[str, ...] = get_args(OrderType)
TIME_IN_FORCE: tuple[str, ...] = get_args(TimeInForce)


def _count(p: Params, default: int) -> int:
    count = p.integer("count", default)
    if not 1 <= count <= MAX_COUNT:
        raise bad_param("count", f"must be between 1 and {MAX_COUNT}")
    return count


def _page(items: Sequence[Any], p: Params, default_count: int) -> dict[str, Any]:
    """Deribit's ``{"count": total, "data": page}`` answer for deposits and withdrawals."""
    count, offset = _count(p, default_count), p.integer("offset", 0)
    if offset < 0:
        raise bad_param("offset", "must be >= 0")
    return {"count": len(items), "data": to_json(list(items[offset : offset + count]))}


def _get_account_summary(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.account_summary(acct, p.text("currency")))


def _get_account_summaries(ex: SimExchange, acct: int, p: Params) -> Any:
    summaries = [ex.account_summary(acct, c.currency) for c in ex.currencies()]
    return {"id": acct, "summaries": to_json(summaries)}


def _get_positions(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.positions(acct, p.text("currency", ANY), p.opt_text("kind")))


def _place(direction: Direction) -> PrivateHandler:
    def handler(ex: SimExchange, acct: int, p: Params) -> Any:
        # choice() has checked membership of the engine's own Literal values.
        order_type = cast(OrderType, p.choice("type", ORDER_TYPES) or "limit")
        tif = cast(TimeInForce, p.choice("time_in_force", TIME_IN_FORCE) or "good_til_cancelled")
        order, trades = ex.place_order(
            acct,
            direction=direction,
            instrument_name=p.text("instrument_name"),
            amount=p.number("amount"),
            type=order_type,
            price=p.opt_number("price"),
            time_in_force=tif,
            post_only=p.flag("post_only"),
            reduce_only=p.flag("reduce_only"),
            label=p.opt_text("label"),
            advanced=cast(Advanced | None, p.choice("advanced", ADVANCED)),
        )
        return {"order": to_json(order), "trades": to_json(trades)}

    return handler


def _cancel(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.cancel(acct, p.text("order_id")))


def _get_order_state(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.order_state(acct, p.text("order_id")))


def _get_open_orders_by_currency(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.open_orders(acct, p.text("currency"), None))


def _get_open_orders_by_instrument(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.open_orders(acct, None, p.text("instrument_name")))


def _get_order_state_by_label(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.orders_by_label(acct, p.text("currency"), p.text("label")))


def _get_open_orders_by_label(ex: SimExchange, acct: int, p: Params) -> Any:
    orders = ex.orders_by_label(acct, p.text("currency"), p.text("label"))
    return to_json([o for o in orders if o.order_state == "open"])


def _get_order_history_by_currency(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.order_history(acct, p.text("currency"), None, _count(p, 20)))


def _get_order_history_by_instrument(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.order_history(acct, None, p.text("instrument_name"), _count(p, 20)))


def _user_trades(by_instrument: bool, with_time: bool) -> PrivateHandler:
    """Handler of ``get_user_trades_by_{currency,instrument}[_and_time]``.

    Asks the engine for one trade more than the page so ``has_more`` is true
    exactly when another page exists.
    """

    def handler(ex: SimExchange, acct: int, p: Params) -> Any:
        count = _count(p, 10)
        trades = ex.user_trades(
            acct,
            None if by_instrument else p.text("currency"),
            p.text("instrument_name") if by_instrument else None,
            p.integer("start_timestamp") if with_time else p.opt_integer("start_timestamp"),
            p.opt_integer("end_timestamp"),
            count + 1,
        )
        return {"trades": to_json(trades[:count]), "has_more": len(trades) > count}

    return handler


def _get_subaccounts(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.subaccounts(acct))


def _submit_transfer_to_subaccount(ex: SimExchange, acct: int, p: Params) -> Any:
    transfer = ex.transfer_to_subaccount(
        acct, p.text("currency"), p.number("amount"), p.integer("destination")
    )
    return to_json(transfer)


def _withdraw(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.withdraw(acct, p.text("currency"), p.text("address"), p.number("amount")))


def _get_current_deposit_address(ex: SimExchange, acct: int, p: Params) -> Any:
    return to_json(ex.deposit_address(acct, p.text("currency")))


def _get_deposits(ex: SimExchange, acct: int, p: Params) -> Any:
    return _page(ex.deposits(acct, p.text("currency")), p, 10)


def _get_withdrawals(ex: SimExchange, acct: int, p: Params) -> Any:
    return _page(ex.withdrawals(acct, p.text("currency")), p, 10)


PRIVATE_METHODS: Mapping[str, PrivateHandler] = {
    "private/get_account_summary": _get_account_summary,
    "private/get_account_summaries": _get_account_summaries,
    "private/get_positions": _get_positions,
    "private/buy": _place("buy"),
    "private/sell": _place("sell"),
    "private/cancel": _cancel,
    "private/get_order_state": _get_order_state,
    "private/get_open_orders_by_currency": _get_open_orders_by_currency,
    "private/get_open_orders_by_instrument": _get_open_orders_by_instrument,
    "private/get_open_orders_by_label": _get_open_orders_by_label,
    "private/get_order_state_by_label": _get_order_state_by_label,
    "private/get_order_history_by_currency": _get_order_history_by_currency,
    "private/get_order_history_by_instrument": _get_order_history_by_instrument,
    "private/get_user_trades_by_currency": _user_trades(by_instrument=False, with_time=False),
    "private/get_user_trades_by_currency_and_time": _user_trades(False, with_time=True),
    "private/get_user_trades_by_instrument": _user_trades(by_instrument=True, with_time=False),
    "private/get_user_trades_by_instrument_and_time": _user_trades(True, with_time=True),
    "private/get_subaccounts": _get_subaccounts,
    "private/submit_transfer_to_subaccount": _submit_transfer_to_subaccount,
    "private/withdraw": _withdraw,
    "private/get_current_deposit_address": _get_current_deposit_address,
    "private/get_deposits": _get_deposits,
    "private/get_withdrawals": _get_withdrawals,
}
