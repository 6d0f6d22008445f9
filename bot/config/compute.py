"""``[compute]``: where heavy commands (``deltabot backtest``, ``deltabot stress``) run.

``serial`` runs in the command's own process; ``local`` starts a Dask cluster
of one single-threaded worker process per core for the run and stops it
after; ``tcp://host:8786`` sends the work to a running ``dask scheduler`` and
its workers, on this machine or others. Results are the same on all three.
``--scheduler`` on the command line overrides the key.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.compute import SCHEDULERS_HELP, parse_scheduler
from bot.config.base import FrozenModel


class ComputeConfig(FrozenModel):
    """The runner of heavy work and the size of the local cluster."""

    scheduler: str = Field(
        default="local",
        description=(
            f"Where heavy work runs: {SCHEDULERS_HELP} (a running dask scheduler's "
            "address). Default local."
        ),
    )
    workers: int = Field(
        default=0,
        ge=0,
        le=4096,
        description=(
            "Worker processes of the local cluster, in 0..4096; 0 is one per core. "
            "Ignored by serial and tcp://. Default 0."
        ),
    )

    @field_validator("scheduler")
    @classmethod
    def _check_scheduler(cls, value: str) -> str:
        """One clear message for a mistyped scheduler, at load time, not at the first run."""
        return parse_scheduler(value)
