"""The chain store: partitioned Parquet, atomic writes, streaming reads by time range."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from bot.chain import ChainStore, Partition, StoreError, arrow_schema
from bot.chain.schema import TABLES, column_names, premium_unit_of
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR

DAY0_MS = 1_591_574_400_000  # 2020-06-08T00:00Z
BTC = Partition("deribit", "BTC")


def hedge_rows(ts_ms: list[int], mark_usd: float = 9_756.0) -> pa.Table:
    n = len(ts_ms)
    data: dict[str, list[object]] = {name: [float("nan")] * n for name in column_names("hedges")}
    data["ts_ms"] = list(ts_ms)
    data["instrument"] = ["BTC-PERPETUAL"] * n
    data["mark_usd"] = [mark_usd + i for i in range(n)]
    return pa.table(data)


class TestSchema:
    def test_every_column_names_its_unit_or_kind(self) -> None:
        """Each column's doc says what it holds; every table has a time column."""
        for table, columns in TABLES.items():
            assert columns[0].name == "ts_ms", table
            assert all(c.doc for c in columns)

    def test_deribit_premiums_are_in_coin(self) -> None:
        """Deribit quotes options in coin, Binance in USD."""
        assert (premium_unit_of("deribit"), premium_unit_of("binance-options")) == ("coin", "usd")

    def test_unknown_table(self) -> None:
        """An unknown table is an error naming the tables there are."""
        with pytest.raises(StoreError, match="options, hedges, settlements, trades, dvol"):
            arrow_schema("quotes")


class TestStore:
    def test_round_trip_partitions_by_day(self, tmp_path: Path) -> None:
        """Rows across midnight land in two day directories and read back in time order."""
        store = ChainStore(tmp_path)
        times = [DAY0_MS + MS_PER_DAY - MS_PER_HOUR, DAY0_MS + MS_PER_DAY + MS_PER_HOUR]
        store.write("hedges", "deribit", "BTC", hedge_rows(times[::-1]), tag="t")
        days = sorted(p.name for p in (tmp_path / "hedges/venue=deribit/underlying=BTC").iterdir())
        assert days == ["day=2020-06-08", "day=2020-06-09"]
        read = [t.column("ts_ms").to_pylist() for t in store.read("hedges", BTC)]
        assert read == [[times[0]], [times[1]]]

    def test_read_filters_the_time_range(self, tmp_path: Path) -> None:
        """Only rows with from_ms <= ts_ms <= to_ms are yielded."""
        store = ChainStore(tmp_path)
        times = [DAY0_MS + h * MS_PER_HOUR for h in range(5)]
        store.write("hedges", "deribit", "BTC", hedge_rows(times), tag="t")
        got = [t.column("ts_ms").to_pylist() for t in store.read("hedges", BTC, times[1], times[3])]
        assert got == [times[1:4]]

    def test_read_only_the_columns_asked_for(self, tmp_path: Path) -> None:
        """A projection reads those columns and ts_ms, nothing else."""
        store = ChainStore(tmp_path)
        store.write("hedges", "deribit", "BTC", hedge_rows([DAY0_MS]), tag="t")
        (rows,) = store.read("hedges", BTC, columns=["mark_usd"])
        assert rows.column_names == ["ts_ms", "mark_usd"]

    def test_rewriting_a_tag_replaces_its_part(self, tmp_path: Path) -> None:
        """Importing the same source again replaces its file instead of doubling the rows."""
        store = ChainStore(tmp_path)
        store.write("hedges", "deribit", "BTC", hedge_rows([DAY0_MS]), tag="src")
        store.write("hedges", "deribit", "BTC", hedge_rows([DAY0_MS], 1.0), tag="src")
        (rows,) = store.read("hedges", BTC)
        assert rows.column("mark_usd").to_pylist() == [1.0]

    def test_a_failed_staged_write_leaves_nothing(self, tmp_path: Path) -> None:
        """An exception inside stage() deletes the staged files: the store stays empty."""
        store = ChainStore(tmp_path)
        with pytest.raises(RuntimeError), store.stage() as staging:
            store.write("hedges", "deribit", "BTC", hedge_rows([DAY0_MS]), tag="t", staging=staging)
            raise RuntimeError("bad row")
        assert list(store.read("hedges", BTC)) == []
        assert list(tmp_path.iterdir()) == []

    def test_a_committed_stage_is_visible(self, tmp_path: Path) -> None:
        """Files staged in a block that succeeds are moved into the store."""
        store = ChainStore(tmp_path)
        with store.stage() as staging:
            store.write("hedges", "deribit", "BTC", hedge_rows([DAY0_MS]), tag="t", staging=staging)
        assert store.partitions("hedges") == [BTC]
        assert store.span_ms("hedges", BTC) == (DAY0_MS, DAY0_MS)

    def test_missing_column_is_named(self, tmp_path: Path) -> None:
        """A write without a schema column fails naming it, and writes nothing."""
        rows = hedge_rows([DAY0_MS]).drop_columns(["funding_rate"])
        with pytest.raises(StoreError, match="funding_rate"):
            ChainStore(tmp_path).write("hedges", "deribit", "BTC", rows, tag="t")
        assert list(tmp_path.iterdir()) == []

    def test_a_foreign_file_is_named(self, tmp_path: Path) -> None:
        """A corrupt part file is an error naming the file."""
        store = ChainStore(tmp_path)
        store.write("hedges", "deribit", "BTC", hedge_rows([DAY0_MS]), tag="t")
        (part,) = tmp_path.rglob("part-*.parquet")
        part.write_bytes(b"not parquet")
        with pytest.raises(StoreError, match=part.name):
            list(store.read("hedges", BTC))

    def test_path_names_are_plain(self, tmp_path: Path) -> None:
        """A venue name that would escape its directory is refused."""
        with pytest.raises(StoreError, match="plain name"):
            ChainStore(tmp_path).write("hedges", "../x", "BTC", hedge_rows([DAY0_MS]), tag="t")
