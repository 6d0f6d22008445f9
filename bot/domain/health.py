"""Health as a list of components, each ``ok | degraded | failing`` with its reason.

A hedger that answers "ok" while its gate denies every order is lying to the
desk. Health therefore judges hedge quality (inputs, bands, locks, margin, the
gate) as well as liveness, one named component per concern; the worst
component is the daemon's level, and HTTP answers 503 when it is failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Level(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    """Working, but a person should look (a hedge being worked, margin nearing its floor)."""
    FAILING = "failing"
    """Not hedging as configured: a supervisor's probe fails (HTTP 503)."""


_RANK: Final = MappingProxyType({Level.OK: 0, Level.DEGRADED: 1, Level.FAILING: 2})


def worst(levels: Iterable[Level]) -> Level:
    """The most severe of ``levels`` (OK for none)."""
    return max(levels, key=_RANK.__getitem__, default=Level.OK)


@dataclass(frozen=True, slots=True)
class Component:
    """One concern's verdict: ``name`` is stable (alerts key on it), ``reason`` is for a person."""

    name: str
    level: Level
    reason: str


@dataclass(frozen=True, slots=True)
class Health:
    """Every component's verdict, the trading state and the last cycle's age (None: no cycle)."""

    components: tuple[Component, ...]
    trading_state: str
    last_cycle_age_s: float | None

    @property
    def level(self) -> Level:
        return worst(c.level for c in self.components)

    @property
    def ok(self) -> bool:
        """False only when failing: a degraded daemon still hedges and answers 200."""
        return self.level is not Level.FAILING

    @property
    def detail(self) -> str:
        """The reasons of the components that are not ok, or ``"ok"``."""
        bad = [f"{c.name}: {c.reason}" for c in self.components if c.level is not Level.OK]
        return "; ".join(bad) or "ok"
