"""What several subcommands share: loading the config, or saying every problem with it."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.config import Config, ConfigError, format_problem, load_config, resolve_config_path


def report_problems(path: Path, problems: Sequence[tuple[str, str]]) -> None:
    """Print each problem on its own line as ``key.path: what is wrong``, on stderr."""
    noun = "problem" if len(problems) == 1 else "problems"
    print(f"{path}: invalid config, {len(problems)} {noun}:", file=sys.stderr)
    for key_path, message in problems:
        print(f"  {format_problem(key_path, message)}", file=sys.stderr)


def load_or_report(path: Path | None, environ: Mapping[str, str]) -> Config | None:
    """The validated config, or None after printing every problem (the caller exits 2)."""
    resolved = resolve_config_path(path, environ)
    try:
        return load_config(resolved, environ)
    except ConfigError as exc:
        report_problems(resolved, exc.errors)
        return None
