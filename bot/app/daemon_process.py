"""The daemon as a process: logging that never writes its credentials, a stop on a signal.

The credentials of every configured venue and the alert channels' URLs are
read once, so the logging chain masks each of them wherever it appears; a half-set pair is refused
before anything starts.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

from pydantic import SecretStr

from bot.app.daemon import install_signal_handlers, run_daemon
from bot.config import Config
from bot.engine.alert_channels import url_secrets
from bot.ops.logging import configure_logging
from bot.secrets import configured_secrets


def configure_daemon_logging(config: Config, environ: Mapping[str, str]) -> None:
    """Log at the config's level and format, masking every credential and alert URL.

    CredentialsError if a venue's key pair is half set.
    """
    secrets: list[str | SecretStr] = [
        *configured_secrets(((v.name, v.testnet) for v in config.venues), environ),
        *url_secrets(config.alerts, environ),
    ]
    configure_logging(config.logging.level, config.logging.format, sys.stderr, secrets=secrets)


async def run_until_signalled(config: Config, environ: Mapping[str, str]) -> None:
    """Run the daemon until SIGTERM or SIGINT asks for an orderly stop."""
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_daemon(config, environ, stop)
