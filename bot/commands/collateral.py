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

from bot.app.errors import OPERATOR_ERRORS
from bot.app.operator import approve_plan, approved_text, plans_json, plans_text, proposed_plans
from bot.commands.common import add_plan_and_approve, load_or_report, report_journal_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan [--json]`` or ``approve PLAN_ID``."""
    add_plan_and_approve(
        parser,
        what="plans",
        plan_help="show the proposed collateral plans, newest first",
        approve_help="approve a proposed plan for the daemon to send",
        id_name="plan_id",
    )


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
