"""Download public history: Tardis.dev's free CSV days and Deribit's delivery prices.

Tardis publishes every data type of every day, and the first day of each
month is free without an API key, at
``{base}/v1/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{symbol}.csv.gz``
(docs.tardis.dev, "Downloadable CSV files"). :func:`download` saves one such
file under the name :mod:`bot.chain.tardis` reads (``deribit_options_chain_
2020-06-01_OPTIONS.csv.gz``), into ``NAME.part`` first: an interrupted
download resumes from the bytes it has (an HTTP Range request), and the file
appears under its name only when complete.

Deribit's public ``/api/v2/public/get_delivery_prices`` lists the price each
index settled at, per day; :func:`fetch_deliveries` writes them into the
store's ``settlements`` table, at 08:00 UTC, Deribit's expiry time.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from bot.chain.store import ChainStore

TARDIS_BASE: Final = "https://datasets.tardis.dev"
DERIBIT_BASE: Final = "https://www.deribit.com"
CHUNK_BYTES: Final = 1 << 20
TIMEOUT_S: Final = 60.0
DELIVERY_TIME: Final = time(8, 0, tzinfo=UTC)
"""Deribit's options and futures expire, and deliver, at 08:00 UTC."""
PAGE: Final = 1000

Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, bytes in all or None if unknown) after each chunk."""


class FetchError(ValueError):
    """A download that failed; the message names the URL and what the server said."""


def tardis_url(base: str, exchange: str, data_type: str, day: date, symbol: str) -> str:
    """Where Tardis serves one day of one data type, e.g. .../deribit/options_chain/2020/06/01/
    OPTIONS.csv.gz."""
    return (
        f"{base.rstrip('/')}/v1/{exchange}/{data_type}/"
        f"{day.year:04d}/{day.month:02d}/{day.day:02d}/{symbol}.csv.gz"
    )


def tardis_name(exchange: str, data_type: str, day: date, symbol: str) -> str:
    """The file name Tardis's own client gives that day, which ``import-tardis`` takes."""
    return f"{exchange}_{data_type}_{day.isoformat()}_{symbol}.csv.gz"


def download(url: str, dest: Path, progress: Progress | None = None) -> int:
    """Save ``url`` as ``dest``, resuming ``dest.part``; returns the bytes fetched now."""
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part already holds the whole file
            os.replace(part, dest)
            return 0
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    with response:
        if have and response.status != 206:  # the server ignored the range: start again
            have = 0
        length = response.headers.get("Content-Length")
        total = None if length is None else have + int(length)
        fetched = 0
        with open(part, "ab" if have else "wb") as out:
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                fetched += len(chunk)
                if progress:
                    progress(have + fetched, total)
            out.flush()
            os.fsync(out.fileno())
    if total is not None and part.stat().st_size != total:
        raise FetchError(
            f"{url}: got {part.stat().st_size:,} of {total:,} bytes; run again to resume"
        )
    os.replace(part, dest)
    return fetched


def fetch_deliveries(store: ChainStore, index_name: str, *, base: str = DERIBIT_BASE) -> int:
    """Deribit's delivery prices of ``index_name`` (``btc_usd``) into ``settlements``; rows."""
    underlying = index_name.split("_", 1)[0].upper()
    stamps, prices = [], []
    offset = 0
    while True:
        url = (
            f"{base.rstrip('/')}/api/v2/public/get_delivery_prices?"
            f"index_name={index_name}&offset={offset}&count={PAGE}"
        )
        page = get_json(url)
        try:
            rows = page["result"]["data"]
            total = int(page["result"]["records_total"])
            for row in rows:
                day = date.fromisoformat(row["date"])
                stamps.append(round(datetime.combine(day, DELIVERY_TIME).timestamp() * 1000))
                prices.append(float(row["delivery_price"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise FetchError(f"{url}: not a get_delivery_prices answer ({exc!r})") from None
        offset += len(rows)
        if not rows or offset >= total:
            break
    rows_table = pa.table({"ts_ms": stamps, "delivery_usd": prices})
    return store.write(
        "settlements", "deribit", underlying, rows_table, tag=f"deribit-{index_name}"
    )


def get_json(url: str) -> Any:
    """The JSON answer of ``url``; FetchError names the URL and what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    except json.JSONDecodeError as exc:
        raise FetchError(f"{url}: not JSON ({exc})") from None
