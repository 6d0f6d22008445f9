"""The operator's web dashboard, served by the status server (docs/architecture.md §10).

Server-rendered pages (Jinja2) with live panels (htmx polls fragments) and a
chart (uPlot), both vendored under ``static/vendor``: no build step, no CDN,
no second process. The app builds a :class:`DashboardSetup` and passes
:func:`mount_dashboard`'s result to the status server; the operator's actions
arrive as :class:`Controls` from :mod:`bot.app.operator`.
"""

from __future__ import annotations

from bot.web._app import DashboardSetup, PanelHook, mount_dashboard
from bot.web._controls import ControlRefusedError, Controls
from bot.web._sessions import MIN_TOKEN_CHARS, TokenTooShortError

__all__ = [
    "MIN_TOKEN_CHARS",
    "ControlRefusedError",
    "Controls",
    "DashboardSetup",
    "PanelHook",
    "TokenTooShortError",
    "mount_dashboard",
]
