"""``[daemon]``: where the journal lives and how often each scheduled job runs.

Intervals are in seconds of the daemon's clock. In mode sim that clock is the
simulated one, so the scheduler runs each job every ``interval / sim.speed``
wall seconds and the strategy sees the simulated time between hedges.

Every interval lies in [:data:`MIN_INTERVAL_S`, :data:`MAX_INTERVAL_S`]: the
scheduler (APScheduler's interval trigger) keeps intervals as ``timedelta``
and fire times as ``datetime``, which overflow near 10^11 seconds, and rounds
an interval under a microsecond to nothing (it then silently runs every
second). With ``sim.speed`` in its range, a day at the slowest speed is a
thousand days of wall time, and a tenth of a second at the fastest is one
microsecond, so every interval is one the scheduler runs as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, Strict, field_validator

from bot.config.base import FrozenModel

MIN_INTERVAL_S = 0.1
"""Shortest job interval, in seconds of the daemon's clock."""

MAX_INTERVAL_S = 86_400.0
"""Longest job interval, in seconds of the daemon's clock: a day."""

MAX_SHUTDOWN_TIMEOUT_S = 3_600.0
"""Longest grace a cycle in flight gets at shutdown, in wall seconds."""


class DaemonConfig(FrozenModel):
    """Journal file, job intervals and the shutdown grace period."""

    journal_path: Annotated[Path, Strict(False)] = Field(
        default=Path("deltabot-journal.sqlite"),
        description=(
            "SQLite journal of intents, orders, fills, transfers and trading state; relative "
            "paths are relative to the working directory. One daemon per file (locked). "
            "Default deltabot-journal.sqlite."
        ),
    )
    hedge_interval_s: float = Field(
        default=5.0,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description=(
            "Seconds between hedge cycles (read, value, decide, send). Default 5, in [0.1, 86400]."
        ),
    )
    reconcile_interval_s: float = Field(
        default=15.0,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description=(
            "Seconds between reconciliations of open orders with the venues (each hedge cycle "
            "also reconciles first). Default 15, in [0.1, 86400]."
        ),
    )
    margin_interval_s: float = Field(
        default=60.0,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description=("Seconds between margin and collateral checks. Default 60, in [0.1, 86400]."),
    )
    surface_interval_s: float = Field(
        default=300.0,
        ge=MIN_INTERVAL_S,
        le=MAX_INTERVAL_S,
        description=(
            "Seconds between refits of each options venue's implied-vol smiles from its option "
            "chain. Default 300, in [0.1, 86400]."
        ),
    )
    shutdown_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=MAX_SHUTDOWN_TIMEOUT_S,
        description=(
            "On SIGTERM/SIGINT, how long the cycle in flight may take to finish before it is "
            "aborted, in wall seconds. Default 10, in (0, 3600]."
        ),
    )

    @field_validator("journal_path")
    @classmethod
    def _check_journal_path(cls, path: Path) -> Path:
        if path.name in ("", ".", ".."):
            raise ValueError(
                f"journal_path names a file, e.g. deltabot-journal.sqlite; got {str(path)!r}"
            )
        return path
