"""The daemon as a process: logging that never writes its credentials, a stop on a signal.

The credentials of every configured venue are read once, so the logging
chain masks each of them wherever it appears; a half-set pair is refused
before anything starts.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

from bot.app.daemon import install_signal_handlers, run_daemon
from bot.config import Config
from bot.ops.logging import configure_logging
from bot.secrets import configured_secrets


def configure_daemon_logging(config: Config, environ: Mapping[str, str]) -> None:
    """Log at the config's level and format, masking every configured credential.

    CredentialsError if a venue's key pair is half set.
    """
    secrets = configured_secrets(((v.name, v.testnet) for v in config.venues), environ)
    configure_logging(config.logging.level, config.logging.format, sys.stderr, secrets=secrets)


async def run_until_signalled(config: Config, environ: Mapping[str, str]) -> None:
    """Run the daemon until SIGTERM or SIGINT asks for an orderly stop."""
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_daemon(config, environ, stop)
