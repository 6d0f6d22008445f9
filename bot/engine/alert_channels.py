"""The ``[alerts]`` channels with their apprise URLs from the environment, and their masks.

A channel's URL is a secret (its token is in it), so it is read only from the
variable ``url_env`` names, shown only as its scheme (``tgram://***``), handed
to the log redactor, and checked offline: apprise parses it without any
network. apprise and urllib3 (which apprise sends through) log URLs and request
paths, so their loggers are silenced before any URL reaches them.

apprise is imported where it is used: ``deltabot halt`` imports this module's
error through :mod:`bot.app.errors` and must not wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import SecretStr

from bot.config.alerts import AlertsConfig
from bot.domain.alerts import Severity

SILENCED_LOGGERS: Final = ("apprise", "urllib3")


class AlertChannelError(ValueError):
    """A channel's variable is unset or holds a URL apprise cannot use; one line per problem."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One delivery channel: its name, URL (secret) and lowest severity."""

    name: str
    url: SecretStr
    min_severity: Severity

    @property
    def masked_url(self) -> str:
        return masked(self.url.get_secret_value())

    def accepts(self, severity: Severity) -> bool:
        return severity.rank >= self.min_severity.rank


def masked(url: str) -> str:
    """Only the scheme of an apprise URL: ``tgram://***`` (everything after it may be a token)."""
    scheme, sep, _rest = url.partition("://")
    return f"{scheme}://***" if sep and scheme.isalnum() else "***"


def silence_apprise() -> None:
    """Raise apprise's and urllib3's loggers above CRITICAL: both log URLs with their tokens."""
    for name in SILENCED_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def notifier(url: str) -> Any:
    """An ``apprise.Apprise`` sending to ``url``, or None if apprise cannot parse it (offline)."""
    import apprise  # noqa: PLC0415  (heavy: only where a channel is built)

    silence_apprise()
    sender = apprise.Apprise()
    return sender if sender.add(url) else None


def channel_problems(alerts: AlertsConfig, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(key path, problem)`` of each channel whose variable is unset or unusable."""
    problems = []
    for i, ch in enumerate(alerts.channels):
        url = environ.get(ch.url_env, "")
        where = f"alerts.channels[{i}].url_env"
        if not url:
            problems.append((where, f"{ch.url_env} is not set: export the apprise URL there"))
        elif notifier(url) is None:
            problems.append(
                (where, f"{ch.url_env} holds {masked(url)}, which apprise cannot parse")
            )
    return problems


def build_channels(alerts: AlertsConfig, environ: Mapping[str, str]) -> tuple[Channel, ...]:
    """Every configured channel with its URL; AlertChannelError naming each bad one."""
    problems = channel_problems(alerts, environ)
    if problems:
        raise AlertChannelError("; ".join(f"{where}: {what}" for where, what in problems))
    return tuple(
        Channel(ch.name, SecretStr(environ[ch.url_env]), ch.min_severity) for ch in alerts.channels
    )


def url_secrets(alerts: AlertsConfig, environ: Mapping[str, str]) -> list[str]:
    """What the log redactor must mask for each channel whose variable is set: the URL and
    the part after its scheme (a token may be logged without the scheme)."""
    found = []
    for ch in alerts.channels:
        url = environ.get(ch.url_env, "")
        found += [url, url.partition("://")[2]]
    return [s for s in found if s]


def channel_status(
    alerts: AlertsConfig, environ: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """``(name, variable, lowest severity, masked URL or "not set")`` of each channel."""
    return [
        (
            ch.name,
            ch.url_env,
            ch.min_severity.value,
            masked(environ[ch.url_env]) if environ.get(ch.url_env) else "not set",
        )
        for ch in alerts.channels
    ]
