"""The option-hedge loop over a recorded chain: lots, fills at the recorded quotes, costs, the
call it trades, and the run without it beside the run with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.app.chain_backtest import config_option_hedge, run_recorded
from bot.backtest.chain_data import ChainDataError, pick_hedge_call
from bot.backtest.chain_option_hedge import ChainOptionHedge, VegaLimit, hedge_trades
from bot.backtest.chain_run import COMPONENTS
from bot.chain import ChainStore
from bot.cli import main
from bot.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-chains"
EXAMPLE = REPO / "config.example.toml"
LIMIT = VegaLimit("BTC", hard_vega_usd_per_volpt=100.0, soft_vega_usd_per_volpt=96.0)
SIGN = np.array([-1.0 if n in ("slippage_usd", "fees_usd") else 1.0 for n in COMPONENTS])


def _trades(ask_usd: float, book_vega_per_coin: float = 12.0) -> tuple[np.ndarray, ...]:
    """The module docstring's example: -10 coin of 12 USD/volpt standardised vega against a
    call of the same, marked 2,400, bid 2,340, ask ``ask_usd``, index 60,000."""
    one = np.ones((1, 2))
    out = hedge_trades(
        np.array([-10.0, 0.0]), np.array([0, 0]), {1: LIMIT},
        std_vega_per_coin=one * [book_vega_per_coin, 12.0], premium_usd=one * 2_400.0,
        bid_usd=one * 2_340.0, ask_usd=one * ask_usd, spot_usd=np.full((1, 1), 60_000.0),
        lot_coin=0.1, fee_frac=0.0003,
    )  # fmt: skip
    return out.size_coin, out.slippage_usd, out.fees_usd


class TestHedgeTrades:
    def test_past_the_hard_limit_whole_lots_bring_it_to_the_soft_one(self) -> None:
        """-120 USD/volpt past 100: 2 BTC of the call bring it to -96; slippage 2 × 60 = 120
        USD and fees 2 × 60,000 × 0.0003 = 36 USD, as the docstring says."""
        size, slippage, fees = _trades(ask_usd=2_460.0)
        assert size[0, 1] == pytest.approx(2.0) and size[0, 0] == -10.0
        assert slippage[0, 0] == pytest.approx(120.0) and fees[0, 0] == pytest.approx(36.0)

    def test_no_ask_no_purchase(self) -> None:
        """Where the ask was not quoted the call cannot be bought: nothing trades or costs."""
        size, slippage, fees = _trades(ask_usd=float("nan"))
        assert size[0, 1] == 0.0 and slippage.sum() == 0.0 and fees.sum() == 0.0

    def test_inside_the_hard_limit_nothing_trades(self) -> None:
        """-99 USD/volpt is inside the 100 limit: no option hedge."""
        size, _, _ = _trades(ask_usd=2_460.0, book_vega_per_coin=9.9)
        assert size[0, 1] == 0.0


def _config(tmp_path: Path, hard: float = 100.0, soft: float = 50.0) -> Config:
    """The example config with its BTC vega limit (bucket all) at ``hard``/``soft``."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("soft_vega_usd_per_volpt = 20000.0", f"soft_vega_usd_per_volpt = {soft}")
    text = text.replace("hard_vega_usd_per_volpt = 40000.0", f"hard_vega_usd_per_volpt = {hard}")
    (tmp_path / "c.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "c.toml", {})


class TestSample:
    def test_the_call_is_quoted_and_outlives_the_range(self) -> None:
        """The sample's hedge call expires after its last snapshot; a tenor no expiry reaches
        is an error saying so."""
        call = pick_hedge_call(ChainStore(SAMPLE), "deribit-a", "BTC", min_tenor_days=0.0)
        last_ms = run_recorded(load_config(EXAMPLE, {}), SAMPLE).market.time_ms[-1]
        assert call.option_type == "call" and call.size_coin == 0.0
        assert call.expiry_ms > last_ms
        with pytest.raises(ChainDataError, match="none to hedge vega with"):
            pick_hedge_call(ChainStore(SAMPLE), "deribit-a", "BTC", min_tenor_days=3650.0)

    def test_both_runs_add_up_and_the_plain_one_is_the_run_without_the_loop(
        self, tmp_path: Path
    ) -> None:
        """With the loop, every strategy's terms sum to its P&L at every snapshot; the run
        beside it is exactly the run without the switch; the loop bought the call."""
        config = _config(tmp_path)
        hedge = config_option_hedge(config, limits=None, lot_coin=0.1, min_tenor_days=0.0)
        run = run_recorded(config, SAMPLE, option_hedge=hedge)
        plain = run_recorded(config, SAMPLE)
        oh = run.option_hedge
        assert oh is not None and oh.trades >= 1 and oh.size_coin[-1, 0] > 0
        for result in (*run.results, *oh.without):
            assert result.components_usd @ SIGN == pytest.approx(result.pnl_usd, abs=1e-6)
        (without,) = oh.without
        np.testing.assert_allclose(without.pnl_usd, plain.results[0].pnl_usd, rtol=0, atol=1e-9)
        assert run.results[0].pnl_usd[-1] != without.pnl_usd[-1]

    def test_limits_from_the_flags_cover_every_underlying(self, tmp_path: Path) -> None:
        """--hard-vega/--soft-vega apply to each underlying of the book; without them an
        underlying with no [greek_limits] limit is not hedged."""
        config = _config(tmp_path)
        both = config_option_hedge(config, limits=(10.0, 5.0), lot_coin=0.1, min_tenor_days=0.0)
        assert [lim.underlying for lim in both.limits] == ["BTC", "ETH"]
        own = config_option_hedge(config, limits=None, lot_coin=0.1, min_tenor_days=0.0)
        assert own.limits == (VegaLimit("BTC", 100.0, 50.0),)
        assert own.fee_frac == config.options_hedge.fee_frac

    def test_cli_json_has_the_loop_and_the_run_without_it(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`backtest --history --option-hedge --json`: the loop's trades and costs, its call
        marked among the legs, and the strategies without it."""
        _config(tmp_path)
        args = ["backtest", "--config", str(tmp_path / "c.toml"), "--history", str(SAMPLE)]
        assert main([*args, "--option-hedge", "--json"], {}) == 0
        report = json.loads(capsys.readouterr().out)
        oh = report["option_hedge"]
        assert oh["trades"] >= 1 and oh["slippage_usd"] > 0 and oh["fees_usd"] > 0
        assert [leg["option_hedge"] for leg in report["legs"]].count(True) == 1
        assert len(oh["without"]["strategies"]) == len(report["strategies"])

    def test_the_same_report_serially_and_on_a_local_cluster(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With the loop, each strategy runs on the book with and without the call as tasks:
        the JSON is the same serially and on a 2-worker local cluster."""
        _config(tmp_path)
        args = ["backtest", "--config", str(tmp_path / "c.toml"), "--history", str(SAMPLE),
                "--option-hedge", "--strategy", "interval", "--param", "interval_s=3600",
                "--json", "--scheduler"]  # fmt: skip
        assert main([*args, "serial"], {}) == 0
        serial = capsys.readouterr().out
        assert main([*args, "local", "--workers", "2"], {}) == 0
        assert capsys.readouterr().out == serial

    @pytest.mark.parametrize(
        ("flags", "message"),
        [
            (["--hedge-cost", "0.01"], "--hedge-cost is for Monte Carlo runs"),
            (["--soft-vega", "5"], "--soft-vega needs --hard-vega with --history"),
            (["--hedge-tenor", "3650"], "none to hedge vega with"),
        ],
    )
    def test_cli_bad_flags_are_one_error_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
    ) -> None:
        """Each exits 2 with one line naming the problem."""
        _config(tmp_path)
        args = ["backtest", "--config", str(tmp_path / "c.toml"), "--history", str(SAMPLE)]
        assert main([*args, "--option-hedge", *flags], {}) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert message in line


def test_settings_out_of_range_are_refused() -> None:
    """A lot of 0 or no limit at all is an error naming it."""
    with pytest.raises(ValueError, match="lot_coin must be > 0"):
        ChainOptionHedge((LIMIT,), lot_coin=0.0)
    with pytest.raises(ValueError, match="needs a vega limit"):
        ChainOptionHedge(())
