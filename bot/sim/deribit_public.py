"""Deribit v2 ``public/*`` methods mapped onto the simulated exchange.

Each handler reads its parameters the way Deribit names them and returns the
JSON ``result``; the envelope, faults and errors are the facade's business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.sim.deribit_params import Params, to_json
from bot.sim.exchange import SimExchange

PublicHandler = Callable[[SimExchange, Params], Any]

DEFAULT_BOOK_DEPTH = 20
ANY = "any"
"""Deribit's all-currencies wildcard; also what an omitted ``currency`` means here."""


def _get_time(ex: SimExchange, p: Params) -> Any:
    return ex.time_ms()


def _get_currencies(ex: SimExchange, p: Params) -> Any:
    return to_json(ex.currencies())


def _get_instruments(ex: SimExchange, p: Params) -> Any:
    return to_json(ex.instruments(p.text("currency", ANY), p.opt_text("kind"), p.flag("expired")))


def _ticker(ex: SimExchange, p: Params) -> Any:
    return to_json(ex.ticker(p.text("instrument_name")))


def _get_order_book(ex: SimExchange, p: Params) -> Any:
    depth = p.integer("depth", DEFAULT_BOOK_DEPTH)
    return to_json(ex.order_book(p.text("instrument_name"), depth))


def _get_index_price(ex: SimExchange, p: Params) -> Any:
    return to_json(ex.index_price(p.text("index_name")))


def _get_delivery_prices(ex: SimExchange, p: Params) -> Any:
    return to_json(
        ex.delivery_prices(p.text("index_name"), p.integer("offset", 0), p.integer("count", 10))
    )


def _get_book_summary_by_currency(ex: SimExchange, p: Params) -> Any:
    return to_json(ex.book_summaries(p.text("currency"), p.opt_text("kind")))


PUBLIC_METHODS: Mapping[str, PublicHandler] = {
    "public/get_time": _get_time,
    "public/get_currencies": _get_currencies,
    "public/get_instruments": _get_instruments,
    "public/ticker": _ticker,
    "public/get_order_book": _get_order_book,
    "public/get_index_price": _get_index_price,
    "public/get_book_summary_by_currency": _get_book_summary_by_currency,
    "public/get_delivery_prices": _get_delivery_prices,
}
