"""Save docs/img/dashboard.png: the demo daemon's dashboard, logged in, in headless Chromium.

Usage: ``.venv/bin/python tools/dashboard_screenshot.py [OUT.png]``. It starts the
demo daemon in-process (the browser tests' harness), logs in, waits until the
chart and the stress grid are drawn and a minute of simulated trading has
passed, and saves the whole page. Needs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.e2e.dashboard_harness import browser_missing, chromium, demo_daemon, log_in  # noqa: E402

WIDTH = 1680
SETTLE_S = 8.0
"""Wall seconds of demo trading before the picture: the chart needs a few cycles."""


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "docs" / "img" / "dashboard.png"
    missing = browser_missing()
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_daemon(Path(tmp)) as daemon,
        chromium(Path(tmp), width=WIDTH, height=1200) as driver,
    ):
        log_in(driver, daemon.base_url)
        wait = WebDriverWait(driver, 60, poll_frequency=0.2)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#charts canvas"))
        wait.until(lambda d: d.find_elements(By.ID, "stress-grid"))
        time.sleep(SETTLE_S)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(WIDTH, int(height) + 40)
        time.sleep(1.0)
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
