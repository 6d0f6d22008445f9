"""What the config configures, and the keys elsewhere that must name one of those things.

A name is only as good as what it names: a target for ``XBT`` or a stress move
for ``BTCC`` would be accepted and then mean nothing. So every key that names a
venue, an underlying or a currency is checked against the configured ones:

- a *venue* is configured by a ``[[venues]]`` table (its ``name``);
- an *underlying* is configured by a ``[[hedges]]`` route (its ``underlying``)
  and, in mode sim, by a ``[[sim.underlyings]]`` table: these are the coins the
  daemon hedges or simulates. A live book may hold others; they are valued and
  reported, and per-underlying settings for them (a stress move, a target) are
  refused, as they would change nothing the daemon does;
- a *currency* is a configured underlying or one of :data:`STABLECOINS`, the
  currencies linear contracts settle in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bot.config.base import Loc

STABLECOINS = ("USDC", "USDT")
"""Settlement currencies of linear contracts: collateral and cash besides the coins."""


def unknown_names(
    placed: Iterable[tuple[Loc, str]], known: Collection[str], problem: str, have: str = "have"
) -> list[tuple[Loc, str]]:
    """A problem at each ``(key path, name)`` whose name is not among ``known``: ``problem``
    with the name filled in (``"venue {!r} is not configured"``), then ``(have: a, b)``."""
    names = ", ".join(known) or "none"
    return [
        (loc, f"{problem.format(name)} ({have}: {names})")
        for loc, name in placed
        if name not in known
    ]


def currencies(underlyings: Collection[str]) -> tuple[str, ...]:
    """The configured currencies: the underlyings, then the stablecoins."""
    return (*sorted(underlyings), *(c for c in STABLECOINS if c not in underlyings))
