"""A Tardis-shaped ``options_chain`` CSV of any size, generated locally for the import bench."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bot.chain.tardis import COLUMNS

START_US = 1_591_574_400_000_000  # 2020-06-08T00:00Z
EXPIRY_US = START_US + 30 * 86_400_000_000
ROWS_PER_S = 1_000
"""Updates per second across the chain, about Deribit BTC's."""


def write_options_chain(path: Path, rows: int, instruments: int = 800, chunk: int = 500_000) -> int:
    """Write ``rows`` rows (in chunks, so memory stays flat) to ``path``; return its bytes."""
    rng = np.random.default_rng(1)
    strikes = np.linspace(5_000.0, 20_000.0, instruments // 2)
    options = pacsv.WriteOptions(quoting_style="none")
    with pacsv.CSVWriter(path, _schema(), write_options=options) as writer:
        for first in range(0, rows, chunk):
            n = min(chunk, rows - first)
            i = np.arange(first, first + n)
            k = i % instruments
            strike = strikes[k // 2]
            is_put = k % 2 == 1
            mark = np.round(rng.uniform(0.001, 0.2, n), 4)
            iv = np.round(rng.uniform(40.0, 90.0, n), 2)
            columns = {
                "exchange": pa.array(np.full(n, "deribit")),
                "symbol": pa.array(
                    np.char.add(
                        np.char.add("BTC-8JUL20-", strike.astype(int).astype(str)),
                        np.where(is_put, "-P", "-C"),
                    )
                ),
                "timestamp": pa.array(START_US + i * (1_000_000 // ROWS_PER_S)),
                "local_timestamp": pa.array(START_US + i * (1_000_000 // ROWS_PER_S) + 150_000),
                "type": pa.array(np.where(is_put, "put", "call")),
                "strike_price": pa.array(strike),
                "expiration": pa.array(np.full(n, EXPIRY_US)),
                "open_interest": pa.array(np.round(rng.uniform(0, 500, n), 5)),
                "last_price": pa.array(mark),
                "bid_price": pa.array(np.round(mark * 0.98, 4)),
                "bid_amount": pa.array(np.full(n, 15.0)),
                "bid_iv": pa.array(iv - 2),
                "ask_price": pa.array(np.round(mark * 1.02, 4)),
                "ask_amount": pa.array(np.full(n, 15.0)),
                "ask_iv": pa.array(iv + 2),
                "mark_price": pa.array(mark),
                "mark_iv": pa.array(iv),
                "underlying_index": pa.array(np.full(n, "BTC-8JUL20")),
                "underlying_price": pa.array(np.full(n, 9_756.36)),
                "delta": pa.array(np.round(rng.uniform(-1, 1, n), 5)),
                "gamma": pa.array(np.round(rng.uniform(0, 0.001, n), 5)),
                "vega": pa.array(np.round(rng.uniform(0, 20, n), 5)),
                "theta": pa.array(np.round(rng.uniform(-100, 0, n), 5)),
                "rho": pa.array(np.round(rng.uniform(-1, 1, n), 5)),
            }
            writer.write_table(pa.table(columns, schema=_schema()))
    return path.stat().st_size


def _schema() -> pa.Schema:
    return pa.schema(list(COLUMNS["options_chain"].items()))
