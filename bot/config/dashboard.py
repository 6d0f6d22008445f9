"""``[dashboard]``: the operator's web pages and controls on the status server.

The dashboard is served by the same loopback HTTP server as ``/metrics``
(``[metrics]`` host and port), so it exists only while that server is
enabled. The login token is a secret and never sits in this file: the config
names the environment variable that holds it. Without that variable the pages
are read-only and every control is refused.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from bot.config.base import FrozenModel

DEFAULT_LOGIN_ENV_VAR: Final = "DELTABOT_DASHBOARD_TOKEN"
_ENV_NAME: Final = r"^[A-Z_][A-Z0-9_]*$"


class DashboardConfig(FrozenModel):
    """Whether the dashboard is served, where its login token comes from, how long a login
    lasts and how often the pages refresh."""

    enabled: bool = Field(
        default=True,
        description=(
            "Serve the dashboard at / on the status server (needs [metrics] enabled). Default true."
        ),
    )
    login_env_var: str = Field(
        default=DEFAULT_LOGIN_ENV_VAR,
        pattern=_ENV_NAME,
        description=(
            "Environment variable holding the login token (at least 16 characters); unset "
            "or empty: read-only pages, no controls. Default DELTABOT_DASHBOARD_TOKEN."
        ),
    )
    session_lifetime_s: float = Field(
        default=28_800.0,
        gt=0,
        le=604_800,
        description=(
            "Seconds a login lasts before the token is asked again (wall clock), in "
            "(0, 604800]. Default 28800 (8 hours)."
        ),
    )
    refresh_s: float = Field(
        default=3.0,
        ge=1,
        le=60,
        description="Seconds between the pages' live updates, in [1, 60]. Default 3.",
    )
