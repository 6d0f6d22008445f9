"""The journal's exceptions, in their own module so every ``journal_*`` part can raise them."""

from __future__ import annotations


class JournalError(RuntimeError):
    """The journal cannot do what was asked; the message says why."""


class JournalMissingError(JournalError):
    """No journal at the path an operator command was given: the daemon never ran with it, or
    the command was pointed elsewhere; the command says which to do."""


class JournalLockedError(JournalError):
    """Another process holds the journal's lock."""


class JournalFileError(JournalError):
    """The file at the journal's path cannot be used as a journal: not a database, corrupt or
    truncated, a directory or a FIFO, replaced under the daemon, or SQLite failed on it.

    The message names the file and what is wrong. An operator's ``halt`` falls back to
    the halt marker beside it (:mod:`bot.journal.marker`).
    """
