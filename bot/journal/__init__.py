"""The journal: the durable truth for our intents (docs/architecture.md §5).

:class:`Journal` owns the file, its connection and its lock; each kind of
record has its own store over that connection (``orders``, ``transfers``,
``plans``, ``state``, ``external``, ``pnl``, ``actions``, ``alerts``,
``option_proposals``). The halt
marker beside it halts trading when the journal itself cannot be read. Import the
journal, its records, errors and the halt marker's functions from here.
"""

from __future__ import annotations

from bot.journal.actions import OperatorAction
from bot.journal.alerts import AlertRow
from bot.journal.errors import (
    JournalError,
    JournalFileError,
    JournalLockedError,
    JournalMissingError,
)
from bot.journal.journal import Journal
from bot.journal.marker import halt_marker_path, remove_halt_marker, write_halt_marker
from bot.journal.option_proposals import ProposalRecord, ProposalState
from bot.journal.plans import PlanRecord, PlanState
from bot.journal.schema import SCHEMA_VERSION
from bot.journal.transfers import TransferRecord

__all__ = [
    "SCHEMA_VERSION",
    "AlertRow",
    "Journal",
    "JournalError",
    "JournalFileError",
    "JournalLockedError",
    "JournalMissingError",
    "OperatorAction",
    "PlanRecord",
    "PlanState",
    "ProposalRecord",
    "ProposalState",
    "TransferRecord",
    "halt_marker_path",
    "remove_halt_marker",
    "write_halt_marker",
]
