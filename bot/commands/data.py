"""``deltabot data``: fill a chain store (``import-tardis``) and see what it holds (``show``).

Example (a Deribit day of options and the perpetual, thinned to 5 minutes)::

    deltabot data import-tardis --store chains --cadence-s 300 \\
        deribit_options_chain_2020-06-09_OPTIONS.csv.gz \\
        deribit_derivative_ticker_2020-06-09_BTC-PERPETUAL.csv.gz

Exit 0 with a summary (rows read and written, skipped rows, gaps), or 2 with
one line naming the file, line and column of the first bad row; nothing is
written then. pyarrow is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bot.ops.progress import RunProgress

_PROGRESS_AFTER_S = 1.0
"""An import quicker than this shows no progress."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``import-tardis`` and ``show`` actions and their options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    tardis = actions.add_parser(
        "import-tardis",
        help="import Tardis.dev options_chain / derivative_ticker CSV files (.csv, .csv.gz)",
        description="Import Tardis.dev CSV files into a chain store, thinned to a cadence.",
    )
    tardis.add_argument("--store", type=Path, required=True, metavar="DIR", help="chain store")
    tardis.add_argument(
        "--cadence-s",
        type=float,
        default=300.0,
        metavar="S",
        help="one snapshot per instrument every S seconds (default: %(default)g)",
    )
    tardis.add_argument(
        "--on-bad-row",
        choices=("fail", "skip"),
        default="fail",
        help="fail: stop at the first bad row, write nothing; skip: report and drop it "
        "(default: %(default)s)",
    )
    tardis.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Tardis CSV files")
    show = actions.add_parser("show", help="list a chain store's tables, partitions and spans")
    show.add_argument("--store", type=Path, required=True, metavar="DIR", help="chain store")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the action; 0 with its summary on stdout, 2 with one error line on stderr."""
    # pyarrow (~0.15 s) only when a data command runs.
    from bot.chain import ChainStore, StoreError  # noqa: PLC0415
    from bot.chain.tardis import TardisError, import_tardis  # noqa: PLC0415

    store = ChainStore(args.store)
    try:
        if args.action == "show":
            for line in store.describe():
                print(line)
            return 0
        cadence_ms = round(args.cadence_s * 1000)
        started = time.monotonic()
        with RunProgress(sys.stderr, "import", len(args.files), after_s=_PROGRESS_AFTER_S) as bar:
            report = import_tardis(
                store,
                args.files,
                cadence_ms=cadence_ms,
                on_bad_row=args.on_bad_row,
                progress=lambda done, total: bar.update(done, f"{done}/{total} files"),
            )
    except (StoreError, TardisError) as exc:
        print(f"deltabot data: error: {exc}", file=sys.stderr)
        return 2
    elapsed = max(time.monotonic() - started, 1e-9)
    written = ", ".join(f"{n:,} {table} rows" for table, n in report.rows_written.items())
    rate = report.rows_read / elapsed
    print(
        f"imported {report.files} file(s) into {args.store}: {report.rows_read:,} rows read "
        f"({rate:,.0f} rows/s), {written or 'nothing'} written"
    )
    if report.skipped:
        print(f"skipped {report.skipped:,} bad row(s):")
        for line in report.skipped_rows:
            print(f"  {line}")
    for gap in report.gaps:
        print(f"gap: {gap}")
    return 0
