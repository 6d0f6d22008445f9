"""``deltabot collateral plan``, ``deltabot collateral approve ID`` and ``deltabot collateral
what-if``.

In ``[collateral] mode = "plan"`` the daemon journals each new transfer plan
as PROPOSED and sends nothing; ``plan`` shows the proposals (newest first),
``approve ID`` marks one APPROVED in the journal, beside the running daemon,
which sends exactly those transfers through the transfer gate at its next
collateral run.

``what-if`` needs no daemon: it solves the optimizer for the ``[sim]`` book
across the ``[stress]`` grid's price moves, with each venue in turn capped at
``--cap-frac`` of its equity (:mod:`bot.app.collateral_whatif`), on the runner
``--scheduler`` or ``[compute]`` names, and prints each scenario's plan: status,
cost, transfers, shortfall.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from bot.app.collateral_whatif import whatif_json, whatif_report, whatif_text
from bot.app.errors import OPERATOR_ERRORS
from bot.app.operator import approve_plan, approved_text, plans_json, plans_text, proposed_plans
from bot.commands.common import (
    add_plan_and_approve,
    add_scheduler,
    load_or_report,
    on_runner,
    report_journal_problem,
)
from bot.config import Config

DEFAULT_CAP_FRAC = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan [--json]``, ``approve PLAN_ID`` or ``what-if [--cap-frac F] [--json]``."""
    actions, config = add_plan_and_approve(
        parser,
        what="plans",
        plan_help="show the proposed collateral plans, newest first",
        approve_help="approve a proposed plan for the daemon to send",
        id_name="plan_id",
    )
    whatif = actions.add_parser(
        "what-if",
        parents=[config],
        help="plan the [sim] book's collateral across price moves and venue caps (no daemon)",
    )
    whatif.add_argument(
        "--cap-frac",
        type=float,
        default=DEFAULT_CAP_FRAC,
        metavar="F",
        help="each venue in turn held to this fraction of its equity, in [0, 1] "
        "(default: %(default)s)",
    )
    whatif.add_argument("--json", action="store_true", help="print the scenarios as JSON")
    add_scheduler(whatif)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Show or approve plans (exit 0); exit 2 for a missing journal or an unknown plan."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    if args.action == "what-if":
        return _what_if(args, config)
    path = config.daemon.journal_path
    try:
        if args.action == "approve":
            print(approved_text(approve_plan(path, args.plan_id)))
            return 0
        plans = proposed_plans(path)
    except OPERATOR_ERRORS as exc:
        return report_journal_problem("collateral", exc)
    if args.json:
        print(json.dumps(plans_json(plans), indent=2))
    else:
        print(plans_text(plans, config.collateral.mode.value))
    return 0


def _what_if(args: argparse.Namespace, config: Config) -> int:
    """Every scenario's plan (0), or one error line (2)."""
    report, status = on_runner(
        "deltabot collateral what-if",
        args,
        config.compute,
        lambda runner, progress: whatif_report(
            config, cap_frac=args.cap_frac, runner=runner, progress=progress
        ),
    )
    if report is not None:
        print(json.dumps(whatif_json(report), indent=2) if args.json else whatif_text(report))
    return status
