"""Logins, session cookies and CSRF tokens, all held in memory by the daemon.

The token is compared in constant time and never stored in a session, a log
line or a page. A session id and its CSRF token are 256-bit random values; the
session expires on the server (wall clock, monotonic) whatever the browser
keeps. Logging in replaces the session (a new id), so an id planted before the
login is worth nothing after it. A daemon restart logs everyone out, which is
the safe direction.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

MIN_TOKEN_CHARS: Final = 16
"""A shorter login token is refused at start-up: it could be guessed."""
MAX_SESSIONS: Final = 1024
"""Sessions kept at most; the oldest go first (anonymous ones are one per page visit)."""


@dataclass(slots=True)
class Session:
    """One browser's session: its CSRF token, expiry, whether it logged in, one message."""

    session_id: str
    csrf: str
    expires_s: float
    authenticated: bool = False
    flash: str | None = None

    def take_flash(self) -> str | None:
        """The message left by the last action, shown once."""
        message, self.flash = self.flash, None
        return message


class TokenTooShortError(ValueError):
    """The configured login token is too short to be safe."""


class Sessions:
    """The daemon's sessions; ``token`` None means read-only (no login possible)."""

    def __init__(
        self,
        token: str | None,
        lifetime_s: float,
        now_s: Callable[[], float] = time.monotonic,
    ) -> None:
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise TokenTooShortError(
                f"the dashboard token has {len(token)} characters; use at least "
                f"{MIN_TOKEN_CHARS} (e.g. the output of 'openssl rand -hex 24')"
            )
        self._token = None if token is None else token.encode()
        self._lifetime_s = lifetime_s
        self._now_s = now_s
        self._sessions: dict[str, Session] = {}

    @property
    def read_only(self) -> bool:
        return self._token is None

    def new(self) -> Session:
        """A fresh anonymous session (it may log in with its CSRF token)."""
        now = self._now_s()
        for sid in [sid for sid, s in self._sessions.items() if s.expires_s <= now]:
            del self._sessions[sid]
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        session = Session(
            secrets.token_urlsafe(32), secrets.token_urlsafe(32), now + self._lifetime_s
        )
        self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown or expired)."""
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        if session.expires_s <= self._now_s():
            del self._sessions[session.session_id]
            return None
        return session

    def login(self, session: Session, token: str) -> Session | None:
        """A new authenticated session replacing ``session`` if ``token`` is right, else None."""
        if self._token is None or not hmac.compare_digest(token.encode(), self._token):
            return None
        self.end(session)
        fresh = self.new()
        fresh.authenticated = True
        return fresh

    def end(self, session: Session) -> None:
        """Forget ``session`` (log out)."""
        self._sessions.pop(session.session_id, None)


def csrf_ok(session: Session | None, presented: str | None) -> bool:
    """Whether ``presented`` is ``session``'s CSRF token (constant time)."""
    if session is None or not presented:
        return False
    return hmac.compare_digest(presented.encode(), session.csrf.encode())
