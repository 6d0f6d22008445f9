"""The dashboard's routes on the status server: pages, live panels, the chart's data, logins
and the operator's actions.

Security model (docs/architecture.md §10): the server binds where ``[metrics]``
binds (loopback by default). Viewing needs no login, like ``/status``; acting
does. A login takes the token from the environment (compared in constant
time) and gets a new random session id in an HttpOnly, SameSite=Strict cookie
that expires on the server. Every POST must carry the session's CSRF token
(403 otherwise). Without a token the dashboard is read-only: no controls are
shown and every action is refused. Each action is journaled
(``journal.actions``) and logged with who did it, ``dashboard@<address>``;
the token is never logged. Every response carries a CSP without inline
scripts or styles, ``X-Frame-Options: DENY`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import jinja2
import structlog
from aiohttp import web
from markupsafe import Markup

from bot.clock import SystemClock
from bot.domain.health import Level
from bot.engine.health import health_of
from bot.engine.plan import CyclePlan
from bot.engine.scheduler import Jobs
from bot.engine.status import greek_bucket_rows
from bot.journal import OperatorAction
from bot.ops.status_server import Mount
from bot.web import _format
from bot.web._controls import ControlRefusedError, Controls
from bot.web._sessions import Session, Sessions, csrf_ok
from bot.web._views import (
    action_rows,
    bucket_rows,
    chart_series,
    greeks_rows,
    hedge_rows,
    margin_venues,
    option_proposal_rows,
    order_rows,
    plan_rows,
    state_view,
    stress_view,
)

_HERE: Final = Path(__file__).parent
COOKIE: Final = "deltabot_session"
CSRF_FIELD: Final = "csrf"
MAX_REASON_CHARS: Final = 500
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_log = structlog.get_logger("deltabot.dashboard")

PanelHook = Callable[[], Mapping[str, object]]
"""Extra figures for a panel (alerts, P&L attribution): the template's context."""


@dataclass(frozen=True, slots=True)
class DashboardSetup:
    """What the dashboard reads and acts through; the app builds it (``bot.app.daemon``).

    ``token`` None: read-only. ``controls`` None also disables the actions.
    ``simulated_clock``: the daemon's own stamps are on the simulator's clock.
    ``alerts`` and ``pnl`` fill the panels of the same names (placeholders without).
    """

    jobs: Jobs
    token: str | None
    controls: Controls | None
    session_lifetime_s: float
    refresh_s: float
    simulated_clock: bool = False
    alerts: PanelHook | None = None
    pnl: PanelHook | None = None
    wall_ms: Callable[[], int] = field(default=SystemClock().now_ms)


def mount_dashboard(setup: DashboardSetup) -> Mount:
    """A ``mount`` for :func:`bot.ops.status_server.run_status_server` that adds the dashboard
    (raises TokenTooShortError now for a token too short to be safe)."""
    dashboard = _Dashboard(setup)

    def mount(app: web.Application) -> None:
        app.middlewares.append(_security_headers)
        dashboard.add_routes(app)

    return mount


@web.middleware
async def _security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=_format.number,
        signed=_format.signed,
        percent=_format.percent,
        seconds=_format.seconds,
        iso_utc=_format.iso_utc,
    )
    return env


