"""What several subcommands share: loading the config, or saying every problem with it;
the ``--since``/``--until`` window of the journal readers; the one line for a journal
problem; the heavy commands' ``--scheduler``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.app.errors import JOURNAL_MISSING, OPERATOR_ERRORS
from bot.app.when import parse_when
from bot.commands import CONFIG_HELP
from bot.compute import SCHEDULERS_HELP, Runner, open_runner, parse_scheduler
from bot.config import Config, ConfigError, format_problem, load_config, resolve_config_path
from bot.config.compute import ComputeConfig
from bot.ops.progress import RunProgress

T = TypeVar("T")


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


def report_journal_problem(command: str, exc: Exception, context: str = "") -> int:
    """Print ``exc`` as the command's one error line on stderr, with what to do when there is
    no journal yet; return the exit status 2. ``context`` goes before the problem."""
    advice = (
        ": start the daemon with 'deltabot run' (it creates the journal), or point "
        "[daemon] journal_path (or DELTABOT_DAEMON__JOURNAL_PATH) at its journal"
        if isinstance(exc, JOURNAL_MISSING)
        else ""
    )
    print(f"deltabot {command}: {context}{exc}{advice}", file=sys.stderr)
    return 2


def when_ms(text: str) -> int:
    """An argparse ``type``: ``--since``/``--until`` as epoch ms (see :mod:`bot.app.when`);
    a bad value is argparse's one-line error naming the option, exit 2."""
    try:
        return parse_when(text, int(time.time() * 1000))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_window(parser: argparse.ArgumentParser, noun: str) -> None:
    """``--since`` (default 24h ago), ``--until`` (default now) and ``--json``."""
    parser.add_argument(
        "--since",
        type=when_ms,
        default=None,
        metavar="WHEN",
        help=f"first {noun} shown: ISO-8601 date/time (UTC unless an offset is given) or an "
        "age like 90m, 24h, 7d (default: the journal's last 24 h of cycles)",
    )
    parser.add_argument(
        "--until",
        type=when_ms,
        default=None,
        metavar="WHEN",
        help=f"{noun} from this time on are left out, same forms (default: none are)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def show_rows(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    read: Callable[[argparse.Namespace, Any, int | None, int | None], list[dict[str, Any]]],
    render: Callable[[list[dict[str, Any]]], str],
) -> int:
    """Load the config, ``read`` the window from the journal and print it as JSON or
    ``render``'s text (exit 0); exit 2 for a bad config or no journal."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    try:
        rows = read(args, config.daemon.journal_path, args.since, args.until)
    except OPERATOR_ERRORS as exc:
        return report_journal_problem(args.command, exc)
    print(json.dumps(rows, indent=2) if args.json else render(rows))
    return 0


def add_plan_and_approve(
    parser: argparse.ArgumentParser, *, what: str, plan_help: str, approve_help: str, id_name: str
) -> tuple[argparse._SubParsersAction[argparse.ArgumentParser], argparse.ArgumentParser]:
    """The ``plan [--json]`` / ``approve ID`` actions of a command whose daemon journals
    proposals for an operator (``collateral``, ``options-hedge``); ``--config`` is accepted
    after the action too (``collateral plan --config x.toml``). Returns the actions and the
    ``--config`` parent, for a command with more actions."""
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = sub.add_parser("plan", parents=[config], help=plan_help)
    plan.add_argument("--json", action="store_true", help=f"print the {what} as JSON")
    approve = sub.add_parser("approve", parents=[config], help=approve_help)
    approve.add_argument(id_name, help=f"the id printed by '{parser.prog.split()[-1]} plan'")
    return sub, config


def add_scheduler(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--scheduler`` and ``--workers`` of a heavy command (see :mod:`bot.config.compute`)."""
    parser.add_argument(
        "--scheduler",
        metavar="WHERE",
        help=f"where the work runs: {SCHEDULERS_HELP}; the same results on each "
        "(default: the config's [compute] scheduler, else local)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of a local cluster, >= 1 (default: the config's [compute] "
        "workers, else one per core)",
    )


def compute_of(args: argparse.Namespace, config: ComputeConfig) -> tuple[str, int | None]:
    """The scheduler and local worker count: the command line over ``config``; ValueError
    (a SchedulerError) for a bad one."""
    scheduler = parse_scheduler(args.scheduler or config.scheduler)
    workers = args.workers if args.workers is not None else config.workers or None
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    return scheduler, workers


Progress = Callable[[int, int], None]
"""Told (tasks done, tasks) after each task."""
PROGRESS_AFTER_S = 1.0
"""A run quicker than this shows no progress."""


def on_runner(
    prog: str,
    args: argparse.Namespace,
    config: ComputeConfig,
    work: Callable[[Runner, Progress], T],
) -> tuple[T | None, int]:
    """``work`` on the runner ``--scheduler``/``--workers`` over ``config`` name, its progress
    shown on stderr (a bar with ETA on a terminal, lines otherwise, after a second): (its
    result, 0); (None, 2) after one error line for a ValueError; (None, 130) after Ctrl-C,
    once the runner's block has cancelled the tasks and stopped a local cluster."""
    name = prog.removeprefix("deltabot ")
    try:
        scheduler, workers = compute_of(args, config)
        with (
            RunProgress(sys.stderr, name, 1.0, after_s=PROGRESS_AFTER_S) as shown,
            open_runner(scheduler, workers=workers, announce=shown.note) as runner,
        ):
            return work(
                runner, lambda done, total: shown.update(done / total, f"{done}/{total} tasks")
            ), 0
    except ValueError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return None, 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return None, 130
