# PYTHON_ARGCOMPLETE_OK (argcomplete's marker: this entry point answers shell completion)
"""``deltabot`` command line: global options and the subcommands of :mod:`bot.commands`.

This module only wires argparse; each subcommand lives in its own module,
imported only when that subcommand runs, so a quick ``check-config`` never
pays for (or trips over) the imports of ``run`` or ``sim-venue``. Shell
completion (argcomplete, ``eval "$(register-python-argcomplete deltabot)"``)
loads the same way: only the subcommand on the line being completed. A reader
that closes our stdout early (``deltabot check-config | head``) is no error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import argcomplete

from bot import __version__
from bot.commands import COMMANDS, CONFIG_HELP, CommandSpec


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The ``deltabot`` parser; only the ``selected`` subcommand gets its own arguments.

    With ``selected`` None it only finds out which subcommand is asked for.
    """
    parser = argparse.ArgumentParser(
        prog="deltabot",
        description="Automated delta hedging of crypto options books.",
        epilog="New here? 'deltabot demo' runs the daemon through a simulated bad day. "
        "'deltabot COMMAND --help' lists a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"deltabot {__version__}")
    parser.add_argument("--config", type=Path, metavar="PATH", help=CONFIG_HELP)
    # Accepted after the subcommand too (`deltabot demo --config x.toml`); SUPPRESS
    # keeps a subcommand from overwriting a --config given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for spec in COMMANDS:
        sub = subparsers.add_parser(
            spec.name,
            parents=[common],
            help=spec.help,
            description=spec.help,
            add_help=spec.name == selected,
        )
        if spec.name == selected:
            getattr(load_command(spec.name), spec.arguments)(sub)
    return parser


def load_command(name: str) -> ModuleType:
    """Import the module behind subcommand ``name``."""
    return importlib.import_module(_spec(name).module)


def _spec(name: str) -> CommandSpec:
    return next(spec for spec in COMMANDS if spec.name == name)


def _complete(environ: Mapping[str, str]) -> None:
    """Answer a shell's completion request (argcomplete's protocol: ``_ARGCOMPLETE`` and
    ``COMP_LINE`` in the environment) and exit; otherwise return at once.

    Only the subcommand already on the line gets its arguments, as in :func:`main`.
    """
    if "_ARGCOMPLETE" not in environ:
        return
    line = environ.get("COMP_LINE", "")[: int(environ.get("COMP_POINT", "0") or 0)]
    words = line.split()[1:]
    if words and not line.endswith(" "):
        words = words[:-1]  # the word being completed names no subcommand yet
    names = {spec.name for spec in COMMANDS}
    selected = next((word for word in words if word in names), None)
    argcomplete.autocomplete(build_parser(selected))


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run ``deltabot`` with ``argv`` (default: the process arguments); return the exit status.

    ``environ`` defaults to the process environment; it is the only place read.
    """
    _complete(os.environ if environ is None else environ)
    try:
        command = build_parser().parse_known_args(argv)[0].command
        args = build_parser(command).parse_args(argv)
    except SystemExit as exc:  # usage error (2), --help or --version (0)
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    spec = _spec(command)
    entry: Callable[[argparse.Namespace, Mapping[str, str]], int] = getattr(
        load_command(command), spec.entry
    )
    try:
        status = entry(args, os.environ if environ is None else environ)
        sys.stdout.flush()  # a closed stdout must fail here, not in the interpreter's exit
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        # Python's advice on SIGPIPE (docs.python.org/3/library/signal.html): point stdout at
        # devnull so that the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (and not, say, a network peer)."""
    poller = select.poll()
    poller.register(sys.stdout.fileno(), select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))
