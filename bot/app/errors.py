"""The errors a command turns into one line and exit 2, named in one place.

Each is a refusal with a message fit for an operator (a locked or missing
journal, a venue that cannot be reached or trusted, a ``[sim]`` the emulator
cannot list, an unknown strategy, half-set credentials, an alert channel's unset
or unusable URL, a systemd notify socket it cannot use, a status port taken), never a
bug; commands catch these tuples so they need not import the layers that raise them.
Only light modules are imported here: ``deltabot halt`` must not wait for ccxt. (A bad
backtest book, price file or strategy raises a ``ValueError``: ``BookError``,
``HistoryError`` and ``StrategyError`` are ones, so the backtest commands catch that.)
"""

from __future__ import annotations

from typing import Final

from bot.engine.alert_channels import AlertChannelError
from bot.journal import JournalError, JournalMissingError
from bot.ops.net import PortInUseError
from bot.ops.sdnotify import NotifyConfigError
from bot.secrets import CredentialsError
from bot.venues.base import StartupError
from strategies.registry import StrategyError


class SimSetupError(ValueError):
    """``[sim]`` describes something the simulated exchange cannot list."""


class JournalFailedError(RuntimeError):
    """The journal failed its integrity check while the daemon ran: trading was halted and the
    daemon stopped; the command exits 2 so that a supervisor and an operator notice."""


OPERATOR_ERRORS: Final = (JournalError,)
"""What an operator command working on the journal beside the daemon may meet."""

JOURNAL_MISSING: Final = JournalMissingError
"""One of the :data:`OPERATOR_ERRORS`: no journal where the config points, which the command
answers with what to do."""

START_ERRORS: Final = (
    StartupError,
    JournalError,
    SimSetupError,
    StrategyError,
    CredentialsError,
    AlertChannelError,
    NotifyConfigError,
    PortInUseError,
)
"""Why the daemon (``run``, or the demo's) cannot start safely."""
