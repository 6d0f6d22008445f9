"""``deltabot run``: the hedging daemon, until SIGTERM/SIGINT.

With ``config.example.toml`` it runs on the embedded simulator (mode sim):
the emulated venues start on loopback and the daemon trades them through
ccxt, exactly as it would a real exchange.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping

from bot.app.daemon import install_signal_handlers, run_daemon
from bot.app.sim_world import SimSetupError
from bot.commands.common import load_or_report
from bot.config import Config
from bot.journal import JournalError
from bot.ops.logging import configure_logging
from bot.secrets import CredentialsError, configured_secrets
from bot.venues.clients import StartupError
from strategies.registry import StrategyError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``run`` takes only the global ``--config``."""


async def _main(config: Config, environ: Mapping[str, str]) -> None:
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_daemon(config, environ, stop)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the daemon (exit 0 after an orderly stop); exit 2 if it cannot start safely."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    try:
        secrets = configured_secrets(((v.name, v.testnet) for v in config.venues), environ)
    except CredentialsError as exc:
        print(f"deltabot run: cannot start: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.logging.level, config.logging.format, sys.stderr, secrets=secrets)
    try:
        asyncio.run(_main(config, environ))
    except (StartupError, JournalError, SimSetupError, StrategyError, CredentialsError) as exc:
        print(f"deltabot run: cannot start: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the status port is taken, say
        print(f"deltabot run: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0
