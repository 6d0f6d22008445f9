"""What ``deltabot pnl`` shows: the journal's P&L attribution per underlying and UTC day.

:func:`pnl_report` is the one entry for every reader (the command, the dashboard, the
daily summary): it works on an open journal, the daemon's own or one opened beside it
with :meth:`~bot.journal.Journal.open_control`. The formulas are in
:mod:`bot.domain.pnl` (docs/architecture.md §9).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bot.app.when import journal_window, until_text
from bot.domain.ids import Currency
from bot.domain.pnl import COMPONENTS, PnlComponents, PnlRow, totals
from bot.domain.timeunits import iso_utc
from bot.journal import Journal

_HEADS: Final = ("delta", "gamma", "theta", "vega", "slippage", "fees", "funding", "unexpl.")
_WIDTH: Final = 12


@dataclass(frozen=True, slots=True)
class PnlReport:
    """The attribution of the intervals that end in ``[since_ms, until_ms)``, in USD."""

    since_ms: int
    until_ms: int
    rows: tuple[PnlRow, ...]

    @property
    def totals(self) -> dict[Currency, PnlComponents]:
        """Per underlying, the sum over its days."""
        return totals(self.rows)

    def as_json(self) -> dict[str, Any]:
        return {
            "since": iso_utc(self.since_ms),
            "until": until_text(self.until_ms),
            "unit": "USD",
            "days": [
                {"underlying": r.underlying, "day": r.day, "intervals": r.intervals}
                | r.pnl.as_dict()
                for r in self.rows
            ],
            "totals": {u: p.as_dict() for u, p in self.totals.items()},
        }


def pnl_report(journal: Journal, since_ms: int, until_ms: int) -> PnlReport:
    """The attribution of the cycles valued in ``[since_ms, until_ms)`` (each interval
    from the valuation before it), per underlying and UTC day."""
    return PnlReport(since_ms, until_ms, journal.pnl.daily(since_ms, until_ms))


def read_pnl(journal_path: Path, since_ms: int | None, until_ms: int | None) -> PnlReport:
    """:func:`pnl_report` of the journal at ``journal_path``, beside a running daemon or
    not (None: the default window of :func:`~bot.app.when.journal_window`); JournalError
    when there is none."""
    with Journal.open_control(journal_path) as journal:
        return pnl_report(journal, *journal_window(journal, since_ms, until_ms))


def _cells(p: PnlComponents) -> str:
    values = [getattr(p, n) for n in COMPONENTS] + [p.equity_change_usd]
    return "".join(f"{v:>{_WIDTH},.2f}" for v in values)


def render_text(report: PnlReport) -> str:
    """The report as a table: one line per underlying and day, then the totals."""
    head = "".join(f"{h:>{_WIDTH}}" for h in (*_HEADS, "equity chg"))
    lines = [
        f"P&L attribution, USD, from {iso_utc(report.since_ms)} "
        f"to {until_text(report.until_ms) or 'the newest cycle'}"
        " (unexpl. = equity change minus the rest)",
        f"{'day':<11}{'underlying':<11}{head}",
    ]
    if not report.rows:
        lines.append("no valued cycles in this window")
    for r in report.rows:
        lines.append(f"{r.day:<11}{r.underlying:<11}{_cells(r.pnl)}")
    for u, p in report.totals.items():
        lines.append(f"{'total':<11}{u:<11}{_cells(p)}")
    return "\n".join(lines)
