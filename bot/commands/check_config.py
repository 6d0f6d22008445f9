"""``deltabot check-config [PATH]``: validate a config file, print it or every problem.

Exit 0 with the validated config and the credential variables' status (never
their values), or exit 2 with each problem on its own line as
``key.path: what is wrong``. Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from bot.commands.common import report_problems
from bot.config import Config, ConfigError, Mode, load_config, resolve_config_path
from bot.secrets import MASK, CredentialsError, credential_vars, venue_credentials

_NEEDS_CREDENTIALS = (Mode.SANDBOX, Mode.LIVE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``PATH`` (optional) wins over ``--config`` and ``$DELTABOT_CONFIG``."""
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        metavar="PATH",
        help="config file to check (default: --config, $DELTABOT_CONFIG, ./config.example.toml)",
    )


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the validated config (exit 0) or every problem with its key path (exit 2)."""
    path = resolve_config_path(args.path or args.config, environ)
    try:
        config = load_config(path, environ)
        problems = credential_problems(config, environ)
    except ConfigError as exc:
        problems = exc.errors
    if problems:
        report_problems(path, problems)
        return 2
    print(f"{path}: valid config (mode {config.mode.value})")
    print(json.dumps(config.model_dump(mode="json"), indent=2))
    print("credentials (environment; values never shown):")
    for venue in config.venues:
        names = credential_vars(venue.name, testnet=venue.testnet)
        for var, unset in (
            (names.api_key, "not set"),
            (names.api_secret, "not set"),
            (names.password, "not set (only for exchanges with a passphrase)"),
        ):
            print(f"  {var:<48} {f'set {MASK}' if environ.get(var) else unset}")
    return 0


def credential_problems(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Half-set credential pairs, and missing ones where the mode trades on a real account."""
    problems = []
    for i, venue in enumerate(config.venues):
        try:
            creds = venue_credentials(venue.name, testnet=venue.testnet, environ=environ)
        except CredentialsError as exc:
            problems.append((f"venues[{i}]", str(exc)))
            continue
        if creds is None and config.mode in _NEEDS_CREDENTIALS:
            names = credential_vars(venue.name, testnet=venue.testnet)
            problems.append(
                (
                    f"venues[{i}]",
                    f"mode {config.mode.value} needs credentials: "
                    f"set {names.api_key} and {names.api_secret}",
                )
            )
    return problems
