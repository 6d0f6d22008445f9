"""``deltabot pnl`` and ``orders`` on the journal that ``deltabot demo --journal`` leaves."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bot.domain.pnl import Valuations
from bot.journal import Journal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def _deltabot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(EXAMPLE)],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def test_pnl_on_a_demo_journal_attributes_both_underlyings(tmp_path: Path) -> None:
    """After a four-hour demo, pnl --json has a day row per underlying whose components sum
    to its equity change, orders --json shows each order's decision, and the BTC equity
    has no one-cycle spike (a move the next cycle takes back) as large as the book's gamma
    loss at the jump: the venues' reads around it are valued at one index."""
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
    with Journal.open_control(journal) as read:
        btc = read.pnl.points(0, 2**62)["BTC"]
    spike, gamma_loss = _largest_spike_usd(btc), _jump_gamma_loss_usd(btc)
    assert spike < gamma_loss, (
        f"a one-cycle P&L spike of {spike:,.0f} USD at the BTC jump; the cycles around it:\n"
        + _rows_around_spike(btc)
    )


def _spikes_usd(v: Valuations) -> np.ndarray:
    """Per cycle after the first, the one-cycle excursion of the equity that the next cycle
    takes back: the smaller of two consecutive changes of opposite sign (a dip and its
    return), else 0."""
    change = np.diff(v.equity_coin * v.index_usd + v.linear_usd)
    reversed_ = np.sign(change[:-1]) != np.sign(change[1:])
    return np.where(reversed_, np.minimum(abs(change[:-1]), abs(change[1:])), 0.0)


def _largest_spike_usd(v: Valuations) -> float:
    """The largest one-cycle excursion of the equity that the next cycle takes back."""
    return float(np.max(_spikes_usd(v)))


def _rows_around_spike(v: Valuations) -> str:
    """The valuations two cycles either side of the largest spike, for a failure to show what
    moved (the failure is intermittent: its data is in the message or nowhere)."""
    k = int(np.argmax(_spikes_usd(v))) + 1
    return "\n".join(
        f"{i} ts {v.ts_ms[i]} index {v.index_usd[i]:.2f} equity_coin {v.equity_coin[i]:.6f} "
        f"linear {v.linear_usd[i]:.2f} hedge {v.hedge_coin[i]:.4f} book {v.book_delta_coin[i]:.4f}"
        for i in range(max(0, k - 2), min(len(v), k + 3))
    )


def _jump_gamma_loss_usd(v: Valuations) -> float:
    """½·Γ·ΔS² over the largest index move between two cycles (the −8 % jump), Γ per USD from
    the book's gamma per 1 % before it: what the short-gamma book actually loses there."""
    i = int(np.argmax(abs(np.diff(v.index_usd))))
    gamma_per_usd = abs(v.gamma_coin_per_pct[i]) / (0.01 * v.index_usd[i])
    return 0.5 * gamma_per_usd * float(v.index_usd[i + 1] - v.index_usd[i]) ** 2
