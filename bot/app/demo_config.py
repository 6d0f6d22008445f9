"""The demo's config and script: the daemon as configured, on an accelerated clock.

At 1440x a read that takes 2.5 s of wall time is an hour old in market time,
so the staleness guard is scaled with the speed, or nothing would trade; for
the same reason our delta and the venue's Greeks, read a few wall milliseconds
apart, differ more than in real time, so the delta tolerance is widened. The
status server takes a free port, the journal goes where the caller says, and
the collateral job acts on its own (unless it is off): the demo shows it
moving collateral, not waiting for an operator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from bot.app.demo import DemoScript, default_script
from bot.config import Config
from bot.config.collateral import CollateralMode
from bot.domain.timeunits import MS_PER_HOUR

HEDGE_INTERVAL_S: Final = 300.0
"""Simulated seconds between hedge cycles: a cycle every few wall seconds at 1440x."""
STALE_WALL_S: Final = 2.5
"""Wall seconds a read may take before it is too old, whatever the speed."""
MIN_DELTA_TOLERANCE_FRAC: Final = 0.05
STREAM_SPACING_S: Final = 60.0
"""Simulated seconds between two stream-triggered cycles: at 1440x a cycle takes longer in
market time than the 1 s default allows, so triggers would run back to back."""


def demo_config(config: Config, *, speed: float, journal_path: Path) -> Config:
    """``config`` (mode sim, with a [sim] section) adjusted to run at ``speed``."""
    assert config.sim is not None
    collateral = config.collateral
    if collateral.mode is not CollateralMode.OFF:
        collateral = collateral.model_copy(update={"mode": CollateralMode.AUTO})
    return config.model_copy(
        update={
            "sim": config.sim.model_copy(update={"speed": speed}),
            "daemon": config.daemon.model_copy(
                update={"journal_path": journal_path, "hedge_interval_s": HEDGE_INTERVAL_S}
            ),
            "metrics": config.metrics.model_copy(update={"port": 0}),
            "stream": config.stream.model_copy(
                update={"min_spacing_s": max(config.stream.min_spacing_s, STREAM_SPACING_S)}
            ),
            "collateral": collateral,
            "risk": config.risk.model_copy(
                update={
                    "max_input_age_s": max(config.risk.max_input_age_s, speed * STALE_WALL_S),
                    "delta_tolerance_frac": max(
                        config.risk.delta_tolerance_frac, MIN_DELTA_TOLERANCE_FRAC
                    ),
                }
            ),
        }
    )


def demo_script(config: Config, *, hours: float, speed: float) -> DemoScript:
    """The default bad day (a BTC crash, an ETH vol spike) over ``hours`` at ``speed``: only
    the events inside the run, so the report never lists one that did not happen."""
    assert config.sim is not None
    base = default_script(config.sim.start_ms, [u.name for u in config.sim.underlyings])
    end_ms = config.sim.start_ms + hours * MS_PER_HOUR
    return DemoScript(
        hours=hours,
        speed=speed,
        hedge_interval_s=HEDGE_INTERVAL_S,
        events=tuple(e for e in base.events if e.ts_ms <= end_ms),
    )
