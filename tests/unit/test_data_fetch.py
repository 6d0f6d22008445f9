"""``deltabot data fetch`` and ``fetch-deliveries`` against a local HTTP server (no network)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chain import ChainStore, Partition
from bot.chain.fetch import FetchError, download, fetch_deliveries, tardis_name, tardis_url
from bot.cli import main
from tests.http_server import LoopbackHandler, serving
from tests.unit.test_chain_tardis import DOCUMENTED_ROW, OPTIONS_HEADER

BODY = gzip.compress(("\n".join([OPTIONS_HEADER, DOCUMENTED_ROW]) + "\n").encode())
PATH = "/v1/deribit/options_chain/2020/06/01/OPTIONS.csv.gz"
DELIVERIES = {
    0: {"result": {"data": [{"date": "2020-06-09", "delivery_price": 9756.1}], "records_total": 2}},
    1: {"result": {"data": [{"date": "2020-06-08", "delivery_price": 9680.5}], "records_total": 2}},
}


class _Handler(LoopbackHandler):
    ranges: list[str | None]

    def do_GET(self) -> None:
        self.ranges.append(self.headers.get("Range"))
        if self.path.startswith("/api/v2/public/get_delivery_prices"):
            offset = int(self.path.split("offset=")[1].split("&")[0])
            self.send(200, json.dumps(DELIVERIES[offset]).encode())
        elif self.path != PATH:
            self.send(404, b"no such file")
        elif self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
            self.send(206, BODY[start:])
        else:
            self.send(200, BODY)


@pytest.fixture
def server() -> Iterator[tuple[str, list[str | None]]]:
    ranges: list[str | None] = []
    with serving(type("Handler", (_Handler,), {"ranges": ranges})) as base:
        yield base, ranges


def test_tardis_urls_and_names() -> None:
    """The URL is Tardis's layout; the name is the one import-tardis reads."""
    from datetime import date

    day = date(2020, 6, 1)
    assert tardis_url("https://x", "deribit", "options_chain", day, "OPTIONS") == f"https://x{PATH}"
    assert tardis_name("deribit", "options_chain", day, "OPTIONS") == (
        "deribit_options_chain_2020-06-01_OPTIONS.csv.gz"
    )


def test_an_interrupted_download_resumes(
    server: tuple[str, list[str | None]], tmp_path: Path
) -> None:
    """With half the file in NAME.part, the rest is asked for by Range and the file completes."""
    base, ranges = server
    dest = tmp_path / "o.csv.gz"
    dest.with_name("o.csv.gz.part").write_bytes(BODY[:10])
    assert download(base + PATH, dest) == len(BODY) - 10
    assert (dest.read_bytes(), ranges) == (BODY, ["bytes=10-"])


def test_a_missing_file_names_the_url(server: tuple[str, list[str | None]], tmp_path: Path) -> None:
    """A 404 is an error naming the URL and the status; nothing is left behind."""
    base, _ = server
    with pytest.raises(FetchError, match=r"/v1/nope\.csv\.gz: HTTP 404"):
        download(base + "/v1/nope.csv.gz", tmp_path / "x.csv.gz")
    assert not (tmp_path / "x.csv.gz").exists()


def test_fetch_then_import(
    server: tuple[str, list[str | None]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI fetches under Tardis's name, and import-tardis takes the file as it is."""
    base, _ = server
    argv = [
        "data",
        "fetch",
        "--dest",
        str(tmp_path),
        "--date",
        "2020-06-01",
        "--base-url",
        base,
        "--file",
        "options_chain/OPTIONS",
    ]
    assert main(argv, {}) == 0
    name = tmp_path / "deribit_options_chain_2020-06-01_OPTIONS.csv.gz"
    assert main(["data", "import-tardis", "--store", str(tmp_path / "s"), str(name)], {}) == 0
    assert "1 rows read" in capsys.readouterr().out


def test_delivery_prices_become_settlements(
    server: tuple[str, list[str | None]], tmp_path: Path
) -> None:
    """Every page of delivery prices lands in settlements at 08:00 UTC of its day."""
    base, _ = server
    store = ChainStore(tmp_path)
    assert fetch_deliveries(store, "btc_usd", base=base) == 2
    rows = [
        r for day in store.read("settlements", Partition("deribit", "BTC")) for r in day.to_pylist()
    ]
    assert rows == [
        {"ts_ms": 1_591_603_200_000, "delivery_usd": 9680.5},
        {"ts_ms": 1_591_689_600_000, "delivery_usd": 9756.1},
    ]
