"""``[alerts]``: where alerts go (apprise channels) and when a condition becomes one.

A channel's apprise URL carries its token (a Telegram bot token, a Slack
webhook path), so it is a secret: the file names only the environment variable
that holds it (``url_env``), and a URL-looking value there is refused. The
variable is read when the daemon starts and by ``deltabot check-config``
(:mod:`bot.engine.alert_channels`), never by this model.
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field, field_validator

from bot.config.base import Array, Choice, FrozenModel, Loc, fail_at, repeats
from bot.domain.alerts import Severity

_ENV_NAME: Final = re.compile(r"[A-Z_][A-Z0-9_]*")
_HH_MM: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


class AlertChannelConfig(FrozenModel):
    """One ``[[alerts.channels]]``: a name, the variable holding its URL, its lowest severity."""

    name: str = Field(
        min_length=1,
        max_length=64,
        description="Channel name shown in logs, status and check-config. Required, unique.",
    )
    url_env: str = Field(
        min_length=1,
        max_length=128,
        description=(
            "Name of the environment variable holding the channel's apprise URL (e.g. "
            "tgram://TOKEN/CHAT_ID, slack://..., json://host/path); never the URL itself. "
            "Required."
        ),
    )
    min_severity: Choice[Severity] = Field(
        default=Severity.WARNING,
        description="Lowest severity sent here: info | warning | critical. Default warning.",
    )

    @field_validator("url_env")
    @classmethod
    def _an_env_name(cls, value: str) -> str:
        """A URL in the file would put its token wherever the file goes."""
        if "://" in value or "/" in value:
            raise ValueError(
                "this looks like a URL: apprise URLs carry tokens, so put it in an environment "
                "variable and name that variable here (e.g. url_env = 'DELTABOT_ALERT_TELEGRAM')"
            )
        if _ENV_NAME.fullmatch(value) is None:
            raise ValueError(
                f"{value!r} is not an environment variable name (A-Z, 0-9 and _, "
                "not starting with a digit)"
            )
        return value


class AlertsConfig(FrozenModel):
    """Channels, the throttle window and the thresholds of the alerts the engine raises."""

    channels: Array[AlertChannelConfig] = Field(
        default=(),
        description=(
            "Apprise channels, one [[alerts.channels]] table each. Default none: alerts are "
            "still journaled, logged and shown in status."
        ),
    )
    throttle_window_s: float = Field(
        default=600.0,
        ge=1.0,
        le=86_400.0,
        description=(
            "Seconds during which repeats of one alert are counted, then sent as one message "
            "with the count. Default 600, in [1, 86400]."
        ),
    )
    band_cycles: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description=(
            "Hedge cycles an underlying may stay outside its band before it alerts. "
            "Default 3, in [1, 10000]."
        ),
    )
    ioc_cancel_streak: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description=(
            "Consecutive IOC hedge orders of one underlying canceled unfilled before it "
            "alerts. Default 3, in [1, 10000]."
        ),
    )
    liquidation_distance_frac: float = Field(
        default=0.1,
        gt=0.0,
        le=1.0,
        description=(
            "Alert when a venue is liquidated by a move of the underlying smaller than this "
            "fraction of its price, either way. Default 0.1, in (0, 1]."
        ),
    )
    stress_loss_limit_usd: float = Field(
        default=1e12,
        gt=0.0,
        le=1e15,
        description=(
            "Alert when the light stress pass's worst loss exceeds this many USD. "
            "Default 1e12 (in effect off), in (0, 1e15]."
        ),
    )
    transfer_stuck_s: float = Field(
        default=3_600.0,
        ge=1.0,
        le=604_800.0,
        description=(
            "Seconds after which a collateral transfer still in flight alerts as stuck. "
            "Default 3600, in [1, 604800]."
        ),
    )
    daily_summary_utc: str = Field(
        default="08:00",
        description=(
            "UTC time HH:MM of the daily summary (trading state, delta per underlying, "
            "orders, the day's alerts). Default 08:00."
        ),
    )
    queue_size: int = Field(
        default=1_000,
        ge=10,
        le=1_000_000,
        description=(
            "Alerts waiting for delivery at most; beyond it the oldest info alert is dropped "
            "(and counted). Default 1000, in [10, 1000000]."
        ),
    )
    drain_timeout_s: float = Field(
        default=5.0,
        gt=0.0,
        le=300.0,
        description=(
            "Seconds the daemon waits at stop (or after a crash) for alerts still to be "
            "delivered. Default 5, in (0, 300]."
        ),
    )

    @field_validator("daily_summary_utc")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if _HH_MM.fullmatch(value) is None:
            raise ValueError(f"{value!r} is not a UTC time HH:MM (00:00 to 23:59)")
        return value

    @field_validator("channels")
    @classmethod
    def _unique(cls, channels: tuple[AlertChannelConfig, ...]) -> tuple[AlertChannelConfig, ...]:
        problems: list[tuple[Loc, str]] = [
            ((i, "name"), f"duplicate channel name {channels[i].name!r} (also channels[{j}])")
            for i, j in repeats([c.name for c in channels])
        ]
        if problems:
            fail_at("alerts.channels", problems)
        return channels

    @property
    def summary_minute_utc(self) -> int:
        """The daily summary's time in minutes after midnight UTC."""
        hours, minutes = self.daily_summary_utc.split(":")
        return int(hours) * 60 + int(minutes)
