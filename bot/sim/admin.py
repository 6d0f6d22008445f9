"""``/_sim/*``: the emulator's own read-only state and fault knobs, the same in every dialect.

Tests and operators of the emulator read its order log, positions and balances
and set its fault knobs here; a venue has no such routes, so they live apart
from the dialects' facades and are mounted beside each of them.
"""

from __future__ import annotations

import json
from functools import partial

from aiohttp import web

from bot.sim.deribit_params import to_json
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults

_dumps = partial(json.dumps, allow_nan=False, separators=(",", ":"))


def add_admin_routes(app: web.Application, exchange: SimExchange, faults: Faults) -> None:
    """Mount ``/_sim/orders``, ``positions``, ``balances`` and ``faults`` (GET and POST)."""

    async def orders(_request: web.Request) -> web.Response:
        return web.json_response(to_json(exchange.order_log()), dumps=_dumps)

    async def positions(_request: web.Request) -> web.Response:
        return web.json_response(to_json(exchange.all_positions()), dumps=_dumps)

    async def balances(_request: web.Request) -> web.Response:
        return web.json_response(to_json(exchange.all_balances()), dumps=_dumps)

    async def get_faults(_request: web.Request) -> web.Response:
        return web.json_response(faults.to_json(), dumps=_dumps)

    async def set_faults(request: web.Request) -> web.Response:
        try:
            raw = json.loads(await request.text())
            if not isinstance(raw, dict):
                raise ValueError("faults: expected a JSON object")
            faults.update_from_json(raw)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return web.json_response({"error": str(exc)}, status=400, dumps=_dumps)
        return web.json_response(faults.to_json(), dumps=_dumps)

    app.router.add_get("/_sim/orders", orders)
    app.router.add_get("/_sim/positions", positions)
    app.router.add_get("/_sim/balances", balances)
    app.router.add_get("/_sim/faults", get_faults)
    app.router.add_post("/_sim/faults", set_faults)
