"""The dashboard's handlers over aiohttp's test client: pages, panels, logins, CSRF, actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.dashboard import dashboard_mount
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.trading_state import SetBy, TradingMode
from bot.domain.transfer_risk import TransferIntent
from bot.journal import PlanState, ProposalState
from bot.venues.base import StartupError
from tests.integration.dashboard_world import TOKEN, client, csrf_of, logged_in, world

PANELS = ("state", "greeks", "positions", "margin", "stress", "plans", "actions", "alerts", "pnl")


class TestPages:
    async def test_page_shows_every_panel_with_the_cycles_figures(self, tmp_path: Path) -> None:
        """GET / renders each panel, the BTC Greeks against the band, hedges, margin, stress."""
        with world(tmp_path) as w:
            async with client(w) as http:
                response = await http.get("/")
                html = await response.text()
        assert response.status == 200
        for name in PANELS:
            assert f'id="panel-{name}"' in html
        assert 'id="greeks-table"' in html and "BTC" in html and "band" in html
        assert "BTC/USD:BTC" in html and 'id="stress-grid"' in html
        assert "Liquidation at a move of" in html and "1796112000000" not in html

    async def test_the_greeks_panel_shows_each_bucket_against_its_limit(
        self, tmp_path: Path
    ) -> None:
        """The example's BTC ``all`` limit has a row with its 30-day vega and its level."""
        with world(tmp_path) as w:
            async with client(w) as http:
                html = await (await http.get("/panels/greeks")).text()
        table = html[html.index('id="greek-limits-table"') :]
        row = table[table.index('<th>BTC</th><td class="text">all</td>') :].split("</tr>")[0]
        assert row.count("<td>") == 3 and ">inside<" in row

    async def test_every_response_carries_the_security_headers(self, tmp_path: Path) -> None:
        """CSP without inline script, frame denial and no-store on pages and static files."""
        with world(tmp_path) as w:
            async with client(w) as http:
                for path in ("/", "/panels/state", "/static/dashboard.js", "/login"):
                    headers = (await http.get(path)).headers
                    assert "script-src 'self'" in headers["Content-Security-Policy"], path
                    assert headers["X-Frame-Options"] == "DENY", path
                    assert headers["Cache-Control"] == "no-store", path

    async def test_the_session_cookie_is_http_only_and_strict(self, tmp_path: Path) -> None:
        """The first visit sets an HttpOnly, SameSite=Strict session cookie."""
        with world(tmp_path) as w:
            async with client(w) as http:
                cookie = (await http.get("/")).headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie

    @pytest.mark.parametrize("name", PANELS)
    async def test_each_panel_renders_as_a_polling_fragment(
        self, tmp_path: Path, name: str
    ) -> None:
        """/panels/NAME is the panel's section, polling itself every refresh_s."""
        with world(tmp_path) as w:
            async with client(w) as http:
                response = await http.get(f"/panels/{name}")
                html = await response.text()
        assert response.status == 200
        assert html.startswith('<section class="panel') and f'hx-get="/panels/{name}"' in html
        assert 'hx-trigger="every 3000ms"' in html

    async def test_an_unknown_panel_is_404_naming_the_panels(self, tmp_path: Path) -> None:
        """A panel that does not exist is refused with the list of those that do."""
        with world(tmp_path) as w:
            async with client(w) as http:
                response = await http.get("/panels/nope")
                text = await response.text()
        assert response.status == 404 and "'nope'" in text and "greeks" in text

    async def test_a_failing_panel_says_so_and_the_page_still_renders(self, tmp_path: Path) -> None:
        """A panel whose figures cannot be built shows the error; the other panels render."""
        with world(tmp_path) as w:
            w.jobs.margin_view = object()  # type: ignore[assignment]
            async with client(w) as http:
                html = await (await http.get("/")).text()
        assert "unavailable: AttributeError" in html and 'id="greeks-table"' in html

    async def test_history_gives_the_chart_delta_and_band(self, tmp_path: Path) -> None:
        """/history.json has, per hedged underlying, UTC seconds, total delta and band edges."""
        with world(tmp_path) as w:
            async with client(w) as http:
                payload = await (await http.get("/history.json")).json()
        btc = payload["underlyings"]["BTC"]
        assert btc["t"] == [1_796_112_000.0]
        assert btc["low"][0] < 0 < btc["high"][0]
        assert btc["high"][0] == pytest.approx(5_000 / 60_000)


