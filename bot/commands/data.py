"""``deltabot data``: download public history (``fetch``: Tardis files; ``fetch-deliveries``,
``fetch-trades``, ``fetch-dvol``: Deribit's public history into the store), fill a chain
store (``import-tardis``) and see what it holds (``show``).

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
from typing import TYPE_CHECKING

from bot.ops.progress import RunProgress

if TYPE_CHECKING:
    from bot.chain import ChainStore

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
    fetch = actions.add_parser(
        "fetch",
        help="download Tardis.dev CSV days (free: the first of each month), resuming",
        description="Download Tardis.dev CSV files under the names import-tardis takes.",
    )
    fetch.add_argument("--dest", type=Path, required=True, metavar="DIR", help="download here")
    fetch.add_argument(
        "--date", required=True, metavar="YYYY-MM-DD", help="the day (free: the 1st of a month)"
    )
    fetch.add_argument(
        "--exchange", default="deribit", help="Tardis exchange id (default: %(default)s)"
    )
    fetch.add_argument(
        "--file",
        action="append",
        default=None,
        metavar="TYPE/SYMBOL",
        help="data type and symbol, repeatable (default: options_chain/OPTIONS and "
        "derivative_ticker/BTC-PERPETUAL)",
    )
    fetch.add_argument(
        "--base-url",
        default="https://datasets.tardis.dev",
        help="where the files are served (default: %(default)s)",
    )
    deliveries = actions.add_parser(
        "fetch-deliveries",
        help="Deribit's public delivery prices of an index into the store's settlements",
    )
    deliveries.add_argument("--store", type=Path, required=True, metavar="DIR", help="chain store")
    deliveries.add_argument(
        "--index", default="btc_usd", help="Deribit index name (default: %(default)s)"
    )
    deliveries.add_argument(
        "--base-url",
        default="https://www.deribit.com",
        help="Deribit's API host (default: %(default)s)",
    )
    for action, what, host in (
        ("fetch-trades", "public option trades", "its history host, history.deribit.com"),
        ("fetch-dvol", "DVOL volatility index candles", "www.deribit.com"),
    ):
        history = actions.add_parser(
            action,
            help=f"Deribit's {what} of whole UTC days into the store, resuming",
            description=f"Download Deribit's {what} day by day into a chain store; a day "
            "already there is not fetched again.",
        )
        history.add_argument("--store", type=Path, required=True, metavar="DIR", help="chain store")
        history.add_argument(
            "--currency", default="BTC", help="Deribit currency (default: %(default)s)"
        )
        history.add_argument(
            "--from", dest="first", required=True, metavar="YYYY-MM-DD", help="first UTC day"
        )
        history.add_argument(
            "--to", dest="last", metavar="YYYY-MM-DD", help="last day, over (default: --from)"
        )
        history.add_argument("--base-url", default=None, help=f"Deribit's host (default: {host})")
        if action == "fetch-dvol":
            history.add_argument(
                "--resolution",
                default="60",
                help="candle length: 1, 60, 3600, 43200 (seconds) or 1D (default: %(default)s)",
            )
    show = actions.add_parser("show", help="list a chain store's tables, partitions and spans")
    show.add_argument("--store", type=Path, required=True, metavar="DIR", help="chain store")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the action; 0 with its summary on stdout, 2 with one error line on stderr."""
    # pyarrow (~0.15 s) only when a data command runs.
    from bot.chain import ChainStore, StoreError  # noqa: PLC0415
    from bot.chain.fetch import FetchError  # noqa: PLC0415
    from bot.chain.tardis import TardisError, import_tardis  # noqa: PLC0415

    try:
        if args.action == "fetch":
            return _fetch(args)
        store = ChainStore(args.store)
        if args.action == "fetch-deliveries":
            from bot.chain.fetch import fetch_deliveries  # noqa: PLC0415

            rows = fetch_deliveries(store, args.index, base=args.base_url)
            print(f"{rows:,} delivery prices of {args.index} into {args.store}/settlements")
            return 0
        if args.action in ("fetch-trades", "fetch-dvol"):
            return _fetch_history(args, store)
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
    except (StoreError, TardisError, FetchError) as exc:
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


def _fetch(args: argparse.Namespace) -> int:
    """Download each ``--file`` of ``--date``, with a progress bar per file."""
    from datetime import date  # noqa: PLC0415

    from bot.chain.fetch import download, tardis_name, tardis_url  # noqa: PLC0415

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"deltabot data: error: --date {args.date!r} is not YYYY-MM-DD", file=sys.stderr)
        return 2
    files = args.file or ["options_chain/OPTIONS", "derivative_ticker/BTC-PERPETUAL"]
    args.dest.mkdir(parents=True, exist_ok=True)
    for spec in files:
        data_type, sep, symbol = spec.partition("/")
        if not (sep and data_type and symbol):
            print(f"deltabot data: error: --file {spec!r}: expected TYPE/SYMBOL", file=sys.stderr)
            return 2
        name = tardis_name(args.exchange, data_type, day, symbol)
        url = tardis_url(args.base_url, args.exchange, data_type, day, symbol)
        dest = args.dest / name
        if dest.exists():
            print(f"{dest}: already here")
            continue
        with RunProgress(sys.stderr, name, 1.0, after_s=_PROGRESS_AFTER_S) as bar:

            def shown(done: int, total: int | None, bar: RunProgress = bar) -> None:
                bar.update(done / total if total else 0.0, f"{done / 1e6:,.1f} MB")

            fetched = download(url, dest, shown)
        print(f"{dest}: {fetched / 1e6:,.1f} MB fetched")
    return 0


def _fetch_history(args: argparse.Namespace, store: ChainStore) -> int:
    """``fetch-trades`` / ``fetch-dvol``: whole UTC days that are over, with a progress bar."""
    from datetime import UTC, date, datetime  # noqa: PLC0415

    from bot.chain.deribit_history import (  # noqa: PLC0415
        DERIBIT_HISTORY_BASE,
        days_between,
        fetch_dvol,
        fetch_trades,
    )
    from bot.chain.fetch import DERIBIT_BASE  # noqa: PLC0415

    try:
        first = date.fromisoformat(args.first)
        last = date.fromisoformat(args.last or args.first)
        days = days_between(first, last)
    except ValueError as exc:
        print(f"deltabot data: error: --from/--to: {exc}", file=sys.stderr)
        return 2
    today = datetime.now(UTC).date()
    if last >= today:
        print(
            f"deltabot data: error: --to {last} is not over yet (today is {today} UTC): "
            "only whole days are fetched, so a resumed fetch can skip them",
            file=sys.stderr,
        )
        return 2
    table = "trades" if args.action == "fetch-trades" else "dvol"
    with RunProgress(sys.stderr, args.action, len(days), after_s=_PROGRESS_AFTER_S) as bar:

        def shown(done: int, total: int) -> None:
            bar.update(done, f"{done}/{total} days")

        if table == "trades":
            base = args.base_url or DERIBIT_HISTORY_BASE
            report = fetch_trades(store, args.currency, days, base=base, progress=shown)
        else:
            report = fetch_dvol(
                store,
                args.currency,
                days,
                resolution=args.resolution,
                base=args.base_url or DERIBIT_BASE,
                progress=shown,
            )
    print(
        f"{report.rows:,} {table} rows of {args.currency} into {args.store}/{table}: "
        f"{report.days_fetched} day(s) fetched, {report.days_kept} already there"
    )
    return 0
