"""A dashboard over a real journal and a planned cycle of the small BTC book, for the web tests.

No daemon and no venue: the jobs hold a cycle planned by the real ``plan_cycle``
over :func:`tests.books.small_btc_book`, the margin and stress jobs' results
over the same read, and the controls are the app's real ones on the journal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app.dashboard import operator_controls
from bot.config import Config, load_config
from bot.domain.exposure import Numeraire
from bot.domain.routes import HedgeRoute
from bot.domain.trading_state import INITIAL_STATE
from bot.engine.context import EngineContext, LatestRead
from bot.engine.cycle_result import CycleResult
from bot.engine.history import point_of
from bot.engine.margin_job import margin_snapshot, stress_snapshot
from bot.engine.plan import PlanInputs, plan_cycle
from bot.engine.scheduler import Jobs
from bot.journal import Journal
from bot.web import DashboardSetup, mount_dashboard
from strategies.registry import load_strategy
from tests.books import BTC, NOW_MS, PERP, VENUE, small_btc_book

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "correct-horse-battery-staple"


def planned_cycle(started_ms: int = NOW_MS) -> CycleResult:
    """A successful cycle over the small BTC book, hedged on its perp with a ±0.5 coin band."""
    book = small_btc_book()
    inputs = PlanInputs(
        strategy=load_strategy("band", {"width_up": 0.5, "width_down": 0.5}),
        routes=(HedgeRoute(BTC, VENUE, PERP),),
        numeraire=Numeraire.USD,
        targets_coin={},
        cost_frac=0.0007,
        max_slippage_frac=0.005,
        max_order_notional_usd=1e9,
        in_flight={},
        last_hedge_ms={},
    )
    plan = plan_cycle(book, inputs, "cycle-1")
    return CycleResult(started_ms, book, plan, None, (), None, INITIAL_STATE, {}, 0.05)


class FakeEngine:
    """Counts the hedge cycles run and returns the planned one."""

    def __init__(self) -> None:
        self.runs = 0

    async def run_cycle(self, _surfaces: Any) -> CycleResult:
        self.runs += 1
        return planned_cycle()


@dataclass
class World:
    config: Config
    journal: Journal
    jobs: Jobs
    engine: FakeEngine


@contextmanager
def world(tmp_path: Path) -> Iterator[World]:
    """Journal, context and jobs with one planned cycle, margin and stress results."""
    journal_path = tmp_path / "journal.sqlite"
    config = load_config(
        ROOT / "config.example.toml",
        {"DELTABOT_DAEMON__JOURNAL_PATH": str(journal_path)},
    )
    with Journal.open(journal_path) as journal:
        ctx = EngineContext(config, journal, {}, lambda: NOW_MS + 2_000)
        engine = FakeEngine()
        result = planned_cycle()
        jobs = Jobs(ctx, engine, latest=LatestRead().after_cycle(result))  # type: ignore[arg-type]
        point = point_of(result)
        assert point is not None
        jobs.history.append(point)
        jobs.margin_view = margin_snapshot(ctx, jobs.latest)
        jobs.stress_view = stress_snapshot(ctx, jobs.latest)
        yield World(config, journal, jobs, engine)


@asynccontextmanager
async def client(w: World, *, token: str | None = TOKEN) -> AsyncIterator[TestClient[Any, Any]]:
    """An aiohttp test client on the dashboard over ``w`` (read-only without ``token``)."""
    setup = DashboardSetup(
        jobs=w.jobs,
        token=token,
        controls=None if token is None else operator_controls(w.config),
        session_lifetime_s=600.0,
        refresh_s=3.0,
        simulated_clock=True,
    )
    app = web.Application()
    mount_dashboard(setup)(app)
    async with TestClient(TestServer(app)) as http:
        yield http


def csrf_of(html: str) -> str:
    """The session's CSRF token, as every page carries it."""
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def logged_in(http: TestClient[Any, Any], token: str = TOKEN) -> str:
    """Log in through the form; the CSRF token of the new session."""
    form = await (await http.get("/login")).text()
    response = await http.post(
        "/login", data={"csrf": csrf_of(form), "token": token}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    return csrf_of(await (await http.get("/")).text())
