"""The dashboard: every page and panel over loopback HTTP at 10,000 positions.

The jobs hold what the daemon's would after a cycle over the 10,000-position
book of :mod:`bench.bench_cycle` (the plan, the margin view, the light stress
pass, a full ring of recent cycles); the journal holds 200 orders, a week of
hedge cycles every 10 s for BTC and ETH (their decisions and equities, what the
P&L panel attributes) and 500 alerts. Each page,
live panel and the chart's data are fetched through aiohttp on 127.0.0.1, the
way a browser polls them. Target: every one under 200 ms (median and p99 are
printed; nothing is asserted).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from aiohttp import ClientSession, web

from bench._util import pin_one_core, report
from bench.bench_cycle import NOW_MS, plan_inputs
from bench.bench_cycle import portfolio as cycle_book
from bot.app.dashboard import ALERTS_PANEL_ROWS, PnlPanel
from bot.config import load_config
from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import OrderRequest, Side, TimeInForce
from bot.domain.risk import OrderIntent
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle_result import CycleResult
from bot.engine.history import HISTORY_CYCLES, point_of
from bot.engine.margin_job import margin_snapshot, stress_snapshot
from bot.engine.plan import plan_cycle
from bot.engine.scheduler import Jobs
from bot.engine.status import recent_alerts
from bot.journal import Journal
from bot.ops.logging import LogFormat, LogLevel, configure_logging
from bot.web import DashboardSetup, mount_dashboard

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0
REQUESTS = 40
PATHS = (
    "/",
    "/panels/state",
    "/panels/greeks",
    "/panels/positions",
    "/panels/margin",
    "/panels/stress",
    "/panels/plans",
    "/panels/pnl",
    "/panels/alerts",
    "/history.json",
)
WEEK_CYCLES = 7 * 24 * 360
"""Hedge cycles in a week at the example config's 10 s interval."""
WEEK_END_MS = NOW_MS - NOW_MS % MS_PER_DAY + MS_PER_DAY - 10_000
"""The week's last cycle, 10 s before a UTC midnight: today's rows are a whole day (the
P&L panel's worst case)."""
NEW_CYCLES = 20
CycleRows = list[tuple[tuple[object, ...], tuple[object, ...]]]
"""Per underlying, its decision row and its equity row."""


def _jobs(journal: Journal, journal_path: Path) -> Jobs:
    """Jobs as after a cycle over 10,000 positions, with a full ring of recent cycles."""
    config = load_config(
        ROOT / "config.example.toml", {"DELTABOT_DAEMON__JOURNAL_PATH": str(journal_path)}
    )
    portfolio, routes = cycle_book(10_000)
    plan = plan_cycle(portfolio, plan_inputs(routes), "bench")
    result = CycleResult(NOW_MS, portfolio, plan, None, (), None, INITIAL_STATE, {}, 0.01)
    ctx = EngineContext(config, journal, {}, lambda: NOW_MS + 1_000)
    jobs = Jobs(ctx, None, latest=LatestRead().after_cycle(result))  # type: ignore[arg-type]
    point = point_of(result)
    assert point is not None
    for i in range(HISTORY_CYCLES):
        jobs.history.append(replace(point, started_ms=NOW_MS - i * 5_000))
    jobs.margin_view = margin_snapshot(ctx, jobs.latest)
    jobs.stress_view = stress_snapshot(ctx, jobs.latest)
    _orders(journal)
    _week_of_cycles(journal_path)
    return jobs


def _week_of_cycles(journal_path: Path) -> None:
    """A week of cycles' decisions and equities, and 500 alerts, written in one transaction
    on a side connection (the journal's own writes fsync each one: minutes for a week)."""
    conn = sqlite3.connect(journal_path, isolation_level=None)
    rows: CycleRows = []
    for i in range(WEEK_CYCLES):
        rows += _cycle_rows(f"week-{i}", WEEK_END_MS - (WEEK_CYCLES - 1 - i) * 10_000, i)
    alerts = [
        (
            NOW_MS - k * 60_000,
            "rate_limited",
            "warning",
            f"k{k}",
            f"venue slow {k}",
            1,
            0,
            "{}",
            "{}",
        )
        for k in range(500)
    ]
    conn.execute("BEGIN")
    _insert(conn, rows)
    conn.executemany(
        "INSERT INTO alerts (ts_ms, kind, severity, key, message, count, resolved, fields_json,"
        " delivery_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        alerts,
    )
    conn.execute("COMMIT")
    conn.close()


def _orders(journal: Journal) -> None:
    """200 journaled hedge orders, as a busy day leaves them."""
    for i in range(200):
        decision = journal.orders.record_decision(
            f"bench-{i}", Currency("BTC"), NOW_MS + i, greeks={}, inputs={}, target_coin=0.0,
            reason="bench",
        )  # fmt: skip
        request = OrderRequest(
            ClientOrderId(f"bench-{i}"), VenueId("venue-0"), Symbol("BTC/USD:BTC"),
            Side.BUY, 100.0, 60_000.0, TimeInForce.IOC, False, False,
        )  # fmt: skip
        intent = OrderIntent(request, Currency("BTC"), 100.0, 100.0 / 60_000.0, 0.0)
        journal.orders.record_intent(intent, decision, NOW_MS + i)