class TestLogin:
    async def test_a_wrong_token_is_refused(self, tmp_path: Path) -> None:
        """A wrong token gets 403 and the login form again; the controls stay hidden."""
        with world(tmp_path) as w:
            async with client(w) as http:
                form = await (await http.get("/login")).text()
                response = await http.post("/login", data={"csrf": csrf_of(form), "token": "x"})
                text = await response.text()
                page = await (await http.get("/")).text()
        assert response.status == 403 and "wrong token" in text
        assert 'id="halt"' not in page

    async def test_a_login_shows_the_controls_under_a_new_session(self, tmp_path: Path) -> None:
        """The right token replaces the session (a new id) and shows the controls."""
        with world(tmp_path) as w:
            async with client(w) as http:
                before = (await http.get("/login")).cookies["deltabot_session"].value
                await logged_in(http)
                after = http.session.cookie_jar.filter_cookies(http.make_url("/"))
                page = await (await http.get("/")).text()
        assert after["deltabot_session"].value != before
        assert 'id="halt"' in page and 'id="logout"' in page

    async def test_a_login_post_without_csrf_is_refused(self, tmp_path: Path) -> None:
        """Even the login form needs its CSRF token."""
        with world(tmp_path) as w:
            async with client(w) as http:
                await http.get("/login")
                response = await http.post("/login", data={"token": TOKEN})
                text = await response.text()
        assert response.status == 403 and "CSRF" in text


class TestActions:
    async def test_halt_halts_and_journals_who_and_why(self, tmp_path: Path) -> None:
        """Halt sets HALTED naming dashboard@address, journals the action and shows it."""
        with world(tmp_path) as w:
            async with client(w) as http:
                csrf = await logged_in(http)
                response = await http.post(
                    "/actions/halt", data={"csrf": csrf, "reason": "drill"}, allow_redirects=False
                )
                page = await (await http.get("/")).text()
            state = w.journal.state.trading_state()
            [action] = w.journal.actions.recent(5)
        assert response.status == 303
        assert state.mode is TradingMode.HALTED and state.set_by is SetBy.OPERATOR
        assert state.reason == "dashboard@127.0.0.1: drill"
        assert (action.actor, action.action, action.detail) == (
            "dashboard@127.0.0.1",
            "halt",
            "drill",
        )
        assert action.outcome.startswith("ok: trading active -> halted")
        assert 'id="flash"' in page and "HALTED" in page

    async def test_reduce_then_resume(self, tmp_path: Path) -> None:
        """Reduce sets REDUCING with its reason; resume sets ACTIVE again."""
        with world(tmp_path) as w:
            async with client(w) as http:
                csrf = await logged_in(http)
                await http.post("/actions/reduce", data={"csrf": csrf, "reason": "margin"})
                reduced = w.journal.state.trading_state()
                await http.post("/actions/resume", data={"csrf": csrf, "reason": ""})
            resumed = w.journal.state.trading_state()
        assert reduced.mode is TradingMode.REDUCING and reduced.reason.endswith("margin")
        assert resumed.mode is TradingMode.ACTIVE

    async def test_an_action_without_csrf_is_refused(self, tmp_path: Path) -> None:
        """A logged-in POST without the CSRF token is 403 and changes nothing."""
        with world(tmp_path) as w:
            async with client(w) as http:
                await logged_in(http)
                response = await http.post("/actions/halt", data={"reason": "forged"})
                text = await response.text()
            assert w.journal.state.trading_state().mode is TradingMode.ACTIVE
        assert response.status == 403 and "CSRF" in text

    async def test_an_action_before_login_is_refused(self, tmp_path: Path) -> None:
        """An anonymous session's valid CSRF token is not enough to act."""
        with world(tmp_path) as w:
            async with client(w) as http:
                csrf = csrf_of(await (await http.get("/login")).text())
                response = await http.post("/actions/halt", data={"csrf": csrf, "reason": "x"})
                text = await response.text()
        assert response.status == 403 and "log in first" in text

    async def test_halt_and_reduce_need_a_reason(self, tmp_path: Path) -> None:
        """An empty reason is 400 naming the action; nothing is journaled."""
        with world(tmp_path) as w:
            async with client(w) as http:
                csrf = await logged_in(http)
                response = await http.post("/actions/reduce", data={"csrf": csrf, "reason": " "})
                text = await response.text()
            assert w.journal.actions.recent(5) == ()
        assert response.status == 400 and "reduce needs a reason" in text

    async def test_an_unknown_action_is_404(self, tmp_path: Path) -> None:
        """Only halt, reduce, resume, approve and cycle exist."""
        with world(tmp_path) as w:
            async with client(w) as http:
                csrf = await logged_in(http)
                response = await http.post("/actions/liquidate", data={"csrf": csrf})
                text = await response.text()
        assert response.status == 404 and "'liquidate'" in text

    async def test_approve_marks_the_plan_and_a_second_approval_is_refused(
        self, tmp_path: Path
    ) -> None:
        """The plan's approve button approves it once; again, the journal's refusal is shown."""
        request = TransferRequest(
            TransferId("t-1"), VenueId("deribit-a"), TransferKind.SUBACCOUNT, Currency("BTC"), 0.5,
            "deribit-b", None,
        )  # fmt: skip
        with world(tmp_path) as w:
            w.journal.plans.propose("plan-1", 1, [TransferIntent(request, 30_000.0)], "top up b")
            async with client(w) as http:
                csrf = await logged_in(http)
                page = await (await http.get("/")).text()
                for _ in range(2):
                    await http.post("/actions/approve", data={"csrf": csrf, "plan_id": "plan-1"})
            assert w.journal.plans.get("plan-1").state is PlanState.APPROVED
            outcomes = [a.outcome for a in w.journal.actions.recent(5)]
        assert 'id="approve-plan-1"' in page
        assert outcomes[1].startswith("ok: approved plan-1")
        assert outcomes[0].startswith("refused: collateral plan plan-1 is approved")

    async def test_a_cheap_option_hedge_is_approved_from_the_page_a_dear_one_is_not(
        self, tmp_path: Path
    ) -> None:
        """Below dashboard_max_cost_usd the proposal has an approve button that approves it
        (CSRF and login as every control); above it, the page points to the command."""
        doc = {"venue": "deribit-a", "cost_usd": 126.0, "premium_usd": 17_220.0,
               "legs": [{"symbol": "BTC-C", "amount_coin": 4.2, "premium_usd_per_coin": 4_100.0,
                         "cost_usd": 126.0}],
               "rows": [{"bucket": "all", "figure": "vega_std_usd_per_volpt", "before": -684.2,
                         "after": -396.8, "bound": 400.0, "required": True}]}  # fmt: skip
        far = 4_000_000_000_000
        with world(tmp_path) as w:
            proposals = w.journal.option_proposals
            proposals.propose("oh-1", ts_ms=1, underlying="BTC", expires_ts_ms=far, document=doc)
            dear = {**doc, "cost_usd": 9_999_999.0}
            proposals.propose("oh-2", ts_ms=2, underlying="BTC", expires_ts_ms=far, document=dear)
            async with client(w) as http:
                csrf = await logged_in(http)
                page = await (await http.get("/")).text()
                await http.post(
                    "/actions/approve-option-hedge", data={"csrf": csrf, "proposal_id": "oh-1"}
                )
            assert proposals.get("oh-1").state is ProposalState.APPROVED
        assert 'id="approve-oh-1"' in page and 'id="approve-oh-2"' not in page
        assert "deltabot options-hedge approve oh-2" in page

    async def test_run_a_cycle_goes_through_the_lock(self, tmp_path: Path) -> None:
        """A cycle on request runs once; while another job holds the lock it is refused."""
        with world(tmp_path) as w:
            async with client(w) as http:
                csrf = await logged_in(http)
                await http.post("/actions/cycle", data={"csrf": csrf})
                async with w.jobs.busy:
                    await http.post("/actions/cycle", data={"csrf": csrf})
            outcomes = [a.outcome for a in w.journal.actions.recent(5)]
        assert w.engine.runs == 1
        assert outcomes[1] == "ok: ran a hedge cycle" and outcomes[0].startswith("refused")


