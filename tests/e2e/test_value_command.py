"""`deltabot value` values the example book through the real exposure path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.app.sim_book import book_table
from bot.config import load_config
from bot.pricing.coin import coin_settled

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def _value_json(extra_env: dict[str, str]) -> dict[str, dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTABOT_")}
    env.update(extra_env)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "value", "--json", "--config", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)["underlyings"]


def _expected_option_delta(underlying: str) -> float:
    """Σ size × premium-adjusted delta of the example's coin options, one by one."""
    config = load_config(EXAMPLE, {})
    assert config.sim is not None
    start_s = config.sim.start.timestamp()
    spec = {u.name: u for u in config.sim.underlyings}
    total = 0.0
    for pos in config.sim.book:
        if pos.underlying != underlying or pos.expiry is None or pos.strike_usd is None:
            continue
        tau = (pos.expiry.timestamp() - start_s) / (365 * 86400)
        u = spec[underlying]
        forward = u.spot_usd * np.exp(u.rate * tau)
        net = coin_settled(pos.option_type == "call", forward, pos.strike_usd, tau, u.vol, u.rate)
        total += pos.size * float(net.net_delta)
    return total


def _option_value_coin(underlying: str) -> float:
    """Σ size × coin premium of the example's options on ``underlying``: part of the equity."""
    config = load_config(EXAMPLE, {})
    assert config.sim is not None
    table = book_table(config.sim)
    mine = (table.kind == 0) & (np.array(table.underlyings)[table.underlying_idx] == underlying)
    return float(np.sum(table.size[mine] * table.mark_price[mine]))


def test_value_reports_premium_adjusted_option_delta_and_collateral() -> None:
    """Options sum their net deltas; the usd numeraire adds the coin equity (cash plus option
    marks, as a venue reports it); the linear perps count their coin size."""
    found = _value_json({})
    btc = found["BTC"]
    assert btc["options_delta_coin"] == pytest.approx(_expected_option_delta("BTC"), abs=1e-9)
    assert btc["hedges_delta_coin"] == pytest.approx(-7.0, abs=1e-12)
    assert found["ETH"]["hedges_delta_coin"] == pytest.approx(-132.0, abs=1e-12)
    # 10 BTC cash on deribit-a plus the options' value in coin (binance-a's USDT is no delta)
    assert btc["collateral_delta_coin"] == pytest.approx(10.0 + _option_value_coin("BTC"))
    assert _option_value_coin("BTC") < 0  # the book is net short option value
    assert btc["delta_coin"] == pytest.approx(
        btc["options_delta_coin"] + btc["hedges_delta_coin"] + btc["collateral_delta_coin"]
    )
    assert found["ETH"]["collateral_delta_coin"] == pytest.approx(150.0 + _option_value_coin("ETH"))


def test_value_in_coin_numeraire_leaves_collateral_out() -> None:
    """DELTABOT_NUMERAIRE=coin drops exactly the collateral from the delta."""
    usd = _value_json({})
    coin = _value_json({"DELTABOT_NUMERAIRE": "coin"})
    for name in ("BTC", "ETH"):
        assert coin[name]["collateral_delta_coin"] == 0.0
        assert coin[name]["delta_coin"] == pytest.approx(
            usd[name]["delta_coin"] - usd[name]["collateral_delta_coin"], abs=1e-9
        )


def test_book_table_marks_inverse_options_in_coin() -> None:
    """The demo book marks coin-settled options in coin and the linear perp in coin amounts."""
    config = load_config(EXAMPLE, {})
    assert config.sim is not None
    table = book_table(config.sim)
    perp = table.symbols.index("BTC-PERPETUAL")
    assert not table.amount_is_usd[perp] and table.mark_price[perp] == 60_000.0
    call = table.symbols.index("BTC-25DEC26-65000-C")
    assert 0.0 < table.mark_price[call] < 1.0  # a premium in BTC, not USD


def test_value_with_a_broken_config_exits_2_without_traceback(tmp_path: Path) -> None:
    """A bad config makes value print the problem and exit 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace('numeraire = "usd"', 'numeraire = "eur"'))
    out = subprocess.run(
        [sys.executable, "-m", "bot", "value", "--config", str(bad)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2
    assert "numeraire" in out.stderr and "Traceback" not in out.stderr
