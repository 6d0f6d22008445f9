"""``deltabot --help`` is complete: every option of every subcommand says what it is and its
default, and required options show as required."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from bot.cli import build_parser
from bot.commands import COMMANDS

_NO_VALUE = (argparse._HelpAction, argparse._VersionAction, argparse._StoreTrueAction)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(
        (dict(a.choices) for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
        {},
    )


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The top-level parser, each subcommand's (built as when it runs) and their own."""
    yield "deltabot", build_parser()
    for spec in COMMANDS:
        pending = [(spec.name, _subparsers(build_parser(spec.name))[spec.name])]
        while pending:
            name, parser = pending.pop()
            yield name, parser
            pending += [(f"{name} {n}", p) for n, p in _subparsers(parser).items()]


PARSERS = dict(_parsers())


def _options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    return (a for a in parser._actions if not isinstance(a, argparse._SubParsersAction))


def _undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """The options whose help is missing, or says nothing of a default they have."""
    problems = []
    for action in _options(parser):
        name = "/".join(action.option_strings) or action.dest
        text = action.help
        if not text or text == argparse.SUPPRESS:
            problems.append(f"{name}: no help")
        elif isinstance(action, _NO_VALUE) or action.required:
            continue
        elif action.default not in (None, argparse.SUPPRESS, []):
            if "%(default)" not in text:
                problems.append(f"{name}: default {action.default!r} not shown (%(default)s)")
        elif "default" not in text:
            problems.append(f"{name}: says nothing of what happens without it ('default')")
    return problems


def test_every_subcommand_is_walked() -> None:
    """The walk reaches every command in COMMANDS and collateral's two actions."""
    assert {spec.name for spec in COMMANDS} <= set(PARSERS)
    assert {"collateral plan", "collateral approve"} <= set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_option_has_help_with_its_default(name: str) -> None:
    """Every option has help text, and the help of one with a default shows it."""
    assert _undocumented(PARSERS[name]) == []


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_help_renders(name: str) -> None:
    """Each --help formats (a stray % in a help text would fail only when asked for)."""
    assert PARSERS[name].format_help()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_required_options_show_as_required(name: str) -> None:
    """A required option appears in the usage line outside brackets."""
    parser = PARSERS[name]
    usage = " ".join(parser.format_usage().split())
    for action in _options(parser):
        if action.required and action.option_strings:
            option = action.option_strings[-1]
            assert f" {option} " in usage and f"[{option}" not in usage


def test_halt_and_reduce_require_a_reason() -> None:
    """halt and reduce mark --reason required; resume does not."""
    for name, required in (("halt", True), ("reduce", True), ("resume", False)):
        [reason] = [a for a in _options(PARSERS[name]) if "--reason" in a.option_strings]
        assert reason.required is required


def test_the_check_finds_an_undocumented_option() -> None:
    """An option without help, or hiding its default, is reported."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bare", type=int)
    parser.add_argument("--steps", type=int, default=84, help="time steps per path")
    assert _undocumented(parser) == [
        "--bare: no help",
        "--steps: default 84 not shown (%(default)s)",
    ]