class _Dashboard:
    """The handlers over one :class:`DashboardSetup` and its sessions."""

    def __init__(self, setup: DashboardSetup) -> None:
        self.setup = setup
        self.sessions = Sessions(setup.token, setup.session_lifetime_s)
        self.templates = _environment()
        self.panels: dict[str, Callable[[], dict[str, object]]] = {
            "state": self._state,
            "greeks": self._greeks,
            "positions": self._positions,
            "margin": self._margin,
            "stress": self._stress,
            "plans": self._plans,
            "actions": self._actions,
            "alerts": lambda: self._hook("alerts", setup.alerts),
            "pnl": lambda: self._hook("pnl", setup.pnl),
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_get("/panels/{name}", self.panel)
        app.router.add_get("/history.json", self.history)
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_post("/actions/{name}", self.action)
        app.router.add_static("/static/", _HERE / "static", follow_symlinks=False)

    # -- rendering ------------------------------------------------------------------------

    def _session(self, request: web.Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    def _render(self, name: str, context: Mapping[str, object], status: int = 200) -> web.Response:
        body = self.templates.get_template(name).render(**context)
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")

    def _base(self, session: Session | None) -> dict[str, object]:
        config = self.setup.jobs.ctx.config
        return {
            "mode": config.mode.value,
            "read_only": self.sessions.read_only or self.setup.controls is None,
            "logged_in": session is not None and session.authenticated,
            "csrf": "" if session is None else session.csrf,
            "refresh_s": self.setup.refresh_s,
            "login_env_var": config.dashboard.login_env_var,
        }

    def _panel_context(self, name: str, session: Session | None) -> dict[str, object]:
        """One panel's figures; a failure shows in the panel instead of breaking the page."""
        context = self._base(session)
        try:
            context.update(self.panels[name]())
            context["error"] = None
        except Exception as exc:
            _log.exception("dashboard_panel_failed", panel=name)
            context["error"] = f"{type(exc).__name__}: {exc}"
        return context

    def _panel_html(self, name: str, session: Session | None) -> str:
        template = self.templates.get_template(f"panel_{name}.html")
        return template.render(**self._panel_context(name, session))

    def _cookie(self, response: web.StreamResponse, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            session.session_id,
            max_age=round(self.setup.session_lifetime_s),
            path="/",
            httponly=True,
            samesite="Strict",
        )

    # -- panels ---------------------------------------------------------------------------

    def _state(self) -> dict[str, object]:
        jobs = self.setup.jobs
        ctx, latest, now_ms = jobs.ctx, jobs.latest, jobs.ctx.clock_ms()
        health = health_of(ctx, latest, now_ms)
        cycle = latest.cycle
        return {
            "state": state_view(ctx.journal, simulated_clock=self.setup.simulated_clock),
            "health_level": health.level.value,
            "health": [c for c in health.components if c.level is not Level.OK],
            "now": _format.iso_utc(now_ms),
            "clock": ctx.clock_name,
            "last_cycle_at": None if cycle is None else _format.iso_utc(cycle.started_ms),
            "last_cycle_age_s": None if cycle is None else (now_ms - cycle.started_ms) / 1000,
            "last_cycle_error": None if cycle is None else cycle.error,
            "journal_problem": jobs.journal_problem,
        }

    def _plan(self) -> CyclePlan | None:
        cycle = self.setup.jobs.latest.cycle
        return None if cycle is None else cycle.plan

    def _greeks(self) -> dict[str, object]:
        plan = self._plan()
        config = self.setup.jobs.ctx.config
        return {
            "rows": greeks_rows(plan, config.strategy),
            "buckets": bucket_rows(plan),
            "limits": [] if plan is None else greek_bucket_rows(plan, config.greek_limits),
            "strategy": config.strategy.name,
            "valued_at": None if plan is None else _format.iso_utc(plan.valuation_ts_ms),
        }

    def _positions(self) -> dict[str, object]:
        return {
            "hedges": hedge_rows(self._plan()),
            "orders": order_rows(self.setup.jobs.ctx.journal),
        }

    def _margin(self) -> dict[str, object]:
        jobs = self.setup.jobs
        return {"venues": margin_venues(jobs.latest, jobs.margin_view)}

    def _stress(self) -> dict[str, object]:
        return {"stress": stress_view(self.setup.jobs.stress_view)}

    def _plans(self) -> dict[str, object]:
        ctx = self.setup.jobs.ctx
        return {
            "plans": plan_rows(ctx.journal),
            "collateral_mode": ctx.config.collateral.mode,
            "option_proposals": option_proposal_rows(
                ctx.journal, ctx.config.options_hedge.dashboard_max_cost_usd
            ),
        }

    def _actions(self) -> dict[str, object]:
        return {"actions": action_rows(self.setup.jobs.ctx.journal)}

    @staticmethod
    def _hook(name: str, hook: PanelHook | None) -> dict[str, object]:
        return {name: None if hook is None else dict(hook())}

    # -- handlers -------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        session = self._session(request)
        fresh = session is None
        if session is None:
            session = self.sessions.new()
        context = self._base(session)
        context["flash"] = session.take_flash()
        context["panels"] = {
            name: Markup(self._panel_html(name, session))  # rendered with autoescape
            for name in self.panels
        }
        response = self._render("dashboard.html", context)
        if fresh:
            self._cookie(response, session)
        return response

    async def panel(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.panels:
            raise web.HTTPNotFound(
                text=f"no panel named {name!r}; the panels are {', '.join(self.panels)}"
            )
        return web.Response(
            text=self._panel_html(name, self._session(request)),
            content_type="text/html",
            charset="utf-8",
        )

    async def history(self, _request: web.Request) -> web.Response:
        jobs = self.setup.jobs
        series = chart_series(list(jobs.history), jobs.ctx.config)
        return web.json_response({"underlyings": series}, dumps=json.dumps)

    async def login_form(self, request: web.Request) -> web.Response:
        session = self._session(request)
        fresh = session is None
        if session is None:
            session = self.sessions.new()
        response = self._render("login.html", {**self._base(session), "problem": None})
        if fresh:
            self._cookie(response, session)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        session = self._checked(request, form)
        if self.sessions.read_only:
            raise _refused(self._read_only_text())
        token = form.get("token")
        fresh = self.sessions.login(session, token if isinstance(token, str) else "")
        if fresh is None:
            _log.warning("dashboard_login_refused", remote=request.remote)
            context = {**self._base(session), "problem": "wrong token"}
            return self._render("login.html", context, 403)
        _log.info("dashboard_login", who=_who(request))
        response = web.HTTPSeeOther("/")
        self._cookie(response, fresh)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = self._checked(request, await request.post())
        self.sessions.end(session)
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def action(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        form = await request.post()
        session = self._checked(request, form)
        controls = self.setup.controls
        if self.sessions.read_only or controls is None:
            raise _refused(self._read_only_text())
        if not session.authenticated:
            raise _refused("refused: log in first (/login)")
        detail = _field(form, _DETAIL_FIELD.get(name, "reason"))
        outcome = await self._act(name, detail, _who(request), controls)
        session.flash = outcome
        raise web.HTTPSeeOther("/")

    def _checked(self, request: web.Request, form: Mapping[str, object]) -> Session:
        """The request's session if the form carries its CSRF token; else 403."""
        session = self._session(request)
        presented = form.get(CSRF_FIELD)
        if session is None or not csrf_ok(
            session, presented if isinstance(presented, str) else None
        ):
            _log.warning("dashboard_csrf_refused", remote=request.remote, path=request.path)
            raise _refused(
                "refused: missing or wrong CSRF token (or an expired session); reload the "
                "page and try again"
            )
        return session

    def _read_only_text(self) -> str:
        var = self.setup.jobs.ctx.config.dashboard.login_env_var
        return f"refused: the dashboard is read-only (no token in ${var})"

    async def _act(self, name: str, detail: str, who: str, controls: Controls) -> str:
        """Run one action, journal and log it with who asked; the line to show."""
        reasoned: dict[str, Callable[[str], str]] = {
            "halt": controls.halt,
            "reduce": controls.reduce,
            "resume": controls.resume,
        }
        if name in reasoned:
            if not detail and name != "resume":
                raise web.HTTPBadRequest(text=f"refused: {name} needs a reason")
            reason = f"{who}: {detail or 'resume'}"
            outcome = self._attempt(lambda: reasoned[name](reason))
        elif name in _DETAIL_FIELD:
            if not detail:
                raise web.HTTPBadRequest(text=f"refused: {name} needs a {_DETAIL_FIELD[name]}")
            approve = controls.approve if name == "approve" else controls.approve_option_hedge
            outcome = self._attempt(lambda: approve(detail))
        elif name == "cycle":
            ran = await self.setup.jobs.cycle_now()
            outcome = (
                "ok: ran a hedge cycle"
                if ran
                else "refused: another job holds the lock (or trading stopped); try again"
            )
        else:
            raise web.HTTPNotFound(
                text=f"no action named {name!r}; the actions are halt, reduce, resume, "
                "approve, approve-option-hedge, cycle"
            )
        action = OperatorAction(self.setup.wall_ms(), who, name, detail, outcome)
        self.setup.jobs.ctx.journal.actions.record(action)
        _log.info("dashboard_action", who=who, action=name, detail=detail, outcome=outcome)
        return outcome

    @staticmethod
    def _attempt(work: Callable[[], str]) -> str:
        try:
            return f"ok: {work()}"
        except ControlRefusedError as exc:
            return f"refused: {exc}"


_DETAIL_FIELD: Final = {"approve": "plan_id", "approve-option-hedge": "proposal_id"}
"""The approving actions and the form field naming what they approve."""


def _who(request: web.Request) -> str:
    return f"dashboard@{request.remote or 'unknown'}"


def _field(form: Mapping[str, object], name: str) -> str:
    """A form field, stripped and bounded; '' when missing."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > MAX_REASON_CHARS:
        raise web.HTTPBadRequest(
            text=f"refused: {name} is longer than {MAX_REASON_CHARS} characters"
        )
    return text


def _refused(text: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=text)
