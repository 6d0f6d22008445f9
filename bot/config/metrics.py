"""``[metrics]``: the Prometheus / health / status HTTP server of the daemon.

It binds loopback by default: the endpoints have no authentication, and a
book's Greeks and margin are nobody else's business. Exposing them on a
network interface takes two explicit keys, ``host`` and ``allow_non_loopback``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.config.base import FrozenModel, fail_at
from bot.ops.net import is_loopback


class MetricsConfig(FrozenModel):
    """Whether and where the daemon serves /metrics, /health and /status."""

    enabled: bool = Field(
        default=True,
        description="Serve /metrics, /health and /status over HTTP. Default true.",
    )
    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description=(
            "Address to bind, an IP or hostname. Default 127.0.0.1; a non-loopback host "
            "needs allow_non_loopback = true."
        ),
    )
    port: int = Field(
        default=9108,
        ge=0,
        le=65535,
        description="TCP port to bind, in 0..65535; 0 picks a free port. Default 9108.",
    )
    allow_non_loopback: bool = Field(
        default=False,
        description=(
            "Allow a host other than loopback (localhost, 127.0.0.0/8, ::1); the endpoints "
            "have no authentication. Default false."
        ),
    )

    @model_validator(mode="after")
    def _check_exposure(self) -> MetricsConfig:
        """An unauthenticated endpoint reaches the network only when asked for twice."""
        if not (self.allow_non_loopback or is_loopback(self.host)):
            fail_at(
                "metrics",
                [
                    (
                        ("host",),
                        f"{self.host!r} is not a loopback address; "
                        "set allow_non_loopback = true to expose the endpoints",
                    )
                ],
            )
        return self
