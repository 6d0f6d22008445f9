"""``[daemon]``: where the journal lives and how often each scheduled job runs.

Intervals are in seconds of the daemon's clock. In mode sim that clock is the
simulated one, so the scheduler runs each job every ``interval / sim.speed``
wall seconds and the strategy sees the simulated time between hedges.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bot.config.base import FrozenModel


class DaemonConfig(FrozenModel):
    """Journal file, job intervals and the shutdown grace period."""

    journal_path: Path = Field(
        default=Path("deltabot-journal.sqlite"),
        description=(
            "SQLite journal of intents, orders, fills, transfers and trading state; relative "
            "paths are relative to the working directory. One daemon per file (locked). "
            "Default deltabot-journal.sqlite."
        ),
    )
    hedge_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between hedge cycles (read, value, decide, send). Default 5, > 0.",
    )
    reconcile_interval_s: float = Field(
        default=15.0,
        gt=0,
        description=(
            "Seconds between reconciliations of open orders with the venues (each hedge cycle "
            "also reconciles first). Default 15, > 0."
        ),
    )
    margin_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between margin and collateral checks. Default 60, > 0.",
    )
    surface_interval_s: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds between refits of each options venue's implied-vol smiles from its option "
            "chain. Default 300, > 0."
        ),
    )
    shutdown_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description=(
            "On SIGTERM/SIGINT, how long the cycle in flight may take to finish before it is "
            "aborted, in seconds. Default 10, > 0."
        ),
    )
