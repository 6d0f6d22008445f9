"""``deltabot options-hedge``'s back-end: list the journaled proposals, approve one.

The daemon journals each proposal PROPOSED with its expiry on its own clock. A
daemon on the wall clock (every mode but sim) shares it with this command, so a
late approval is refused here; a simulated daemon's clock is not the wall's,
and its own expiry pass is then the only judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Config, Mode
from bot.domain.timeunits import iso_utc
from bot.journal import Journal, ProposalRecord

RECENT = 20


def recent_proposals(journal_path: Path) -> tuple[ProposalRecord, ...]:
    """The newest proposals, newest first, whatever their state."""
    with Journal.open_control(journal_path) as journal:
        return journal.option_proposals.recent(RECENT)


def approve_proposal(config: Config, proposal_id: str) -> ProposalRecord:
    """Mark a live proposal APPROVED (JournalError: unknown, not proposed, or expired)."""
    with Journal.open_control(config.daemon.journal_path) as journal:
        return journal.option_proposals.approve(
            proposal_id, SystemClock().now_ms(), daemon_clock=config.mode is not Mode.SIM
        )


def proposals_json(records: Sequence[ProposalRecord]) -> list[dict[str, object]]:
    """Each proposal with its document (legs, totals, rows before and after)."""
    return [
        {
            "proposal_id": r.proposal_id,
            "ts_ms": r.ts_ms,
            "proposed_at": iso_utc(r.ts_ms),
            "expires_ts_ms": r.expires_ts_ms,
            "expires_at": iso_utc(r.expires_ts_ms),
            "state": r.state.value,
            **r.document,
        }
        for r in records
    ]


def proposals_text(records: Sequence[ProposalRecord]) -> str:
    """Per proposal: id, state, times and totals; a line per leg and per limited figure."""
    if not records:
        return "no option-hedge proposals in the journal"
    lines = []
    for r in records:
        d = r.document
        lines.append(
            f"{r.proposal_id}  {r.state.value}  {r.underlying} on {d.get('venue')}  proposed "
            f"{iso_utc(r.ts_ms)}, expires {iso_utc(r.expires_ts_ms)}  cost "
            f"{float(d.get('cost_usd', 0.0)):,.2f} USD, premium "
            f"{float(d.get('premium_usd', 0.0)):,.2f} USD, delta "
            f"{float(d.get('delta_change_coin', 0.0)):+.4f} coin"
        )
        for leg in d.get("legs", []):
            side = "buy" if leg["amount_coin"] > 0 else "sell"
            lines.append(
                f"  {side} {abs(leg['amount_coin']):g} {leg['symbol']} "
                f"(mid {leg['premium_usd_per_coin']:,.2f} USD, cost {leg['cost_usd']:,.2f} USD)"
            )
        for why in d.get("why", []):
            lines.append(f"  why: {why}")
        for row in d.get("rows", []):
            lines.append(
                f"  {row['bucket']} {row['figure']}: {row['before']:,.1f} -> {row['after']:,.1f}"
                f" (bound {row['bound']:,.1f})"
            )
    return "\n".join(lines)


def approved_text(record: ProposalRecord) -> str:
    """``approved ID (underlying, cost)``."""
    cost = float(record.document.get("cost_usd", 0.0))
    return f"approved {record.proposal_id} ({record.underlying}, expected cost {cost:,.2f} USD)"
