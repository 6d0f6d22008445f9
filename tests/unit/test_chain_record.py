"""The recorder: venue reads become chain-store rows, written per interval and at a stop."""

from __future__ import annotations

import dataclasses
from contextlib import AsyncExitStack
from pathlib import Path

from bot.app.recording import with_recording
from bot.chain import ChainStore, Partition
from bot.chain.record import ChainRecorder, snapshot_rows
from bot.config.record import RecordConfig
from bot.domain.pnl import utc_day
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.timeunits import MS_PER_MINUTE
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.cycle_result import CycleResult
from tests.books import NOW_MS, small_btc_book

DERIBIT_BTC = Partition("deribit", "BTC")


def later(book: PortfolioSnapshot, ms: int) -> PortfolioSnapshot:
    venues = tuple(dataclasses.replace(v, ts_ms=v.ts_ms + ms) for v in book.venues)
    return PortfolioSnapshot(book.valuation_ts_ms + ms, venues)


class TestRows:
    def test_options_keep_the_coin_premium_and_the_read_time(self) -> None:
        """Each marked option is a row at the read time, premium in coin, IV and delta as read."""
        rows = snapshot_rows(small_btc_book().venues[0])
        options = rows[("options", "deribit", "BTC")]
        assert [r["instrument"] for r in options] == ["C1", "P1", "C2"]
        first = options[0]
        assert (first["ts_ms"], first["premium_unit"], first["mark_premium"]) == (
            NOW_MS,
            "coin",
            0.02,
        )
        assert (first["mark_iv"], first["delta_coin"], first["index_usd"]) == (0.6, 0.3, 60_000.0)

    def test_the_perp_is_a_hedge_row_in_usd(self) -> None:
        """The perpetual's mark and the index go to the hedges table in USD."""
        (perp,) = snapshot_rows(small_btc_book().venues[0])[("hedges", "deribit", "BTC")]
        assert (perp["instrument"], perp["mark_usd"], perp["index_usd"]) == (
            "BTC/USD:BTC",
            60_000.0,
            60_000.0,
        )

    def test_the_perp_row_keeps_the_venue_funding_rate(self) -> None:
        """A perpetual's published funding rate (fraction per 8 h) is the hedges row's."""
        book = small_btc_book()
        venue = book.venues[0]
        perp = venue.marks["BTC/USD:BTC"]
        marks = {**venue.marks, perp.symbol: dataclasses.replace(perp, funding_rate=0.0001)}
        (row,) = snapshot_rows(dataclasses.replace(venue, marks=marks))[
            ("hedges", "deribit", "BTC")
        ]
        assert row["funding_rate"] == 0.0001

    def test_open_interest_is_the_venues_in_the_amount_unit(self) -> None:
        """An option's open interest (coin) and the perp's (USD contracts) are recorded as read."""
        venue = small_btc_book().venues[0]
        marks = {
            s: dataclasses.replace(m, open_interest=812.3 if s != "BTC/USD:BTC" else 9.6e8)
            for s, m in venue.marks.items()
        }
        rows = snapshot_rows(dataclasses.replace(venue, marks=marks))
        assert {r["open_interest_coin"] for r in rows[("options", "deribit", "BTC")]} == {812.3}
        assert [r["open_interest"] for r in rows[("hedges", "deribit", "BTC")]] == [9.6e8]


