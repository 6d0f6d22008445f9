"""`deltabot demo` runs the real daemon on the embedded emulators and reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def test_short_demo_exits_0_with_report_chart_and_json(tmp_path: Path) -> None:
    """Four simulated hours (through the BTC jump) end in exit 0, a PNG chart, a JSON report
    with cycles for both underlyings, hedges filled on binance-a's USDT perps with fees in
    USDT, only the events inside the run and every order journaled, and progress, the
    stream's reactions and the chart's path on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTABOT_")}
    chart = tmp_path / "demo.png"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--config", str(EXAMPLE), "--hours", "4",
         "--plot", str(chart), "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(run.stdout)
    assert set(report["underlyings"]) == {"BTC", "ETH"}
    assert report["cycles"] >= 5
    assert report["simulated_span_h"] >= 4
    assert "BTC jump -8%" in " ".join(report["events"])
    hedged = [h for h in report["hedges"]["by_instrument"] if h["filled_gross_coin"] > 0]
    assert {h["venue"] for h in hedged} == {"binance-a"}, "the hedges trade on Binance"
    assert all(h["symbol"].endswith("/USDT:USDT") and set(h["fees"]) == {"USDT"} for h in hedged)
    assert not [e for e in report["events"] if "ETH" in e], "the ETH events come after 4 h"
    progress = [line for line in run.stderr.splitlines() if "h simulated" in line]
    assert "/4.0 h simulated" in progress[-1]  # progress, never on stdout
    assert f"chart: {chart}" in run.stderr  # beside --json, where the chart went
    assert "streaming: " in run.stderr  # the Deribit venues stream: reaction per hedge shown
    assert not list(tmp_path.glob("*.sqlite*")), "the demo journal goes to a temporary directory"