def _cycle_rows(
    cycle: str, ts_ms: int, i: int
) -> list[tuple[tuple[object, ...], tuple[object, ...]]]:
    """One cycle's decision and equity rows for BTC and ETH, with figures that move."""
    out = []
    for u, index in (("BTC", 60_000.0), ("ETH", 3_000.0)):
        greeks = {
            "book_delta_coin": 12.0, "hedge_coin": -12.0 + 0.01 * (i % 7),
            "gamma_coin_per_pct": -0.08, "vega_usd_per_volpt": -380.0,
            "theta_usd_per_day": 200.0, "index_usd": index * (1 + 0.001 * (i % 11)),
            "sigma": 0.6, "tau_years": 0.1,
        }  # fmt: skip
        decision = (f"{cycle}/{u}", cycle, ts_ms, u, json.dumps(greeks), "{}", 0.0, "x")
        out.append((decision, (f"{cycle}/{u}", 10.0 + 0.001 * (i % 5))))
    return out


def _insert(
    conn: sqlite3.Connection, rows: list[tuple[tuple[object, ...], tuple[object, ...]]]
) -> None:
    conn.executemany("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [d for d, _ in rows])
    conn.executemany(
        "INSERT INTO equities (decision_id, equity_coin) VALUES (?, ?)", [e for _, e in rows]
    )


def _pnl_after_new_cycles(journal: Journal, journal_path: Path) -> tuple[float, np.ndarray]:
    """The P&L panel's first render (the week), then its render after each of
    ``NEW_CYCLES`` new cycles (today's whole day again), in ms."""
    clock = [WEEK_END_MS + 1_000]
    panel = PnlPanel(journal, lambda: clock[0])
    t0 = time.perf_counter()
    panel()
    cold_ms = (time.perf_counter() - t0) * 1000
    conn = sqlite3.connect(journal_path, isolation_level=None)
    spent = np.empty(NEW_CYCLES)
    for k in range(NEW_CYCLES):
        conn.execute("BEGIN")
        _insert(conn, _cycle_rows(f"new-{k}", WEEK_END_MS + 1 + k, k))
        conn.execute("COMMIT")
        clock[0] += 1
        t0 = time.perf_counter()
        panel()
        spent[k] = time.perf_counter() - t0
    conn.close()
    return cold_ms, spent * 1000


async def _fetch_all(base_url: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    async with ClientSession() as http:
        for path in PATHS:
            spent = np.empty(REQUESTS)
            for k in range(REQUESTS + 2):
                t0 = time.perf_counter()
                async with http.get(base_url + path) as response:
                    body = await response.read()
                    assert response.status == 200, (path, response.status)
                    assert b"unavailable:" not in body, (path, body)
                if k >= 2:  # two warm-up requests
                    spent[k - 2] = time.perf_counter() - t0
            out[path] = spent * 1000
    return out


async def _serve(jobs: Jobs) -> dict[str, np.ndarray]:
    setup = DashboardSetup(
        jobs=jobs, token="bench-token-0123456789", controls=None, session_lifetime_s=60.0,
        refresh_s=3.0, pnl=PnlPanel(jobs.ctx.journal, jobs.ctx.clock_ms),
        alerts=lambda: {"rows": recent_alerts(jobs.ctx.journal, ALERTS_PANEL_ROWS)},
    )  # fmt: skip
    app = web.Application()
    mount_dashboard(setup)(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        return await _fetch_all(f"http://{host}:{port}")
    finally:
        await runner.cleanup()


def run() -> None:
    configure_logging(LogLevel.ERROR, LogFormat.CONSOLE, sys.stderr)
    pin_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        journal_path = Path(tmp) / "j.sqlite"
        with Journal.open(journal_path) as journal:
            figures = asyncio.run(_serve(_jobs(journal, journal_path)))
            cold_ms, after_cycle_ms = _pnl_after_new_cycles(journal, journal_path)
    for path, ms in figures.items():
        median, p99 = float(np.median(ms)), float(np.percentile(ms, 99))
        report(
            f"GET {path}, 10,000 positions, median", median, "ms", "< 200 ms", median < TARGET_MS
        )
        report(f"  p99 of {REQUESTS}", p99, "ms", "< 200 ms", p99 < TARGET_MS)
    report("P&L panel, first render (a week: finished days)", cold_ms, "ms")
    median = float(np.median(after_cycle_ms))
    report(
        "P&L panel after a new cycle (today: a whole day), median",
        median, "ms", "< 200 ms", median < TARGET_MS,
    )  # fmt: skip
