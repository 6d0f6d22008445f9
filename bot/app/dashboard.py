"""The dashboard wired to the daemon: its controls are the operator commands' back-ends.

Halt, reduce, resume and approve from the web go through exactly the
functions ``deltabot halt/reduce/resume``, ``deltabot collateral approve`` and
``deltabot options-hedge approve`` use (:mod:`bot.app.operator`,
:mod:`bot.app.option_hedge_report`), on the daemon's journal file: the same marker
fallback, the same lifted locks, the same plan transitions. The token comes
from the variable ``[dashboard] login_env_var`` names; it is checked here,
at start-up, so a token too short to be safe stops the daemon with one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.app.operator import approve_plan, approved_text, change_text, halt, reduce, resume
from bot.app.option_hedge_report import approve_proposal
from bot.app.option_hedge_report import approved_text as proposal_approved_text
from bot.app.pnl_report import pnl_report
from bot.app.when import NO_END_MS
from bot.config import Config
from bot.domain.pnl import COMPONENTS, PnlRow, totals
from bot.domain.timeunits import MS_PER_DAY
from bot.engine.scheduler import Jobs
from bot.engine.status import recent_alerts
from bot.journal import Journal, JournalError
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


def operator_controls(config: Config) -> Controls:
    """The dashboard's actions on the daemon's journal."""
    journal_path = config.daemon.journal_path
    return Controls(
        halt=_refusing(lambda reason: change_text(halt(journal_path, reason))),
        reduce=_refusing(lambda reason: change_text(reduce(journal_path, reason))),
        resume=_refusing(lambda reason: change_text(resume(journal_path, reason))),
        approve=_refusing(lambda plan_id: approved_text(approve_plan(journal_path, plan_id))),
        approve_option_hedge=_refusing(
            lambda pid: proposal_approved_text(approve_proposal(config, pid))
        ),
    )


ALERTS_PANEL_ROWS: Final = 20
"""How many of the newest alerts the alerts panel lists (``deltabot status`` shows ten)."""
PNL_PANEL_DAYS: Final = 7
"""How many UTC days of attribution the P&L panel shows (the journal keeps them all)."""


@dataclass(slots=True)
class PnlPanel:
    """The P&L panel's context: per underlying and UTC day of the last week, each component
    in USD, the equity change and the totals (``deltabot pnl`` reads the same).

    A week of cycles is a hundred thousand journal rows, too many to attribute on the
    daemon's event loop at every refresh. Finished days do not change, so they are
    attributed once per day; today's rows again only after a new cycle was journaled. (A
    fill journaled late for a finished day shows in ``deltabot pnl``, here tomorrow.)
    """

    journal: Journal
    clock_ms: Callable[[], int]
    _past: tuple[int, tuple[PnlRow, ...]] = field(default=(-1, ()), init=False)
    """The day (epoch ms of its midnight) the finished days were attributed on, and them."""
    _today: tuple[int | None, tuple[PnlRow, ...]] = field(default=(None, ()), init=False)
    """The newest decision's time today's rows were attributed at, and them."""

    def __call__(self) -> Mapping[str, object]:
        now_ms = self.clock_ms()
        midnight = now_ms - now_ms % MS_PER_DAY
        if self._past[0] != midnight:
            since = midnight - (PNL_PANEL_DAYS - 1) * MS_PER_DAY
            self._past = (midnight, pnl_report(self.journal, since, midnight).rows)
        newest = self.journal.pnl.newest_ms()
        if self._today[0] != newest or newest is None:
            self._today = (newest, pnl_report(self.journal, midnight, NO_END_MS).rows)
        rows = (*self._past[1], *self._today[1])
        return {
            "columns": [*COMPONENTS, "equity_change_usd"],
            "days": [(r.underlying, r.day, r.intervals, r.pnl.as_dict()) for r in reversed(rows)],
            "totals": {u: p.as_dict() for u, p in totals(rows).items()},
            "window_days": PNL_PANEL_DAYS,
        }


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
        controls=None if token is None else operator_controls(config),
        session_lifetime_s=settings.session_lifetime_s,
        refresh_s=settings.refresh_s,
        simulated_clock=simulated_clock,
        pnl=PnlPanel(jobs.ctx.journal, jobs.ctx.clock_ms),
        alerts=lambda: {"rows": recent_alerts(jobs.ctx.journal, ALERTS_PANEL_ROWS)},
    )
    try:
        return mount_dashboard(setup)
    except TokenTooShortError as exc:
        raise StartupError(f"${settings.login_env_var}: {exc}") from exc
