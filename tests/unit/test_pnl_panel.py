"""The dashboard's P&L panel: finished days attributed once a day, today after each cycle."""

from __future__ import annotations

from pathlib import Path

from bot.app.dashboard import PnlPanel
from bot.domain.ids import Currency
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR
from bot.journal import Journal

BTC = Currency("BTC")
MIDNIGHT = 1_796_083_200_000  # 2026-12-01T00:00:00Z


def _cycle(journal: Journal, n: int, ts_ms: int, index: float) -> None:
    greeks = {
        "book_delta_coin": 1.0, "hedge_coin": 0.0, "gamma_coin_per_pct": 0.0,
        "vega_usd_per_volpt": 0.0, "theta_usd_per_day": 0.0, "index_usd": index,
        "sigma": 0.5, "tau_years": 0.1,
    }  # fmt: skip
    journal.orders.record_decision(
        f"c{n}", BTC, ts_ms, greeks=greeks, inputs={}, target_coin=0.0, reason="test"
    )
    journal.pnl.record_equities(f"c{n}", {BTC: 1.0})


def _delta_by_day(context: object) -> dict[str, float]:
    assert isinstance(context, dict)
    return {day: values["delta_usd"] for _, day, _, values in context["days"]}


def test_finished_days_are_kept_and_today_follows_each_cycle(tmp_path: Path) -> None:
    """A cycle journaled late into yesterday waits for tomorrow's refresh (finished days are
    attributed once a day), while a new cycle today shows at the next render."""
    now = [MIDNIGHT + MS_PER_DAY + 2 * MS_PER_HOUR]  # 2026-12-02T02:00Z
    with Journal.open(tmp_path / "j.sqlite") as journal:
        _cycle(journal, 0, MIDNIGHT + 1 * MS_PER_HOUR, 60_000.0)
        _cycle(journal, 1, MIDNIGHT + 2 * MS_PER_HOUR, 60_100.0)  # yesterday: +100 USD delta
        _cycle(journal, 2, MIDNIGHT + MS_PER_DAY + MS_PER_HOUR, 60_300.0)  # today: +200
        panel = PnlPanel(journal, lambda: now[0])
        assert _delta_by_day(panel()) == {"2026-12-01": 100.0, "2026-12-02": 200.0}

        _cycle(journal, 3, MIDNIGHT + 3 * MS_PER_HOUR, 60_050.0)  # late, into yesterday
        _cycle(journal, 4, MIDNIGHT + MS_PER_DAY + 90 * 60_000, 60_400.0)
        # Today again: from the late cycle's 60,050 to 60,300 (+250), then to 60,400 (+100);
        # yesterday still as first attributed.
        assert _delta_by_day(panel()) == {"2026-12-01": 100.0, "2026-12-02": 350.0}

        now[0] += MS_PER_DAY  # tomorrow: the finished days are attributed again
        assert _delta_by_day(panel())["2026-12-01"] == 50.0