class TestReadOnly:
    async def test_without_a_token_pages_render_and_controls_are_hidden(
        self, tmp_path: Path
    ) -> None:
        """No token: the page says read-only and shows no control."""
        with world(tmp_path) as w:
            async with client(w, token=None) as http:
                page = await (await http.get("/")).text()
        assert 'id="read-only"' in page and 'id="halt"' not in page and "<form" not in page

    async def test_without_a_token_every_post_is_refused(self, tmp_path: Path) -> None:
        """No token: login and actions are 403 even with the session's CSRF token."""
        with world(tmp_path) as w:
            async with client(w, token=None) as http:
                csrf = csrf_of(await (await http.get("/")).text())
                login = await http.post("/login", data={"csrf": csrf, "token": TOKEN})
                halt = await http.post("/actions/halt", data={"csrf": csrf, "reason": "x"})
                texts = [await login.text(), await halt.text()]
            assert w.journal.state.trading_state().mode is TradingMode.ACTIVE
        assert login.status == halt.status == 403
        assert all("read-only" in t and "DELTABOT_DASHBOARD_TOKEN" in t for t in texts)


class TestWiring:
    def test_a_short_token_stops_the_daemon_with_one_line(self, tmp_path: Path) -> None:
        """A token under 16 characters is a StartupError naming the variable."""
        with world(tmp_path) as w, pytest.raises(StartupError, match=r"DELTABOT_DASHBOARD_TOKEN"):
            dashboard_mount(
                w.config, {"DELTABOT_DASHBOARD_TOKEN": "short"}, w.jobs, simulated_clock=True
            )

    def test_a_disabled_dashboard_mounts_nothing(self, tmp_path: Path) -> None:
        """[dashboard] enabled = false: no routes are added."""
        with world(tmp_path) as w:
            config = w.config.model_copy(
                update={"dashboard": w.config.dashboard.model_copy(update={"enabled": False})}
            )
            assert dashboard_mount(config, {}, w.jobs, simulated_clock=True) is None
