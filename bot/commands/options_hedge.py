"""``deltabot options-hedge plan [--json]`` and ``deltabot options-hedge approve ID``.

With ``[options_hedge] enabled``, the daemon journals a proposal PROPOSED for each
underlying past a hard ``[greek_limits]`` limit; ``plan`` lists the newest ones,
``approve ID`` marks one APPROVED beside the running daemon, until it expires.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from bot.app.errors import OPERATOR_ERRORS
from bot.app.option_hedge_report import (
    approve_proposal,
    approved_text,
    proposals_json,
    proposals_text,
    recent_proposals,
)
from bot.commands.common import add_plan_and_approve, load_or_report, report_journal_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan [--json]`` or ``approve PROPOSAL_ID``."""
    add_plan_and_approve(
        parser,
        what="proposals",
        plan_help="show the newest option-hedge proposals, newest first",
        approve_help="approve a proposed option hedge before it expires",
        id_name="proposal_id",
    )


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Show or approve proposals (exit 0); exit 2 for a missing journal, an unknown, used or
    expired proposal."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    try:
        if args.action == "approve":
            print(approved_text(approve_proposal(config, args.proposal_id)))
            return 0
        records = recent_proposals(config.daemon.journal_path)
    except OPERATOR_ERRORS as exc:
        return report_journal_problem("options-hedge", exc)
    if args.json:
        print(json.dumps(proposals_json(records), indent=2))
    else:
        print(proposals_text(records))
    return 0
