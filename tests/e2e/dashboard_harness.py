"""The demo daemon in a thread and a headless Chromium, for the dashboard's browser tests and
``tools/dashboard_screenshot.py``.

The daemon is the real one (``run_daemon``) on the example config in mode sim,
sped up like the demo (:func:`bot.app.demo_config.demo_config`) but with the
collateral job left in mode ``plan`` so plans wait for an approval. Chromium
is Debian's, driven through ``/usr/bin/chromedriver`` named explicitly, with
selenium-manager kept offline: nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app.daemon import Daemon, DaemonHooks, run_daemon
from bot.app.demo_config import demo_config
from bot.config import load_config

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "e2e-dashboard-token-0123456789"
SPEED = 300.0
"""Simulated seconds per wall second: a hedge cycle every wall second."""
START_S = 60.0
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return (
            f"no {' or '.join(missing)}: install Debian's chromium and chromium-driver "
            "(CI does) to run the dashboard's browser tests"
        )
    return None


@dataclass
class RunningDaemon:
    """The daemon's dashboard URL and its journal (read through read-only connections)."""

    base_url: str
    journal_path: Path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the journal (no lock the daemon needs is taken)."""
        with sqlite3.connect(f"file:{self.journal_path}?mode=ro", uri=True) as conn:
            return conn.execute(sql, params).fetchall()

    def trading_state(self) -> tuple[str, str, str]:
        """The journal's last trading state: (mode, reason, set_by)."""
        rows = self.query("SELECT mode, reason, set_by FROM trading_states ORDER BY seq DESC")
        return rows[0] if rows else ("active", "new journal", "automatic")


@contextmanager
def demo_daemon(tmp: Path, *, token: str | None = TOKEN) -> Iterator[RunningDaemon]:
    """The demo daemon running in a thread until the block exits (read-only without token)."""
    journal = tmp / "journal.sqlite"
    base = load_config(REPO / "config.example.toml", {})
    config = demo_config(base, speed=SPEED, journal_path=journal)
    config = config.model_copy(update={"collateral": base.collateral})
    environ = {} if token is None else {config.dashboard.login_env_var: token}
    ready = threading.Event()
    found: dict[str, Any] = {}

    def on_ready(daemon: Daemon) -> None:
        assert daemon.status_server is not None
        found["url"] = daemon.status_server.base_url
        ready.set()

    async def main() -> None:
        stop = asyncio.Event()
        found["stop"] = (asyncio.get_running_loop(), stop)
        await run_daemon(config, environ, stop, DaemonHooks(on_ready=on_ready))

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            found["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="demo-daemon", daemon=True)
    thread.start()
    try:
        if not ready.wait(START_S) or "error" in found:
            raise AssertionError(f"the demo daemon did not start: {found.get('error')!r}")
        yield RunningDaemon(found["url"], journal)
    finally:
        if "stop" in found:
            loop, stop = found["stop"]
            loop.call_soon_threadsafe(stop.set)
        thread.join(START_S)


@contextmanager
def chromium(tmp: Path, *, width: int = 1600, height: int = 1400) -> Iterator[Any]:
    """A headless Chromium driven by selenium, with a fresh profile; quit at exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never download anything
    profile = tmp / "chromium-profile"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def log_in(driver: Any, base_url: str, token: str = TOKEN) -> None:
    """Log in through the login form."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
