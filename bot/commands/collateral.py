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
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bot.commands.common import load_or_report
from bot.journal import Journal, JournalError, PlanRecord, PlanState
from bot.journal.plans import intent_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan [--json]`` or ``approve PLAN_ID``."""
    # --config is accepted after the action too (``collateral plan --config x.toml``).
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = sub.add_parser(
        "plan", parents=[config], help="show the proposed collateral plans, newest first"
    )
    plan.add_argument("--json", action="store_true", help="print the plans as JSON")
    approve = sub.add_parser(
        "approve", parents=[config], help="approve a proposed plan for the daemon to send"
    )
    approve.add_argument("plan_id", help="the plan id printed by 'collateral plan'")


def _json(plan: PlanRecord) -> dict[str, object]:
    return {
        "plan_id": plan.plan_id,
        "ts_ms": plan.ts_ms,
        "state": plan.state.value,
        "summary": plan.summary,
        "transfers": [intent_json(i) for i in plan.intents],
    }


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Show or approve plans (exit 0); exit 2 for a missing journal or an unknown plan."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    try:
        with Journal.open_control(config.daemon.journal_path) as journal:
            if args.action == "approve":
                plan = journal.plans.mark(
                    args.plan_id, PlanState.APPROVED, time.time_ns() // 1_000_000
                )
                print(f"approved {plan.plan_id}: {plan.summary}")
                return 0
            plans = journal.plans.in_state(PlanState.PROPOSED)
    except JournalError as exc:
        print(f"deltabot collateral: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([_json(p) for p in plans], indent=2))
    elif not plans:
        print(f"no proposed collateral plans (mode {config.collateral.mode.value})")
    for plan in [] if args.json else plans:
        print(f"{plan.plan_id}  {plan.summary}")
        for i in plan.intents:
            r = i.request
            print(
                f"  {r.transfer_id}  {r.kind.value} {r.amount:g} {r.currency} from {r.venue} "
                f"to {r.destination} ({i.amount_usd:,.2f} USD)"
            )
    return 0
