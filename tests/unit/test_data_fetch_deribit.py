"""``deltabot data fetch-trades`` / ``fetch-dvol``: Deribit's public history endpoints, served
by a local HTTP server from fixture answers shaped as Deribit documents them (no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.chain import ChainStore, Partition
from bot.chain.deribit_history import days_between, fetch_dvol, fetch_trades
from bot.chain.fetch import FetchError
from bot.cli import main
from tests.http_server import LoopbackHandler, serving

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "deribit_history"
DAY = date(2020, 5, 26)
DAY_MS = 1_590_451_200_000  # 2020-05-26T00:00Z
NEXT_MS = DAY_MS + 86_400_000
BTC = Partition("deribit", "BTC")


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


EMPTY_TRADES = json.dumps({"result": {"trades": [], "has_more": False}}).encode()
EMPTY_DVOL = json.dumps({"result": {"data": [], "continuation": None}}).encode()


class _Handler(LoopbackHandler):
    asked: list[tuple[str, dict[str, str]]]
    broken: set[int]
    """start_timestamp values answered with HTTP 502 (a failing day)."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        method = url.path.rsplit("/", 1)[-1]
        self.asked.append((method, params))
        start = int(params.get("start_timestamp", "0"))
        if start in self.broken:
            self.send(502, b"bad gateway")
        elif params.get("currency") == "ETH":  # an answer that is JSON but not Deribit's
            self.send(200, b'{"usIn": 1}')
        elif method == "get_last_trades_by_currency_and_time":
            self.send(200, self._trades(start))
        elif method == "get_volatility_index_data":
            end = int(params["end_timestamp"])
            late = start == DAY_MS and end == NEXT_MS - 1
            early = start == DAY_MS and end == DAY_MS
            body = _fixture("dvol_late.json") if late else EMPTY_DVOL
            self.send(200, _fixture("dvol_early.json") if early else body)
        else:
            self.send(404, b"no such method")

    @staticmethod
    def _trades(start: int) -> bytes:
        if start == DAY_MS:
            return _fixture("trades_page1.json")
        if start == 1_590_470_700_000:  # the last trade of page 1
            return _fixture("trades_page2.json")
        return EMPTY_TRADES


@pytest.fixture
def deribit() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"asked": [], "broken": set()})
    with serving(handler) as base:
        yield base, handler


def _rows(store: ChainStore, table: str) -> list[dict[str, object]]:
    return [r for day in store.read(table, BTC) for r in day.to_pylist()]


