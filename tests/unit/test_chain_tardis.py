"""Tardis.dev CSV import: units, thinning to a cadence, streaming, and bad rows."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest

from bot.chain import ChainStore, Partition
from bot.chain.tardis import COLUMNS, TardisError, import_tardis

OPTIONS_HEADER = ",".join(COLUMNS["options_chain"])
TICKER_HEADER = ",".join(COLUMNS["derivative_ticker"])
DOCUMENTED_ROW = (
    "deribit,BTC-9JUN20-9875-P,1591574399413000,1591574400196008,put,9875,1591689600000000,"
    "0.1,0.0295,0.0205,15.0,55.91,0.0235,15.0,68.94,0.02210436,62.89,SYN.BTC-9JUN20,9756.36,"
    "-0.61752,0.00103,2.24964,-53.05655,-0.22796"
)
"""Tardis's documented options_chain example (tardis.dev, Data types: options_chain)."""
TICKER_ROW = (
    "deribit,BTC-PERPETUAL,1591574399000000,1591574399158000,,0.0001,,1000,9760.5,9755.1,9757.9"
)
"""A derivative_ticker row in the documented column layout; Deribit gives no funding_timestamp."""
FIVE_MIN_MS = 300_000
BTC = Partition("deribit", "BTC")
BUCKET_END_MS = 1_591_574_400_000  # the 5-minute bucket of the documented row ends at midnight


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def option_row(
    ts_us: int,
    mark: str = "0.02210436",
    symbol: str = "BTC-9JUN20-9875-P",
    expiry_us: int = 1_591_689_600_000_000,
) -> str:
    fields = DOCUMENTED_ROW.split(",")
    fields[1], fields[2], fields[6], fields[15] = symbol, str(ts_us), str(expiry_us), mark
    return ",".join(fields)


def only_rows(store: ChainStore, table: str = "options") -> list[dict[str, object]]:
    return [row for day in store.read(table, BTC) for row in day.to_pylist()]


def without_nan(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {k: v for k, v in r.items() if not (isinstance(v, float) and math.isnan(v))} for r in rows
    ]


class TestUnits:
    def test_documented_row_lands_in_store_units(self, tmp_path: Path) -> None:
        """Coin premium kept with its unit, IVs % -> decimal, µs -> ms, stamped at bucket end."""
        src = write_csv(
            tmp_path / "deribit_options_chain_2020-06-08_OPTIONS.csv.gz",
            OPTIONS_HEADER,
            [DOCUMENTED_ROW],
        )
        store = ChainStore(tmp_path / "store")
        import_tardis(store, [src], cadence_ms=FIVE_MIN_MS)
        (row,) = only_rows(store)
        assert row["ts_ms"] == BUCKET_END_MS
        assert row["expiry_ms"] == 1_591_689_600_000
        assert (row["premium_unit"], row["mark_premium"]) == ("coin", 0.02210436)
        assert (row["bid_iv"], row["ask_iv"], row["mark_iv"]) == pytest.approx(
            (0.5591, 0.6894, 0.6289)
        )
        assert (row["forward_name"], row["forward_usd"]) == ("SYN.BTC-9JUN20", 9756.36)
        assert (row["option_type"], row["strike_usd"], row["delta_coin"]) == (
            "put",
            9875.0,
            -0.61752,
        )
        assert math.isnan(row["index_usd"])  # type: ignore[arg-type]

    def test_derivative_ticker_goes_to_hedges(self, tmp_path: Path) -> None:
        """Perp mark, index and funding are USD and a fraction; bid/ask are NaN (not given)."""
        src = write_csv(
            tmp_path / "deribit_derivative_ticker_2020-06-08_BTC-PERPETUAL.csv",
            TICKER_HEADER,
            [TICKER_ROW],
        )
        store = ChainStore(tmp_path / "store")
        report = import_tardis(store, [src], cadence_ms=FIVE_MIN_MS)
        (row,) = only_rows(store, "hedges")
        assert (row["mark_usd"], row["index_usd"], row["funding_rate"]) == (9757.9, 9755.1, 0.0001)
        assert math.isnan(row["bid_usd"])  # type: ignore[arg-type]
        assert report.rows_written == {"hedges": 1}

    def test_gzip_and_plain_import_alike(self, tmp_path: Path) -> None:
        """The same rows gzipped or not give the same store rows."""
        got = []
        for name in ("a.csv", "b.csv.gz"):
            store = ChainStore(tmp_path / name / "store")
            (tmp_path / name).mkdir()
            src = write_csv(tmp_path / name / name, OPTIONS_HEADER, [DOCUMENTED_ROW])
            import_tardis(store, [src], cadence_ms=FIVE_MIN_MS)
            got.append(only_rows(store)[0]["mark_premium"])
        assert got[0] == got[1]


