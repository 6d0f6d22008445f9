"""``deltabot pnl`` and ``orders`` on the journal that ``deltabot demo --journal`` leaves."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def _deltabot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(EXAMPLE)],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def test_pnl_on_a_demo_journal_attributes_both_underlyings(tmp_path: Path) -> None:
    """After a four-hour demo, pnl --json has a day row per underlying whose components sum
    to its equity change, and orders --json shows each order's decision."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTABOT_")}
    journal = tmp_path / "demo.sqlite"
    demo = _deltabot(["demo", "--hours", "4", "--journal", str(journal)], env, tmp_path)
    assert demo.returncode == 0, demo.stderr[-2000:]
    env["DELTABOT_DAEMON__JOURNAL_PATH"] = str(journal)
    pnl = _deltabot(["pnl", "--json"], env, tmp_path)
    assert pnl.returncode == 0, pnl.stderr
    days = json.loads(pnl.stdout)["days"]
    assert {d["underlying"] for d in days} == {"BTC", "ETH"}
    for day in days:
        parts = [v for k, v in day.items() if k.endswith("_usd") and k != "equity_change_usd"]
        assert math.isclose(math.fsum(parts), day["equity_change_usd"], abs_tol=1e-6)
    orders = _deltabot(["orders", "--json"], env, tmp_path)
    assert orders.returncode == 0, orders.stderr
    rows = json.loads(orders.stdout)
    assert rows and all(o["decision"]["greeks"]["index_usd"] > 0 for o in rows)
