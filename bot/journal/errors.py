"""The journal's exceptions, in their own module so every ``journal_*`` part can raise them."""

from __future__ import annotations


class JournalError(RuntimeError):
    """The journal cannot do what was asked; the message says why."""


class JournalLockedError(JournalError):
    """Another process holds the journal's lock."""