class TestThinning:
    def test_last_update_in_a_bucket_wins_and_quiet_instruments_carry(self, tmp_path: Path) -> None:
        """Of two updates in a bucket the later wins; a quiet instrument repeats in the next one."""
        t0 = 1_591_574_100_000_000  # 2020-06-07T23:55Z, a bucket start
        rows = [
            option_row(t0 + 1, "0.01"),
            option_row(t0 + 2, "0.02"),
            option_row(t0 + 300_000_001, "0.03", "BTC-9JUN20-9000-P"),
        ]
        src = write_csv(tmp_path / "x.csv", OPTIONS_HEADER, rows)
        store = ChainStore(tmp_path / "store")
        import_tardis(store, [src], cadence_ms=FIVE_MIN_MS)
        got = [(r["ts_ms"], r["instrument"], r["mark_premium"]) for r in only_rows(store)]
        assert sorted(got) == [
            (BUCKET_END_MS, "BTC-9JUN20-9875-P", 0.02),
            (BUCKET_END_MS + FIVE_MIN_MS, "BTC-9JUN20-9000-P", 0.03),
            (BUCKET_END_MS + FIVE_MIN_MS, "BTC-9JUN20-9875-P", 0.02),
        ]

    def test_expired_options_leave_the_snapshot(self, tmp_path: Path) -> None:
        """After its expiry an option is no longer carried forward."""
        expiry_us = 1_591_689_600_000_000
        later = option_row(expiry_us + 600_000_000, "0.01", "BTC-26JUN20-9875-P", 2 * expiry_us)
        rows = [option_row(expiry_us - 1_000_000), later]
        src = write_csv(tmp_path / "x.csv", OPTIONS_HEADER, rows)
        store = ChainStore(tmp_path / "store")
        import_tardis(store, [src], cadence_ms=FIVE_MIN_MS)
        last = max(r["ts_ms"] for r in only_rows(store))  # type: ignore[type-var]
        assert [r["instrument"] for r in only_rows(store) if r["ts_ms"] == last] == [
            "BTC-26JUN20-9875-P"
        ]

    def test_a_late_row_counts_in_the_open_bucket(self, tmp_path: Path) -> None:
        """A row stamped before the open bucket updates it; written snapshots are not rewritten."""
        t0 = 1_591_574_100_000_000
        rows = [option_row(t0 + 300_000_001, "0.03"), option_row(t0 + 1, "0.04")]
        store = ChainStore(tmp_path / "store")
        import_tardis(
            store, [write_csv(tmp_path / "x.csv", OPTIONS_HEADER, rows)], cadence_ms=FIVE_MIN_MS
        )
        assert [(r["ts_ms"], r["mark_premium"]) for r in only_rows(store)] == [
            (BUCKET_END_MS + FIVE_MIN_MS, 0.04)
        ]

    def test_small_blocks_stream_to_the_same_result(self, tmp_path: Path) -> None:
        """Parsing in tiny blocks (a bucket split across blocks) changes nothing."""
        t0 = 1_591_574_100_000_000
        rows = [option_row(t0 + i * 20_000_000, f"0.0{i % 9 + 1}") for i in range(40)]
        src = write_csv(tmp_path / "x.csv", OPTIONS_HEADER, rows)
        results = []
        for block in (1 << 20, 600):
            store = ChainStore(tmp_path / f"s{block}")
            import_tardis(store, [src], cadence_ms=FIVE_MIN_MS, block_bytes=block)
            results.append(without_nan(only_rows(store)))
        assert results[0] == results[1] and len(results[0]) == 3

    def test_a_gap_is_reported(self, tmp_path: Path) -> None:
        """Two hours without a row are reported as a gap naming the file and times."""
        t0 = 1_591_574_100_000_000
        rows = [option_row(t0), option_row(t0 + 7_200_000_000)]
        src = write_csv(tmp_path / "x.csv", OPTIONS_HEADER, rows)
        report = import_tardis(ChainStore(tmp_path / "s"), [src], cadence_ms=FIVE_MIN_MS)
        assert report.gaps == [
            f"{src}: no rows from 2020-06-08T00:00:00.000Z to 2020-06-08T01:55:00.000Z"
        ]


