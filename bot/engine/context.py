"""What the daemon's jobs share, passed to each of them explicitly.

:class:`EngineContext` holds the resources and settings (config, journal,
venues, clock, metrics, the stop request, the alert sink); :class:`LatestRead` is the value
the hedge cycle and the surface job produce and the other jobs read (the last
portfolio, the last cycle, the fitted surfaces). No job reaches into another
object's state: each receives these and returns what it computed, and the
scheduler (:mod:`bot.engine.scheduler`) keeps the newest ``LatestRead``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from bot.config import Config
from bot.domain.health_rules import HealthMemory
from bot.domain.ids import Currency, VenueId
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.surface import Surface
from bot.engine.alert_sink import AlertSink, NoAlerts
from bot.engine.cycle_result import CycleResult
from bot.journal import Journal
from bot.ops.metrics import DaemonMetrics
from bot.venues.base import Venue

Surfaces = Mapping[VenueId, Mapping[Currency, Surface]]
"""Fitted smiles per venue and underlying."""


@dataclass(frozen=True, slots=True)
class EngineContext:
    """The I/O resources and settings of one daemon (it owns none of them: the app does)."""

    config: Config
    journal: Journal
    venues: Mapping[VenueId, Venue]
    clock_ms: Callable[[], int]
    clock_name: str = "wall"
    """Which clock ``clock_ms`` reads, as the documents a person reads name it
    (``simulated (x60)`` in mode sim)."""
    clock_speed: float = 1.0
    """Seconds of ``clock_ms`` per wall second (the embedded simulator's speed, else 1)."""
    metrics: DaemonMetrics = field(default_factory=DaemonMetrics)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set on SIGTERM: no new network writes from then on."""
    alerts: AlertSink = field(default_factory=NoAlerts)
    """Where jobs emit alert events (:mod:`bot.engine.alert_sink`); never blocks on delivery."""

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()


@dataclass(frozen=True, slots=True)
class LatestRead:
    """The newest portfolio read, the cycle that made it, the surfaces fitted since, and what
    health remembers across cycles."""

    portfolio: PortfolioSnapshot | None = None
    cycle: CycleResult | None = None
    surfaces: Surfaces = field(default_factory=lambda: MappingProxyType({}))
    health: HealthMemory = field(default_factory=HealthMemory)

    def after_cycle(self, result: CycleResult) -> LatestRead:
        """This read moved on by ``result`` (a failed read keeps the last portfolio; a cycle
        that made no plan leaves health's memory as it was)."""
        portfolio = result.portfolio if result.portfolio is not None else self.portfolio
        health = self.health
        if result.plan is not None:
            denials = () if result.decision is None else result.decision.denied
            health = health.after(
                result.bands, [d.message for d in denials], result.gate_denied_all
            )
        return replace(self, portfolio=portfolio, cycle=result, health=health)

    def vols(self) -> dict[Currency, float]:
        """The book's vega-weighted implied vol per underlying, from the last plan."""
        plan = None if self.cycle is None else self.cycle.plan
        return {} if plan is None else {d.underlying: d.sigma for d in plan.decisions}
