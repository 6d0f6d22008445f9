"""The dashboard in a real browser (headless Chromium) against the demo daemon on loopback.

Skipped, with the reason, only where Debian's chromium or chromium-driver is
missing; CI installs both. Waits have deadlines (a safety net, not a speed
assertion).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.ids import Currency, VenueId
from bot.domain.orders import TransferId, TransferKind, TransferRequest
from bot.domain.transfer_risk import TransferIntent
from bot.journal import Journal
from tests.e2e.dashboard_harness import (
    RunningDaemon,
    browser_missing,
    chromium,
    demo_daemon,
    log_in,
)

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")

WAIT_S = 30.0


def _wait(driver: Any, what: str, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(condition, what)


def _by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return _wait(driver, f"#{element_id}", lambda d: d.find_element(By.ID, element_id))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    with demo_daemon(tmp_path_factory.mktemp("dashboard")) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium")) as browser:
        yield browser


def _click_and_reload(driver: Any, element_id: str) -> str:
    """Click the button, wait for the page it loads (not the old one's flash); the new flash.

    A button in a live panel may be swapped by htmx between finding and clicking it:
    then it is found again.
    """
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.expected_conditions import staleness_of

    for _ in range(3):
        button = _by_id(driver, element_id)
        try:
            button.click()
            break
        except StaleElementReferenceException:
            continue
    _wait(driver, f"the page after {element_id}", staleness_of(button))
    return str(_by_id(driver, "flash").text)


def _act(driver: Any, button: str, reason: str | None = None) -> None:
    if reason is not None:
        field = _by_id(driver, f"{button}-reason")
        field.clear()
        field.send_keys(reason)
    _click_and_reload(driver, button)


def test_the_page_renders_live_figures_and_the_chart(running: RunningDaemon, driver: Any) -> None:
    """The Greeks table shows BTC with a figure, the chart draws, and the CSP blocks nothing."""
    from selenium.webdriver.common.by import By

    driver.get(running.base_url)
    _wait(
        driver,
        "a planned cycle's BTC total delta",
        lambda d: d.find_elements(By.CSS_SELECTOR, '#greeks-table td[data-underlying="BTC"]'),
    )
    _wait(driver, "the uPlot chart", lambda d: d.find_elements(By.CSS_SELECTOR, "#charts canvas"))
    assert any(ch.isdigit() for ch in driver.find_element(By.ID, "greeks-table").text)
    for panel in ("state", "margin", "stress", "plans", "positions"):
        assert driver.find_element(By.ID, f"panel-{panel}").is_displayed()
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_the_pnl_panel_attributes_the_running_book(running: RunningDaemon, driver: Any) -> None:
    """Once two cycles are journaled, the P&L panel shows a BTC row of the attribution in USD."""
    from selenium.webdriver.common.by import By

    driver.get(running.base_url)
    rows = _wait(
        driver,
        "an attributed BTC day",
        lambda d: [
            r for r in d.find_elements(By.CSS_SELECTOR, "#pnl-table tbody tr") if "BTC" in r.text
        ],
    )
    heads = driver.find_element(By.CSS_SELECTOR, "#pnl-table thead").text
    assert "delta" in heads and "unexplained" in heads and "equity change" in heads
    assert any(ch.isdigit() for ch in rows[0].text)


def test_the_alerts_panel_lists_the_daemons_start(running: RunningDaemon, driver: Any) -> None:
    """The daemon's own start is an alert: the alerts panel lists it with its ISO time."""
    from selenium.webdriver.common.by import By

    driver.get(running.base_url)
    [row] = _wait(
        driver,
        "the daemon_started alert",
        lambda d: [
            r
            for r in d.find_elements(By.CSS_SELECTOR, "#alerts-table tbody tr")
            if "daemon_started" in r.text
        ],
    )
    assert "daemon started: mode sim" in row.text and "Z" in row.text


def test_a_wrong_token_is_refused(running: RunningDaemon, driver: Any) -> None:
    """The login form says 'wrong token' and the controls stay hidden."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    log_in(driver, running.base_url, token="not-the-token-at-all")
    assert "wrong token" in _by_id(driver, "login-problem").text
    driver.get(running.base_url)
    assert driver.find_elements(By.ID, "halt") == []


def test_the_halt_button_halts(running: RunningDaemon, driver: Any) -> None:
    """After login, Halt with a reason sets the journal's state HALTED by the dashboard user."""
    driver.delete_all_cookies()
    log_in(driver, running.base_url)
    _act(driver, "halt", "browser drill")
    assert running.trading_state() == ("halted", "dashboard@127.0.0.1: browser drill", "operator")
    _wait(driver, "the HALTED badge", lambda d: _by_id(d, "trading-mode").text == "HALTED")


def test_reduce_and_resume(running: RunningDaemon, driver: Any) -> None:
    """Reduce only, then Resume, each journaled as the operator's state."""
    log_in(driver, running.base_url)
    _act(driver, "reduce", "margin check")
    assert running.trading_state()[0] == "reducing"
    _act(driver, "resume", "")
    assert running.trading_state()[:2] == ("active", "dashboard@127.0.0.1: resume")


def test_approve_a_collateral_plan(running: RunningDaemon, driver: Any) -> None:
    """A proposed plan's Approve button approves it, and the action is journaled."""
    request = TransferRequest(
        TransferId("e2e-t1"), VenueId("deribit-a"), TransferKind.SUBACCOUNT, Currency("BTC"),
        0.01, "deribit-b", None,
    )  # fmt: skip
    with Journal.open_control(running.journal_path) as journal:
        journal.plans.propose("e2e-plan", 1, [TransferIntent(request, 600.0)], "e2e top-up")
    log_in(driver, running.base_url)
    assert "approved e2e-plan" in _click_and_reload(driver, "approve-e2e-plan")
    [(state,)] = running.query("SELECT status FROM collateral_plans WHERE plan_id = 'e2e-plan'")
    assert state in {"approved", "executed"}  # the daemon may already have sent it
    [(actor, outcome)] = running.query(
        "SELECT actor, outcome FROM operator_actions WHERE action = 'approve'"
    )
    assert actor == "dashboard@127.0.0.1" and outcome.startswith("ok: approved e2e-plan")


def test_run_a_cycle_now(running: RunningDaemon, driver: Any) -> None:
    """Run a hedge cycle now answers ok (it ran) or refused (the lock was busy), journaled."""
    log_in(driver, running.base_url)
    _act(driver, "cycle")
    [(outcome,)] = running.query(
        "SELECT outcome FROM operator_actions WHERE action = 'cycle' ORDER BY seq DESC LIMIT 1"
    )
    assert outcome == "ok: ran a hedge cycle" or outcome.startswith("refused: another job")


def test_a_post_without_csrf_is_refused(running: RunningDaemon) -> None:
    """A plain POST to an action without session or CSRF token is 403, naming the CSRF token."""
    request = urllib.request.Request(
        f"{running.base_url}/actions/halt", data=b"reason=forged", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403 and b"CSRF" in refused.value.read()
    assert running.trading_state()[1] != "forged"


def test_without_a_token_the_dashboard_is_read_only(tmp_path: Path, driver: Any) -> None:
    """A daemon without a token serves the pages read-only: no controls, a read-only badge."""
    from selenium.webdriver.common.by import By

    with demo_daemon(tmp_path, token=None) as daemon:
        driver.delete_all_cookies()
        driver.get(daemon.base_url)
        assert "read-only" in _by_id(driver, "read-only").text
        assert driver.find_elements(By.ID, "halt") == []
        assert driver.find_elements(By.CSS_SELECTOR, "form") == []
