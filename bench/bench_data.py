"""Tardis CSV import: rows per second and peak RSS on a locally generated options_chain file.

The file is generated at two sizes (``DELTABOT_BENCH_TARDIS_MB``, default 1024 MB,
and a quarter of it); each is imported in its own process so its peak RSS is its
own. The baseline, timed in the same process, is pyarrow's bare streaming parse
of the same file: the import's ratio to it is what the thinning and writing cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

from bench._tardis_file import write_options_chain
from bench._util import report
from bot.chain import ChainStore
from bot.chain.tardis import import_tardis

BYTES_PER_ROW = 224
"""About what the generator writes (real Deribit rows are 180 to 230 bytes)."""
TARGET_ROWS_PER_S = 1_000_000
RSS_RATIO_TARGET = 1.25
"""Peak RSS of the big import over the small one's: at most this, i.e. independent of size."""
CADENCE_MS = 300_000


def _child(csv_path: str, store_dir: str) -> None:
    """Import, time and measure in this process; print one JSON line."""
    t0 = time.perf_counter()
    result = import_tardis(ChainStore(Path(store_dir)), [Path(csv_path)], cadence_ms=CADENCE_MS)
    import_s = time.perf_counter() - t0
    rss_mib = _peak_rss_since_exec_mib()
    t0 = time.perf_counter()
    parsed = sum(batch.num_rows for batch in pacsv.open_csv(csv_path))
    parse_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "rows": result.rows_read,
                "parsed": parsed,
                "import_s": import_s,
                "parse_s": parse_s,
                "rss_mib": rss_mib,
            }
        )
    )


def _peak_rss_since_exec_mib() -> float:
    """VmHWM of this process: ru_maxrss would include the parent's peak from before the exec."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024.0


def _measure(directory: Path, megabytes: float) -> dict[str, float]:
    csv_path = directory / f"options_chain_{megabytes:g}MB.csv"
    write_options_chain(csv_path, int(megabytes * 1e6 / BYTES_PER_ROW))
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_data", csv_path, directory / f"store{megabytes:g}"],
        capture_output=True,
        text=True,
        check=True,
    )
    csv_path.unlink()
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def run() -> None:
    megabytes = float(os.environ.get("DELTABOT_BENCH_TARDIS_MB", "1024"))
    with tempfile.TemporaryDirectory() as tmp:
        small = _measure(Path(tmp), megabytes / 4)
        big = _measure(Path(tmp), megabytes)
    rate = big["rows"] / big["import_s"]
    report(
        f"import {big['rows']:,.0f} rows ({megabytes:g} MB), rows/s",
        rate,
        "rows/s",
        f">= {TARGET_ROWS_PER_S:,}",
        rate >= TARGET_ROWS_PER_S,
    )
    baseline = big["parsed"] / big["parse_s"]
    report("baseline: bare pyarrow parse of the same file, rows/s", baseline, "rows/s")
    report("import / bare parse, throughput ratio", rate / baseline, "x")
    report(f"peak RSS, {megabytes / 4:g} MB file", small["rss_mib"], "MiB")
    report(f"peak RSS, {megabytes:g} MB file", big["rss_mib"], "MiB")
    ratio = big["rss_mib"] / small["rss_mib"]
    report(
        "peak RSS ratio, 4x the file",
        ratio,
        "x",
        f"<= {RSS_RATIO_TARGET}",
        ratio <= RSS_RATIO_TARGET,
    )


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
