"""``deltabot backtest --book config.toml``: the daemon's own config is a book, with its market."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app.chain_backtest import ChainBookError, config_mc_book, config_vega_limit
from bot.cli import main
from bot.config import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
RUN = [
    "--strategy",
    "band",
    "--param",
    "width_up=0.1",
    "--param",
    "width_down=0.1",
    "--paths",
    "200",
    "--steps",
    "20",
    "--json",
]


def test_the_example_config_is_a_book_of_btc_options() -> None:
    """The example's BTC options, expiries from sim.start, spot 60k, vol 0.6, fee 5 bp."""
    found = config_mc_book(load_config(EXAMPLE, {}))
    assert found.underlying == "BTC"
    assert [leg.quantity_coin for leg in found.book.legs] == [-5.0, 3.0, -2.0]
    assert {leg.settlement for leg in found.book.legs} == {"coin"}
    assert (found.spot_usd, found.vol, found.fee_frac) == (60_000.0, 0.6, 0.0005)
    assert found.book.legs[0].expiry_years == pytest.approx(24 / 365)


def test_cli_runs_it_with_the_configs_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    """No unknown-key error any more: the run uses the config's fee unless --fee is given."""
    assert main(["backtest", "--book", str(EXAMPLE), *RUN], {}) == 0
    assert json.loads(capsys.readouterr().out)["costs"]["fee_frac"] == 0.0005
    assert main(["backtest", "--book", str(EXAMPLE), "--fee", "0", *RUN], {}) == 0
    assert json.loads(capsys.readouterr().out)["costs"]["fee_frac"] == 0.0


def test_eth_is_chosen_by_underlying() -> None:
    """--underlying ETH takes the ETH options and ETH's market."""
    found = config_mc_book(load_config(EXAMPLE, {}), "ETH")
    assert (len(found.book.legs), found.spot_usd) == (2, 3_000.0)


def test_the_option_hedge_limits_are_the_configs_vega_limit_on_bucket_all() -> None:
    """The example's BTC limit on bucket all gives (hard, soft); ETH has none, said so."""
    config = load_config(EXAMPLE, {})
    assert config_vega_limit(config, "BTC") == (40_000.0, 20_000.0)
    with pytest.raises(ChainBookError, match="hard_vega_usd_per_volpt for ETH: found none"):
        config_vega_limit(config, "ETH")
