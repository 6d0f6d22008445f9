"""``deltabot`` subcommands: one module each, listed in :data:`COMMANDS`.

A command module exposes::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int: ...

``run`` returns the exit status (0 ok, 2 bad input) and gets the process
environment as a parameter, so commands are testable without touching
``os.environ``. A module is imported only when its command runs. Adding a
command is one module and one line below.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class Command(Protocol):
    """What :mod:`bot.cli` needs from a command module."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, environ: Mapping[str, str]) -> int: ...


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A subcommand: its name on the command line, its module, its one-line help."""

    name: str
    module: str
    help: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "check-config",
        "bot.commands.check_config",
        "validate a config file and print it (secrets masked)",
    ),
    CommandSpec(
        "sim-venue",
        "bot.commands.sim_venue",
        "run one Deribit-dialect venue emulator on loopback for ccxt scripts",
    ),
    CommandSpec(
        "demo",
        "bot.commands.demo",
        "value the example book and print its Greeks and exposure",
    ),
    CommandSpec(
        "backtest",
        "bot.commands.backtest",
        "hedge an option book along simulated or recorded price paths",
    ),
)