class TestRecorder:
    def test_writes_when_the_interval_is_full(self, tmp_path: Path) -> None:
        """Reads are buffered until flush_interval of read time has passed, then written."""
        store = ChainStore(tmp_path)
        recorder = ChainRecorder(store, 10 * MS_PER_MINUTE)
        recorder.record(small_btc_book())
        assert store.partitions("options") == []
        recorder.record(later(small_btc_book(), 10 * MS_PER_MINUTE))
        (day,) = store.read("options", DERIBIT_BTC)
        assert day.num_rows == 6

    def test_a_read_handed_over_twice_is_kept_once(self, tmp_path: Path) -> None:
        """The same venue read recorded twice (a failed cycle keeps it) gives one set of rows."""
        store = ChainStore(tmp_path)
        recorder = ChainRecorder(store, MS_PER_MINUTE)
        recorder.record(small_btc_book())
        recorder.record(small_btc_book())
        recorder.close()
        (day,) = store.read("hedges", DERIBIT_BTC)
        assert day.num_rows == 1

    def test_a_chain_read_at_the_read_time_skips_what_the_read_recorded(
        self, tmp_path: Path
    ) -> None:
        """A whole-chain read stamped like the cycle's read adds only the options that read
        did not mark; a later one adds them all."""
        store = ChainStore(tmp_path)
        recorder = ChainRecorder(store, MS_PER_MINUTE)
        book = small_btc_book()
        recorder.record(book)
        recorder.record_chain(book.venues[0])
        recorder.record_chain(later(book, 1).venues[0])
        recorder.close()
        (day,) = store.read("options", DERIBIT_BTC)
        assert day.num_rows == 6
        (hedges,) = store.read("hedges", DERIBIT_BTC)
        assert hedges.num_rows == 1, "a chain read records options only"


class TestDeliveries:
    def test_a_passed_expiry_is_settled_at_its_days_delivery_price(self, tmp_path: Path) -> None:
        """Once the read time passes a recorded expiry, the venue's delivery price of that UTC
        day becomes a settlements row at the expiry; the expiry is then no longer due."""
        store = ChainStore(tmp_path)
        recorder = ChainRecorder(store, MS_PER_MINUTE)
        book = small_btc_book()
        recorder.record(book)
        expiries = sorted(
            {
                int(str(r["expiry_ms"]))
                for r in snapshot_rows(book.venues[0])[("options", "deribit", "BTC")]
            }
        )
        assert recorder.passed_expiries("deribit", expiries[0] - 1) == {}
        assert recorder.passed_expiries("deribit", expiries[0]) == {"BTC": [expiries[0]]}
        settled = recorder.record_deliveries("deribit", "BTC", {utc_day(expiries[0]): 61_234.5})
        assert settled == [expiries[0]]
        assert recorder.passed_expiries("deribit", expiries[0]) == {}
        recorder.close()
        (rows,) = store.read("settlements", DERIBIT_BTC)
        assert rows.to_pylist() == [{"ts_ms": expiries[0], "delivery_usd": 61_234.5}]

    def test_a_day_not_published_yet_stays_due(self, tmp_path: Path) -> None:
        """Delivery prices without the expiry's day settle nothing; it is asked again later."""
        recorder = ChainRecorder(ChainStore(tmp_path), MS_PER_MINUTE)
        recorder.record(small_btc_book())
        assert recorder.record_deliveries("deribit", "BTC", {"2000-01-01": 1.0}) == []
        assert recorder.passed_expiries("deribit", 2**62) != {}


async def test_the_daemon_hook_records_and_writes_at_the_stop(tmp_path: Path) -> None:
    """Enabled, the cycle hook records each cycle's read and the stop writes it; the inner
    hook still runs."""
    seen: list[CycleResult] = []
    config = RecordConfig(enabled=True, store=tmp_path / "chains")
    result = CycleResult(NOW_MS, small_btc_book(), None, None, (), None, INITIAL_STATE, {}, 0.0)
    async with AsyncExitStack() as stack:
        hook = with_recording(config, stack, seen.append)
        assert hook is not None
        hook(result)
    assert seen == [result]
    assert ChainStore(tmp_path / "chains").partitions("options") == [DERIBIT_BTC]


async def test_disabled_recording_is_the_hook_itself(tmp_path: Path) -> None:
    """With [record] off the daemon's hook is unchanged."""
    async with AsyncExitStack() as stack:
        assert with_recording(RecordConfig(), stack, None) is None
