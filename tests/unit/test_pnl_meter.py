"""PnlMeter: today's attribution in the metrics equals the journal's, cycle by cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.pnl import COMPONENTS, ValuationPoint
from bot.engine.pnl_meter import PnlMeter
from bot.journal import Journal
from bot.ops.metrics import DaemonMetrics
from tests.unit.test_pnl_commands import BTC, T0, _cycle, _greeks

MINUTE = 60_000


def _gauges(metrics: DaemonMetrics) -> dict[str, float | None]:
    return {
        c: metrics.registry.get_sample_value(
            "deltabot_pnl_today_usd", {"underlying": "BTC", "component": c.removesuffix("_usd")}
        )
        for c in (*COMPONENTS, "equity_change_usd")
    }


def test_increments_match_a_fresh_restore_from_the_journal(tmp_path: Path) -> None:
    """A meter fed every cycle shows what a new meter restored from the journal shows."""
    steps = [(60_000.0, 0.0, 10.0), (60_600.0, -1.0, 9.9), (60_300.0, -1.0, 9.95)]
    live = DaemonMetrics()
    with Journal.open(tmp_path / "journal.sqlite") as j:
        meter = PnlMeter(j.pnl, live)
        for n, (index, hedge, equity) in enumerate(steps):
            _cycle(j, n, index, hedge, equity)
            ts = T0 + n * MINUTE
            meter.observe(ts, {BTC: ValuationPoint.of(ts, _greeks(index, hedge), equity)})
        restored = DaemonMetrics()
        PnlMeter(j.pnl, restored).observe(
            ts, {BTC: ValuationPoint.of(ts, _greeks(*steps[-1][:2]), 9.95)}
        )
    assert _gauges(live) == pytest.approx(_gauges(restored))
    assert _gauges(live)["equity_change_usd"] == pytest.approx(9.95 * 60_300 - 600_000)


def test_a_new_utc_day_starts_from_the_interval_that_crosses_midnight(tmp_path: Path) -> None:
    """After midnight the gauges hold only the intervals that end on the new day."""
    metrics = DaemonMetrics()
    midnight = T0 + 16 * 60 * MINUTE
    with Journal.open(tmp_path / "journal.sqlite") as j:
        meter = PnlMeter(j.pnl, metrics)
        for n, (ts, equity) in enumerate(
            [(midnight - 2 * MINUTE, 10.0), (midnight - MINUTE, 11.0), (midnight + MINUTE, 11.5)]
        ):
            cycle = f"d{n}"
            j.orders.record_decision(
                cycle,
                BTC,
                ts,
                greeks=_greeks(60_000.0, 0.0),
                inputs={},
                target_coin=0.0,
                reason="x",
            )
            j.pnl.record_equities(cycle, {BTC: equity})
            meter.observe(ts, {BTC: ValuationPoint.of(ts, _greeks(60_000.0, 0.0), equity)})
    assert _gauges(metrics)["equity_change_usd"] == pytest.approx(0.5 * 60_000)
