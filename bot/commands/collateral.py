"""``deltabot collateral plan`` and ``deltabot collateral approve ID``.

In ``[collateral] mode = "plan"`` the daemon journals each new transfer plan
as PROPOSED and sends nothing; ``plan`` shows the proposals (newest first),
``approve ID`` marks one APPROVED in the journal, beside the running daemon,
which sends exactly those transfers through the transfer gate at its next
collateral run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from bot.app.errors import OPERATOR_ERRORS
from bot.app.operator import approve_plan, approved_text, plans_json, plans_text, proposed_plans
from bot.commands import CONFIG_HELP
from bot.commands.common import load_or_report, report_journal_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan [--json]`` or ``approve PLAN_ID``."""
    # --config is accepted after the action too (``collateral plan --config x.toml``).
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = sub.add_parser(
        "plan", parents=[config], help="show the proposed collateral plans, newest first"
    )
    plan.add_argument("--json", action="store_true", help="print the plans as JSON")
    approve = sub.add_parser(
        "approve", parents=[config], help="approve a proposed plan for the daemon to send"
    )
    approve.add_argument("plan_id", help="the plan id printed by 'collateral plan'")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Show or approve plans (exit 0); exit 2 for a missing journal or an unknown plan."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
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
