"""The journal: the durable truth for our intents (docs/architecture.md §5).

:class:`Journal` owns the file, its connection and its lock; each kind of
record has its own store over that connection (``orders``, ``transfers``,
``plans``, ``state``, ``external``). Import the journal, its records and errors from here.
"""

from __future__ import annotations

from bot.journal.errors import JournalError, JournalLockedError
from bot.journal.journal import Journal
from bot.journal.plans import PlanRecord, PlanState
from bot.journal.schema import SCHEMA_VERSION
from bot.journal.transfers import TransferRecord

__all__ = [
    "SCHEMA_VERSION",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "PlanRecord",
    "PlanState",
    "TransferRecord",
]
