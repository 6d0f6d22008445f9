"""Checks on an order request before it reaches the book, with Deribit's error codes.

Every refusal names the offending parameter in ``data.param``, as Deribit
does, so a client can tell a bad amount from a bad price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from typing import Any

from bot.domain.units import MAX_AMOUNT
from bot.sim.contracts import SimContract, is_multiple
from bot.sim.errors import (
    BOOK_CLOSED,
    INVALID_AMOUNT,
    INVALID_INSTRUMENT,
    INVALID_PRICE,
    POST_ONLY_NOT_ALLOWED,
    PRICE_WRONG_TICK,
    QTY_TOO_LOW,
    bad_param,
    sim_error,
)
from bot.sim.orders import OrderTicket

MAX_LABEL_CHARS = (
    64  # Deribit private/buy: "label: user defined label for the order (maximum 64 characters)"
)
ORDER_TYPES = ("limit", "market")
TIME_IN_FORCE = ("good_til_cancelled", "immediate_or_cancel", "fill_or_kill")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def contract_for(
    contracts: Mapping[str, SimContract], expired: Set[str], instrument_name: str
) -> SimContract:
    """The live contract named ``instrument_name`` (10020 unknown, 10012 expired)."""
    c = contracts.get(instrument_name)
    if c is None:
        raise sim_error(INVALID_INSTRUMENT, param="instrument_name", reason="unknown instrument")
    if instrument_name in expired:
        raise sim_error(BOOK_CLOSED, param="instrument_name", reason="instrument has expired")
    return c


def validate_order(  # noqa: C901, PLR0912 - one check per Deribit order field, in the venue's own order
    c: SimContract,
    *,
    direction: str,
    amount: float,
    order_type: str,
    price: float | None,
    time_in_force: str,
    post_only: bool,
    reduce_only: bool,
    label: str | None,
) -> OrderTicket:
    """A well-formed :class:`OrderTicket`, or the SimError naming what is wrong."""
    if direction not in ("buy", "sell"):
        raise bad_param("direction", f"must be 'buy' or 'sell', got {direction!r}")
    if order_type not in ORDER_TYPES:
        raise bad_param("type", f"must be one of {ORDER_TYPES}, got {order_type!r}")
    if time_in_force not in TIME_IN_FORCE:
        raise bad_param("time_in_force", f"must be one of {TIME_IN_FORCE}, got {time_in_force!r}")
    if not _finite(amount) or amount <= 0:
        raise sim_error(
            INVALID_AMOUNT, param="amount", reason=f"must be a positive number, got {amount!r}"
        )
    if amount > MAX_AMOUNT:
        raise sim_error(INVALID_AMOUNT, param="amount", reason=f"at most {MAX_AMOUNT:g}")
    if amount < c.instrument.min_size - 1e-12:
        raise sim_error(QTY_TOO_LOW, param="amount", reason=f"minimum is {c.instrument.min_size}")
    if not is_multiple(amount, c.lot):
        raise sim_error(INVALID_AMOUNT, param="amount", reason=f"must be a multiple of {c.lot}")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL_CHARS):
        raise bad_param("label", f"must be a string of at most {MAX_LABEL_CHARS} characters")
    if order_type == "market":
        if post_only:
            raise sim_error(POST_ONLY_NOT_ALLOWED, param="post_only", reason="market order")
        limit = None
    else:
        if price is None or not _finite(price) or price <= 0:
            raise sim_error(
                INVALID_PRICE,
                param="price",
                reason=f"a limit order needs a positive price, got {price!r}",
            )
        if not c.on_tick(price):
            raise sim_error(PRICE_WRONG_TICK, param="price", reason=f"tick is {c.tick_at(price)}")
        limit = float(price)
    if post_only and time_in_force != "good_til_cancelled":
        raise sim_error(
            POST_ONLY_NOT_ALLOWED, param="post_only", reason="only good_til_cancelled orders rest"
        )
    return OrderTicket(
        contract=c,
        is_buy=direction == "buy",
        amount=round(float(amount), 10),
        order_type=order_type,
        price=limit,
        time_in_force=time_in_force,
        post_only=bool(post_only),
        reduce_only=bool(reduce_only),
        label=label or "",
    )
