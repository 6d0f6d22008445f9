"""Start-up check of the hedge routes against what each venue lists.

A ``[[hedges]]`` symbol the venue does not list (e.g. Deribit's own
``BTC-PERPETUAL`` where ccxt names it ``BTC/USD:BTC``) could never carry a
hedge: the daemon refuses to start and names the route and what the venue
does list, rather than leaving that underlying unhedged in silence. A route
that becomes unusable later (a delisting) is reported by the plan for that
route alone (``route_unusable``); the others keep hedging. ``check-config``
runs the same check offline where the listing is known (the embedded simulator).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

import structlog

from bot.domain.ids import Symbol, VenueId
from bot.engine.context import EngineContext
from bot.venues.base import StartupError

log = structlog.get_logger("deltabot.routes")


async def check_routes_listed(ctx: EngineContext) -> None:
    """Raise StartupError naming every route whose symbol its venue does not list."""
    problems: list[str] = []
    for i, route in enumerate(ctx.config.hedges):
        try:
            listed = await ctx.venues[route.venue].load_instruments()
        except Exception as exc:  # unreachable now: the cycles report it, route by route
            log.warning("route_check_skipped", venue=route.venue, error=str(exc))
            continue
        derivatives = {s for s, ins in listed.items() if not ins.is_option}
        problem = unlisted_route(route.symbol, route.venue, derivatives)
        if problem is not None:
            problems.append(f"[[hedges]][{i}].symbol: {problem}")
    if problems:
        raise StartupError("; ".join(problems))


def unlisted_route(symbol: Symbol, venue: VenueId, listed: Collection[Symbol]) -> str | None:
    """Why a route through ``symbol`` cannot work on ``venue`` (which lists the futures and
    perpetuals ``listed``), with the close matches; None when it is listed."""
    if symbol in listed:
        return None
    close = difflib.get_close_matches(symbol, sorted(listed), n=3, cutoff=0.3)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return (
        f"{symbol!r} is not listed by {venue} "
        f"(ccxt unified symbols, e.g. 'BTC/USD:BTC' for Deribit's BTC-PERPETUAL{hint})"
    )
