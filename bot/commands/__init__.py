"""``deltabot`` subcommands: one module each, listed in :data:`COMMANDS`.

A command module exposes::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int: ...

(or other names, given as the spec's ``entry`` and ``arguments``). ``run`` returns
the exit status (0 ok, 2 bad input) and gets the process environment as a
parameter, so commands are testable without touching ``os.environ``. A module
is imported only when its command runs. Adding a command is one module and one
line below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CONFIG_HELP: Final = "config file (default: $DELTABOT_CONFIG, else ./config.example.toml)"
"""The help of ``--config``, which every command takes."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A subcommand: its name on the command line, its module, its one-line help."""

    name: str
    module: str
    help: str
    entry: str = "run"
    """The module's function that runs it (two commands may share a module)."""
    arguments: str = "add_arguments"
    """The module's function that adds its arguments to its parser."""


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
        "run the daemon on two emulated venues through a jump and a vol spike; report + chart",
    ),
    CommandSpec(
        "value",
        "bot.commands.value",
        "value the [sim] book at the simulated start and print its Greeks and exposure",
    ),
    CommandSpec(
        "run",
        "bot.commands.run",
        "run the hedging daemon until SIGTERM/SIGINT (mode sim: on the embedded simulator)",
    ),
    CommandSpec(
        "status",
        "bot.commands.status",
        "show the running daemon's Greeks, hedges, margin and trading state",
    ),
    CommandSpec(
        "halt",
        "bot.commands.trading",
        "stop all trading (persisted; the daemon obeys from its next cycle)",
        entry="run_halt",
        arguments="add_required_reason",
    ),
    CommandSpec(
        "reduce",
        "bot.commands.trading",
        "only reduce positions from now on (persisted) until resumed",
        entry="run_reduce",
        arguments="add_required_reason",
    ),
    CommandSpec(
        "resume",
        "bot.commands.trading",
        "resume trading after a halt and lift underlying locks",
        entry="run_resume",
    ),
    CommandSpec(
        "pnl",
        "bot.commands.pnl",
        "P&L attribution per underlying and UTC day from the journal (delta, gamma, theta, ...)",
    ),
    CommandSpec(
        "orders",
        "bot.commands.orders",
        "orders from the journal: what was sent, the decision and Greeks behind it, the outcome",
    ),
    CommandSpec(
        "fills",
        "bot.commands.fills",
        "fills from the journal: price, amount, fee and the order they belong to",
    ),
    CommandSpec(
        "collateral",
        "bot.commands.collateral",
        "show proposed collateral transfer plans, or approve one for the daemon to send",
    ),
    CommandSpec(
        "options-hedge",
        "bot.commands.options_hedge",
        "show option-hedge proposals for vega/gamma limits, or approve one",
    ),
    CommandSpec(
        "stress",
        "bot.commands.stress",
        "stress the book: price x vol grid, crash, venue default, freeze, cascade, custom",
    ),
    CommandSpec(
        "backtest",
        "bot.commands.backtest",
        "hedge an option book along simulated or recorded price paths",
    ),
    CommandSpec(
        "data",
        "bot.commands.data",
        "chain store: fetch Tardis.dev days and Deribit deliveries, import-tardis, show",
    ),
)
