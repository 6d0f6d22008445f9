"""The dashboard wired to the daemon: its controls are the operator commands' back-ends.

Halt, reduce, resume and approve from the web go through exactly the
functions ``deltabot halt/reduce/resume`` and ``deltabot collateral approve``
use (:mod:`bot.app.operator`), on the daemon's journal file: the same marker
fallback, the same lifted locks, the same plan transitions. The token comes
from the variable ``[dashboard] login_env_var`` names; it is checked here,
at start-up, so a token too short to be safe stops the daemon with one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from bot.app.operator import approve_plan, approved_text, change_text, halt, reduce, resume
from bot.config import Config
from bot.engine.scheduler import Jobs
from bot.journal import JournalError
from bot.ops.status_server import Mount
from bot.venues.base import StartupError
from bot.web import (
    ControlRefusedError,
    Controls,
    DashboardSetup,
    TokenTooShortError,
    mount_dashboard,
)


def _refusing(work: Callable[[str], str]) -> Callable[[str], str]:
    """``work`` with the journal's refusals as the dashboard shows them."""

    def run(arg: str) -> str:
        try:
            return work(arg)
        except JournalError as exc:
            raise ControlRefusedError(str(exc)) from exc

    return run


def operator_controls(journal_path: Path) -> Controls:
    """The dashboard's actions on the journal at ``journal_path``."""
    return Controls(
        halt=_refusing(lambda reason: change_text(halt(journal_path, reason))),
        reduce=_refusing(lambda reason: change_text(reduce(journal_path, reason))),
        resume=_refusing(lambda reason: change_text(resume(journal_path, reason))),
        approve=_refusing(lambda plan_id: approved_text(approve_plan(journal_path, plan_id))),
    )


def dashboard_mount(
    config: Config, environ: Mapping[str, str], jobs: Jobs, *, simulated_clock: bool
) -> Mount | None:
    """The dashboard for the status server, or None when ``[dashboard]`` disables it;
    StartupError for a token too short to be safe."""
    settings = config.dashboard
    if not settings.enabled:
        return None
    token = environ.get(settings.login_env_var) or None
    setup = DashboardSetup(
        jobs=jobs,
        token=token,
        controls=None if token is None else operator_controls(config.daemon.journal_path),
        session_lifetime_s=settings.session_lifetime_s,
        refresh_s=settings.refresh_s,
        simulated_clock=simulated_clock,
    )
    try:
        return mount_dashboard(setup)
    except TokenTooShortError as exc:
        raise StartupError(f"${settings.login_env_var}: {exc}") from exc
