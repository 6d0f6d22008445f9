"""``deltabot check-config [PATH]``: validate a config file, print it or every problem.

Exit 0 with the validated config, the credential variables' status (never
their values) and the alert channels (their URLs masked to the scheme), or exit 2
with each problem on its own line as ``key.path: what is wrong``: every problem of
the file, and every refusal ``run`` would meet before touching the network
(:mod:`bot.app.config_check`). Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from bot.app.config_check import (
    alert_status,
    credential_status,
    startup_problems,
    stream_status,
)
from bot.commands.common import report_problems
from bot.config import ConfigError, load_config, resolve_config_path


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
        problems = startup_problems(config, environ)
    except ConfigError as exc:
        problems = exc.errors
    if problems:
        report_problems(path, problems)
        return 2
    print(f"{path}: valid config (mode {config.mode.value})")
    print(json.dumps(config.model_dump(mode="json"), indent=2))
    print("credentials (environment; values never shown):")
    for var, status in credential_status(config, environ):
        print(f"  {var:<48} {status}")
    print("alert channels (URL from the environment; only its scheme shown):")
    for name, var, severity, url in alert_status(config, environ) or [("none", "", "", "")]:
        print(f"  {name:<16} {var:<32} {severity:<9} {url}")
    print("streams ([stream]; the timer hedges every venue, REST is the truth):")
    for venue, status in stream_status(config):
        print(f"  {venue:<16} {status}")
    return 0