class TestBadInput:
    def test_bad_number_names_file_line_column_and_writes_nothing(self, tmp_path: Path) -> None:
        """A price that is not a number fails with file, line and column; the store stays empty."""
        good = write_csv(tmp_path / "good.csv", TICKER_HEADER, [TICKER_ROW])
        bad = write_csv(
            tmp_path / "bad.csv", OPTIONS_HEADER, [DOCUMENTED_ROW, option_row(1, "abc")]
        )
        store = ChainStore(tmp_path / "store")
        with pytest.raises(
            TardisError, match=rf"{bad} line 3, column mark_price: 'abc' is not a number"
        ):
            import_tardis(store, [good, bad], cadence_ms=FIVE_MIN_MS)
        assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.parquet"))

    def test_skip_reports_the_row_and_imports_the_rest(self, tmp_path: Path) -> None:
        """With skip, the bad row is listed with its line and the good rows are imported."""
        src = write_csv(tmp_path / "x.csv", OPTIONS_HEADER, [option_row(1, "abc"), DOCUMENTED_ROW])
        store = ChainStore(tmp_path / "store")
        report = import_tardis(store, [src], cadence_ms=FIVE_MIN_MS, on_bad_row="skip")
        assert report.skipped_rows == [f"{src} line 2, column mark_price: 'abc' is not a number"]
        assert len(only_rows(store)) == 1

    def test_a_usd_premium_on_deribit_is_a_unit_error(self, tmp_path: Path) -> None:
        """215.7 as a Deribit mark (USD, not coin) is refused as a premium in the wrong unit."""
        src = write_csv(
            tmp_path / "x.csv", OPTIONS_HEADER, [DOCUMENTED_ROW, option_row(1, "215.7")]
        )
        with pytest.raises(TardisError, match=r"line 3, column mark_price: .*in coin.*wrong unit"):
            import_tardis(ChainStore(tmp_path / "s"), [src], cadence_ms=FIVE_MIN_MS)

    def test_a_short_row_names_its_line(self, tmp_path: Path) -> None:
        """A row with too few columns names its line and the counts."""
        src = write_csv(tmp_path / "x.csv", OPTIONS_HEADER, [DOCUMENTED_ROW, "deribit,BTC-1"])
        with pytest.raises(TardisError, match=r"line 3, expected 24 columns, got 2"):
            import_tardis(ChainStore(tmp_path / "s"), [src], cadence_ms=FIVE_MIN_MS)

    def test_a_missing_column_is_named(self, tmp_path: Path) -> None:
        """A header without mark_iv is refused naming the column."""
        header = OPTIONS_HEADER.replace(",mark_iv", "")
        src = write_csv(tmp_path / "x.csv", header, [])
        with pytest.raises(
            TardisError, match=r"line 1: options_chain file lacks column\(s\) mark_iv"
        ):
            import_tardis(ChainStore(tmp_path / "s"), [src], cadence_ms=FIVE_MIN_MS)

    def test_an_unknown_file_is_named(self, tmp_path: Path) -> None:
        """A CSV of neither data type says so."""
        src = write_csv(tmp_path / "x.csv", "timestamp,price", ["1,2"])
        with pytest.raises(TardisError, match="neither an options_chain nor a derivative_ticker"):
            import_tardis(ChainStore(tmp_path / "s"), [src], cadence_ms=FIVE_MIN_MS)
