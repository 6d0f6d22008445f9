"""The scheduled surface refresh: fit each options venue's smiles from its option chain.

For every underlying on which a venue holds options, the job reads that venue's
option chain (marks with IVs), fits one raw-SVI smile per expiry and keeps the
surface for the hedge cycle, which prices a held option whose mark has no
usable IV off it. A smile that fails the butterfly check is logged: its marks
deserve suspicion. A venue whose chain cannot be read keeps its last surface.
"""

from __future__ import annotations

import structlog

from bot.domain.ids import Currency, VenueId
from bot.domain.surface import Surface, fit_surface
from bot.domain.timeunits import iso_utc
from bot.engine.context import EngineContext, LatestRead

log = structlog.get_logger("deltabot.surface")


async def refresh_surfaces(
    ctx: EngineContext, latest: LatestRead
) -> dict[VenueId, dict[Currency, Surface]]:
    """Refit the surfaces of every venue holding options in the last read; returns them
    (with the previous surface of any venue or underlying not refitted)."""
    fitted: dict[VenueId, dict[Currency, Surface]] = {
        v: dict(s) for v, s in latest.surfaces.items()
    }
    portfolio = latest.portfolio
    if portfolio is None:
        return fitted
    for snap in portfolio.venues:
        held = sorted({p.instrument.underlying for p in snap.positions if p.instrument.is_option})
        for underlying in held:
            try:
                chain = await ctx.venues[snap.venue].fetch_option_chain(underlying)
            except Exception as exc:  # a read failure keeps the last surface
                log.warning("option_chain_unreadable", venue=snap.venue, error=str(exc))
                continue
            surface = fit_surface(snap.instruments, chain, underlying, ctx.clock_ms())
            fitted.setdefault(snap.venue, {})[underlying] = surface
            for smile in surface.smiles.values():
                if smile.fit is None:
                    log.info(
                        "smile_not_fitted",
                        venue=snap.venue,
                        underlying=underlying,
                        expiry=iso_utc(smile.expiry_ms),
                        problem=smile.problem,
                    )
                elif not smile.arbitrage_free:
                    log.warning(
                        "smile_butterfly_arbitrage",
                        venue=snap.venue,
                        underlying=underlying,
                        expiry=iso_utc(smile.expiry_ms),
                    )
    return fitted
