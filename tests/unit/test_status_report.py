"""`deltabot status` documents: ISO-8601 UTC times on a named clock, and health components."""

from __future__ import annotations

from pathlib import Path

from bot.app.status_report import daemon_status, render_text
from bot.config import Config
from bot.domain.ids import Currency
from bot.journal import Journal
from tests.sim_configs import START_MS as T_MS
from tests.sim_configs import hedge_route, load, market, quiet, sim, venue

CONFIG = sim(venue("sim-a"), hedge_route("sim-a"), quiet(), market(0.6, speed=60))


def journal_config(tmp_path: Path) -> Config:
    """A mode-sim config whose journal holds one BTC decision at T_MS (no daemon serves it)."""
    config = load(tmp_path, CONFIG, journal=tmp_path / "journal.sqlite")
    with Journal.open(config.daemon.journal_path) as journal:
        journal.orders.record_decision(
            "c1", Currency("BTC"), T_MS, greeks={}, inputs={}, target_coin=0.5, reason="hold"
        )
    return config


class TestJournalFallback:
    def test_json_names_the_clock_and_shows_iso_times(self, tmp_path: Path) -> None:
        """Without a daemon the document says its clock and gives each decision an ISO time."""
        status = daemon_status(journal_config(tmp_path))
        assert status["clock"] == "simulated (x60)"
        assert status["last_decisions"]["BTC"]["at"] == "2026-12-01T08:00:00.000Z"

    def test_health_judges_what_the_journal_knows_and_names_the_rest(self, tmp_path: Path) -> None:
        """Trading and locks are judged; cycle, band, margin, gate (and, on a simulated clock,
        unknown orders) are listed as not judged."""
        health = daemon_status(journal_config(tmp_path))["health"]
        assert [c["name"] for c in health["components"]] == ["trading", "locks"]
        assert health["level"] == "ok"
        for name in ("last_cycle", "band:BTC", "margin:sim-a", "risk_gate", "unknown_orders"):
            assert name in health["not_judged"]

    def test_text_shows_iso_times_and_components(self, tmp_path: Path) -> None:
        """The text report shows the clock, each component, what is not judged, and no raw
        epoch milliseconds."""
        text = render_text(daemon_status(journal_config(tmp_path)))
        assert "clock: simulated (x60) (times in ISO-8601 UTC)" in text
        assert "  ok       locks: no underlying locked" in text
        assert "not judged without the daemon: last_cycle" in text
        assert "BTC: last decision at 2026-12-01T08:00:00.000Z" in text
        assert str(T_MS) not in text


def test_live_text_shows_the_cycle_time_and_an_operator_clock() -> None:
    """A daemon's document: the cycle's ISO start, and an operator's change marked as on the
    wall clock when the daemon's clock is simulated."""
    status = {
        "source": "daemon",
        "clock": "simulated (x60)",
        "now": "2026-12-01T09:00:00.000Z",
        "health": {"level": "failing", "components": [
            {"name": "risk_gate", "level": "failing", "reason": "denied every order"}]},
        "trading_state": {"mode": "halted", "set_by": "operator", "reason": "roll",
                          "set_at": "2026-12-03T06:00:00.000Z", "clock": "wall"},
        "last_cycle": {"started": "2026-12-01T08:59:55.000Z", "age_s": 5.0, "duration_s": 0.1,
                       "orders_sent": 0, "orders_denied": 1, "error": None},
    }  # fmt: skip
    text = render_text(status)
    assert "now 2026-12-01T09:00:00.000Z" in text
    assert "  failing  risk_gate: denied every order" in text
    assert "set by operator at 2026-12-03T06:00:00.000Z (wall clock): roll" in text
    assert "last cycle: 2026-12-01T08:59:55.000Z, 5.0 s ago" in text


def test_text_shows_vega_and_gamma_per_bucket_with_the_limit() -> None:
    """Each bucket row shows raw and 30-day vega, gamma in coin and USD, and its limit's level."""
    row = {"underlying": "BTC", "bucket": "all", "vega_usd_per_volpt": -2_500.0,
           "vega_std_usd_per_volpt": -3_100.0, "gamma_coin_per_pct": -0.25,
           "gamma_usd_per_pct": -15_000.0, "limit": "hard",
           "limit_why": "standardised vega 3,100 USD/volpt past its hard limit 3,000"}  # fmt: skip
    text = render_text({"source": "daemon", "greek_buckets": [row]})
    line = next(x for x in text.splitlines() if x.startswith("BTC        all"))
    assert "-2,500.0" in line and "-3,100.0" in line and "-0.2500" in line and "-15,000" in line
    assert line.endswith("hard (standardised vega 3,100 USD/volpt past its hard limit 3,000)")