class TestTrades:
    def test_the_documented_trade_is_stored_in_coin_and_decimal_iv(
        self, deribit: tuple[str, type[_Handler]], tmp_path: Path
    ) -> None:
        """Deribit's example trade (price 0.032 BTC, iv 74.74 %) is a row in coin with iv
        0.7474; a trade repeated across pages is kept once."""
        base, handler = deribit
        store = ChainStore(tmp_path)
        report = fetch_trades(store, "BTC", [DAY], base=base)
        rows = _rows(store, "trades")
        assert [r["trade_id"] for r in rows] == ["48077291", "48077292", "48077300"]
        assert rows[0] == {
            "ts_ms": 1_590_470_616_101,
            "trade_id": "48077291",
            "instrument": "BTC-25SEP20-6000-P",
            "direction": "sell",
            "premium_unit": "coin",
            "price_premium": 0.032,
            "mark_premium": 0.04070324,
            "amount_coin": 0.5,
            "iv": pytest.approx(0.7474),
            "index_usd": 8899.93,
        }
        assert (report.days_fetched, report.days_kept, report.rows) == (1, 0, 3)
        first = handler.asked[0][1]
        assert (first["kind"], first["sorting"], first["count"]) == ("option", "asc", "1000")

    def test_an_interrupted_fetch_resumes_at_the_missing_day(
        self, deribit: tuple[str, type[_Handler]], tmp_path: Path
    ) -> None:
        """A day that failed is fetched on the next run; the day already written is not asked
        for again."""
        base, handler = deribit
        store = ChainStore(tmp_path)
        days = days_between(DAY, date(2020, 5, 27))
        handler.broken.add(NEXT_MS)
        with pytest.raises(FetchError, match="HTTP 502"):
            fetch_trades(store, "BTC", days, base=base)
        assert len(_rows(store, "trades")) == 3
        handler.broken.clear()
        handler.asked.clear()
        progress: list[tuple[int, int]] = []
        report = fetch_trades(
            store, "BTC", days, base=base, progress=lambda d, t: progress.append((d, t))
        )
        assert {int(p["start_timestamp"]) for _, p in handler.asked} == {NEXT_MS}
        assert (report.days_fetched, report.days_kept) == (1, 1)
        assert progress == [(1, 2), (2, 2)]

    def test_a_trade_without_a_price_names_it(
        self, deribit: tuple[str, type[_Handler]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A trade missing a field is an error naming the trade; nothing of that day is written."""
        base, handler = deribit
        bad = json.loads(_fixture("trades_page1.json"))
        del bad["result"]["trades"][0]["price"]
        bad["result"]["has_more"] = False
        monkeypatch.setattr(handler, "_trades", staticmethod(lambda _s: json.dumps(bad).encode()))
        store = ChainStore(tmp_path)
        with pytest.raises(FetchError, match="trade 48077291: bad field"):
            fetch_trades(store, "BTC", [DAY], base=base)
        assert store.partitions("trades") == []


class TestDvol:
    def test_candles_follow_the_continuation_and_become_decimals(
        self, deribit: tuple[str, type[_Handler]], tmp_path: Path
    ) -> None:
        """Both pages of the day are read (the continuation is the next end), each candle once,
        none outside the day, DVOL points as decimals (62.17 -> 0.6217)."""
        base, _ = deribit
        store = ChainStore(tmp_path)
        fetch_dvol(store, "BTC", [DAY], resolution="3600", base=base)
        rows = _rows(store, "dvol")
        assert [r["ts_ms"] for r in rows] == [DAY_MS, DAY_MS + 3_600_000]
        assert rows[0]["open_iv"] == pytest.approx(0.6217)
        assert rows[1]["close_iv"] == pytest.approx(0.628)
        assert {r["resolution_s"] for r in rows} == {3600}

    def test_an_unknown_resolution_is_refused(self, tmp_path: Path) -> None:
        """A resolution Deribit does not take is an error before any request."""
        with pytest.raises(FetchError, match="resolution '5' is not one of"):
            fetch_dvol(ChainStore(tmp_path), "BTC", [DAY], resolution="5", base="http://x")


class TestCommand:
    def test_fetch_trades_prints_what_it_wrote(
        self,
        deribit: tuple[str, type[_Handler]],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The command fetches the days and says how many rows and days; a re-run keeps them."""
        base, _ = deribit
        argv = ["data", "fetch-trades", "--store", str(tmp_path), "--from", "2020-05-26"]
        assert main([*argv, "--base-url", base], {}) == 0
        assert "3 trades rows of BTC" in capsys.readouterr().out
        assert main([*argv, "--base-url", base], {}) == 0
        assert "0 day(s) fetched, 1 already there" in capsys.readouterr().out

    def test_a_day_not_over_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--to in the future is one error line: only whole days are fetched."""
        argv = ["data", "fetch-dvol", "--store", str(tmp_path), "--from", "2020-05-26"]
        assert main([*argv, "--to", "2999-01-01"], {}) == 2
        assert "is not over yet" in capsys.readouterr().err

    def test_a_failed_request_names_it(
        self,
        deribit: tuple[str, type[_Handler]],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """An HTTP error is exit 2 with one line naming the request and the status."""
        base, handler = deribit
        handler.broken.add(DAY_MS)
        argv = ["data", "fetch-dvol", "--store", str(tmp_path), "--from", "2020-05-26"]
        assert main([*argv, "--base-url", base], {}) == 2
        err = capsys.readouterr().err
        assert "get_volatility_index_data" in err and "HTTP 502" in err

    def test_an_answer_without_a_result_is_named(
        self,
        deribit: tuple[str, type[_Handler]],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """JSON that is not a Deribit answer is exit 2 naming the URL; nothing is written."""
        base, _ = deribit
        argv = ["data", "fetch-dvol", "--store", str(tmp_path), "--from", "2020-05-26"]
        assert main([*argv, "--currency", "ETH", "--base-url", base], {}) == 2
        assert "no result in the answer" in capsys.readouterr().err
        assert ChainStore(tmp_path).partitions("dvol") == []

    def test_a_bad_resolution_or_day_is_one_error_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unknown DVOL resolution and a day that is not YYYY-MM-DD each exit 2, named."""
        argv = ["data", "fetch-dvol", "--store", str(tmp_path)]
        assert main([*argv, "--from", "2020-05-26", "--resolution", "5"], {}) == 2
        assert "resolution '5' is not one of" in capsys.readouterr().err
        assert main([*argv, "--from", "2020-13-01"], {}) == 2
        assert "--from/--to" in capsys.readouterr().err
