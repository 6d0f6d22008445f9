"""``deltabot pnl``, ``orders`` and ``fills`` read a journal: text, JSON and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import Accepted, Fill, OrderReport, OrderRequest, OrderState, Side
from bot.domain.pnl import FundingPayment
from bot.domain.risk import OrderIntent
from bot.journal import Journal

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
T0 = 1_796_112_000_000  # 2026-12-01T08:00:00Z
MINUTE = 60_000
VENUE, PERP, BTC = VenueId("deribit-b"), Symbol("BTC/USD:BTC"), Currency("BTC")


def _greeks(index: float, hedge: float) -> dict[str, float]:
    return {
        "book_delta_coin": 1.0,
        "hedge_coin": hedge,
        "gamma_coin_per_pct": -0.1,
        "vega_usd_per_volpt": -50.0,
        "theta_usd_per_day": 100.0,
        "index_usd": index,
        "sigma": 0.6,
        "tau_years": 0.1,
    }


def _cycle(j: Journal, n: int, index: float, hedge: float, equity: float) -> str:
    cycle = f"c{n}"
    greeks = _greeks(index, hedge)
    j.orders.record_decision(
        cycle, BTC, T0 + n * MINUTE, greeks=greeks, inputs={}, target_coin=-1.0, reason="band"
    )
    j.pnl.record_equities(cycle, {BTC: equity})
    return f"{cycle}/{BTC}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Three cycles; the first sells 60,000 USD of perp (1 coin) filled at 59,990."""
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as j:
        decision = _cycle(j, 0, 60_000.0, 0.0, 10.0)
        order = OrderRequest(ClientOrderId("db-1"), VENUE, PERP, Side.SELL, 60_000.0, 59_900.0)
        j.orders.record_intent(OrderIntent(order, BTC, 60_000.0, 1.0, 0.0), decision, T0 + 1)
        j.orders.mark(order.client_id, OrderState.SUBMITTED, T0 + 2)
        fill = Fill(
            "T1", order.client_id, "V1", PERP, Side.SELL, 60_000.0, 59_990.0, 1e-5, BTC, T0 + 3
        )
        report = OrderReport(
            order.client_id, "V1", PERP, OrderState.FILLED, 60_000.0, 59_990.0, T0 + 3
        )
        outcome = Accepted(report, (fill,))
        j.orders.mark(order.client_id, OrderState.FILLED, T0 + 3, report, fills=outcome.fills)
        _cycle(j, 1, 60_600.0, -1.0, 9.9)
        _cycle(j, 2, 60_300.0, -1.0, 9.95)
    return {"DELTABOT_DAEMON__JOURNAL_PATH": str(path)}


def run(argv: list[str], env: dict[str, str]) -> int:
    return main([*argv, "--config", str(EXAMPLE)], env)


class TestPnl:
    def test_json_days_and_totals_sum_to_the_equity_change(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json gives one day row for BTC; its components close to the equity change."""
        assert run(["pnl", "--json"], env) == 0
        doc = json.loads(capsys.readouterr().out)
        [day] = doc["days"]
        assert (day["underlying"], day["day"], day["intervals"]) == ("BTC", "2026-12-01", 2)
        parts = sum(v for k, v in day.items() if k.endswith("_usd") and k != "equity_change_usd")
        assert parts == pytest.approx(9.95 * 60_300 - 10.0 * 60_000)
        assert day["slippage_usd"] == pytest.approx(-10.0)

    def test_funding_read_twice_counts_once(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A funding payment journaled by two overlapping reads is +25 USD of funding, once."""
        paid = FundingPayment(
            VenueId("binance-a"), "7001", Symbol("BTC/USDT:USDT"), BTC, T0 + 30_000, 25.0,
            Currency("USDT"),
        )  # fmt: skip
        with Journal.open(Path(env["DELTABOT_DAEMON__JOURNAL_PATH"])) as j:
            assert (j.pnl.record_funding([paid]), j.pnl.record_funding([paid])) == (1, 0)
            assert j.pnl.newest_funding_ms(VenueId("binance-a")) == T0 + 30_000
        assert run(["pnl", "--json"], env) == 0
        [day] = json.loads(capsys.readouterr().out)["days"]
        assert day["funding_usd"] == pytest.approx(25.0)

    def test_text_names_the_window_in_iso_utc_and_the_columns(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The text report starts with the window in ISO-8601 UTC and has a totals line."""
        assert run(["pnl", "--since", "2026-12-01"], env) == 0
        out = capsys.readouterr().out
        assert "from 2026-12-01T00:00:00.000Z to the newest cycle" in out and "unexpl." in out
        assert "\ntotal      BTC" in out

    @pytest.mark.parametrize("bad", ["yesterday", "24x", "2026-13-01"])
    def test_a_bad_since_is_one_error_and_exit_2(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str], bad: str
    ) -> None:
        """An unreadable --since names the value and both forms, exit 2."""
        assert run(["pnl", "--since", bad], env) == 2
        err = capsys.readouterr().err
        assert "argument --since" in err and "ISO-8601" in err and "24h" in err

    def test_no_journal_is_exit_2(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Without a journal, pnl says so and exits 2 (it never creates one)."""
        env = {"DELTABOT_DAEMON__JOURNAL_PATH": str(tmp_path / "none.sqlite")}
        assert run(["pnl"], env) == 2
        assert "no journal" in capsys.readouterr().err


class TestOrders:
    def test_json_joins_the_decision_the_fills_and_the_history(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An order shows its decision's Greeks, its fill, fee and every state it passed."""
        assert run(["orders", "--json"], env) == 0
        [order] = json.loads(capsys.readouterr().out)
        assert order["time"] == "2026-12-01T08:00:00.001Z" and order["state"] == "filled"
        assert order["decision"]["greeks"]["index_usd"] == 60_000.0
        assert [f["price"] for f in order["fills"]] == [59_990.0]
        assert order["fees"] == {"BTC": 1e-5}
        assert [h["to"] for h in order["history"]] == ["pending", "submitted", "filled"]

    def test_state_filter_is_case_insensitive(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--state FILLED keeps the filled order; --state canceled leaves none."""
        assert run(["orders", "--state", "FILLED"], env) == 0
        assert "why: band" in capsys.readouterr().out
        assert run(["orders", "--state", "canceled"], env) == 0
        assert capsys.readouterr().out.strip() == "no orders in this window"

    def test_an_unknown_state_lists_the_valid_ones(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--state done is refused with exit 2, naming every valid state."""
        assert run(["orders", "--state", "done"], env) == 2
        err = capsys.readouterr().err
        assert "invalid choice: 'done'" in err and "'not_found'" in err


class TestFills:
    def test_json_and_text_show_the_fill_with_its_order(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """fills lists the trade with venue, price, fee and its order's client id."""
        assert run(["fills", "--json"], env) == 0
        [fill] = json.loads(capsys.readouterr().out)
        assert (fill["venue"], fill["trade_id"], fill["client_id"]) == ("deribit-b", "T1", "db-1")
        assert run(["fills", "--until", "2026-12-01T08:00Z"], env) == 0
        assert capsys.readouterr().out.strip() == "no fills in this window"
