"""Backtests of a real book over a chain store: fills, costs, settlement, attribution, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from bot.backtest.chain_data import ChainDataError, ChainLeg, HedgeSource, load_market
from bot.backtest.chain_run import COMPONENTS, ChainCosts, run_chain_backtest
from bot.backtest.spec import StrategySpec
from bot.chain import ChainStore
from bot.chain.schema import column_names
from bot.cli import main
from bot.compute import Done, Failed, Finished, SerialRunner
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-chains"
T0_MS = 1_796_112_000_000
EXPIRY_MS = T0_MS + 2 * MS_PER_HOUR
DEEP_CALL = ChainLeg("deribit", "BTC", "call", 1.0, T0_MS + 30 * MS_PER_DAY, 0.5)
"""Delta 1 per coin: a book 0.5 BTC long that a zero-width band sells 0.5 BTC against."""
EXACT = StrategySpec("band", {"width_up": 0.0, "width_down": 0.0})
PERP = HedgeSource("BTC", "deribit", "BTC-PERPETUAL")


def table(name: str, rows: list[dict[str, object]]) -> pa.Table:
    return pa.table({c: [r.get(c, float("nan")) for r in rows] for c in column_names(name)})


def option_row(
    ts_ms: int, leg: ChainLeg, premium_coin: float, index_usd: float
) -> dict[str, object]:
    return {
        "ts_ms": ts_ms,
        "instrument": "X",
        "expiry_ms": leg.expiry_ms,
        "strike_usd": leg.strike_usd,
        "option_type": leg.option_type,
        "premium_unit": "coin",
        "mark_premium": premium_coin,
        "mark_iv": 0.5,
        "index_usd": index_usd,
        "forward_name": "",
        "forward_usd": index_usd,
    }


def store_with(tmp_path: Path, leg: ChainLeg, index_usd: list[float]) -> ChainStore:
    """One snapshot an hour of ``leg`` (marked at intrinsic) and the perp (bid/ask ±10)."""
    store = ChainStore(tmp_path)
    times = [T0_MS + i * MS_PER_HOUR for i in range(len(index_usd))]
    options = [
        option_row(t, leg, max(1 - leg.strike_usd / s, 0.0), s)
        for t, s in zip(times, index_usd, strict=True)
    ]
    hedges = [
        {
            "ts_ms": t,
            "instrument": PERP.symbol,
            "mark_usd": s,
            "index_usd": s,
            "bid_usd": s - 10.0,
            "ask_usd": s + 10.0,
        }
        for t, s in zip(times, index_usd, strict=True)
    ]
    store.write("options", "deribit", "BTC", table("options", options), tag="t")
    store.write("hedges", "deribit", "BTC", table("hedges", hedges), tag="t")
    return store


class TestFills:
    def test_a_sale_fills_at_the_bid_less_slippage(self, tmp_path: Path) -> None:
        """Selling 0.5 BTC fills at bid·(1 − slippage); slippage and fee as ChainCosts' example."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0, 60_000.0])
        market = load_market(store, [DEEP_CALL], [PERP], mark="mark")
        costs = ChainCosts(fee_frac=0.0005, slippage_frac=0.0001)
        (result,) = run_chain_backtest([DEEP_CALL], market, [EXACT], costs).results
        fill = 59_990.0 * (1 - 0.0001)
        slippage, fees = result.components_usd[-1][
            [COMPONENTS.index("slippage_usd"), COMPONENTS.index("fees_usd")]
        ]
        assert result.hedge_coin[0] == pytest.approx([-0.5])
        assert slippage == pytest.approx(0.5 * (60_000.0 - fill))
        assert fees == pytest.approx(0.5 * fill * 0.0005)

    def test_a_hedged_move_is_delta_flat(self, tmp_path: Path) -> None:
        """Hedged at delta 1, a 1,000 USD move leaves the P&L at minus the costs."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0, 61_000.0])
        market = load_market(store, [DEEP_CALL], [PERP], mark="mark")
        (result,) = run_chain_backtest([DEEP_CALL], market, [EXACT], ChainCosts(0.0)).results
        assert result.pnl_usd[-1] == pytest.approx(-0.5 * 10.0, abs=1e-6)


class TestSettlement:
    def test_expiry_settles_at_the_recorded_delivery_price(self, tmp_path: Path) -> None:
        """An option expiring inside the range settles at the settlements table's price."""
        leg = ChainLeg("deribit", "BTC", "call", 59_000.0, EXPIRY_MS, 1.0)
        store = store_with(tmp_path, leg, [60_000.0, 60_500.0, 61_000.0])
        rows = table("settlements", [{"ts_ms": EXPIRY_MS, "delivery_usd": 60_400.0}])
        store.write("settlements", "deribit", "BTC", rows, tag="t")
        market = load_market(store, [leg], [PERP], mark="mark")
        assert (market.settlement_usd.tolist(), market.settled_from) == ([60_400.0], ("delivery",))

    def test_without_a_delivery_price_the_last_index_settles(self, tmp_path: Path) -> None:
        """No settlement recorded: the last index at or before the expiry, and it says so."""
        leg = ChainLeg("deribit", "BTC", "call", 59_000.0, EXPIRY_MS, 1.0)
        store = store_with(tmp_path, leg, [60_000.0, 60_500.0, 61_000.0])
        market = load_market(store, [leg], [PERP], mark="mark")
        assert (market.settlement_usd.tolist(), market.settled_from) == ([61_000.0], ("index",))


class TestData:
    def test_a_leg_the_store_never_saw_is_named(self, tmp_path: Path) -> None:
        """A book option with no recorded quote is an error naming it and where it was sought."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0, 60_000.0])
        other = ChainLeg("deribit", "BTC", "put", 50_000.0, DEEP_CALL.expiry_ms, 1.0)
        with pytest.raises(ChainDataError, match=r"deribit BTC put 50000 .*venue=deribit"):
            load_market(store, [DEEP_CALL, other], [PERP], mark="mark")

    def test_a_snapshot_without_a_hedge_quote_of_its_moment_is_not_on_the_grid(
        self, tmp_path: Path
    ) -> None:
        """An option read half an hour after the perp's last quote (a whole-chain read beside
        the cycle) is left off the grid: the hedge never trades at a quote that old."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0, 60_000.0])
        late = [option_row(T0_MS + MS_PER_HOUR // 2, DEEP_CALL, 0.5, 65_000.0)]
        store.write("options", "deribit", "BTC", table("options", late), tag="chain")
        market = load_market(store, [DEEP_CALL], [PERP], mark="mark")
        assert market.time_ms.tolist() == [T0_MS, T0_MS + MS_PER_HOUR]

    def test_no_snapshot_with_a_hedge_quote_is_one_clear_error(self, tmp_path: Path) -> None:
        """Options and hedge quotes never within the poll's skew: an error saying so."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0])
        later = [option_row(T0_MS + i * MS_PER_HOUR, DEEP_CALL, 0.5, 60_000.0) for i in (1, 2)]
        store.write("options", "deribit", "BTC", table("options", later), tag="chain")
        with pytest.raises(ChainDataError, match=r"with a quote of each hedge within 5 s"):
            load_market(store, [DEEP_CALL], [PERP], mark="mark")


class TestSample:
    def test_attribution_adds_up_at_every_snapshot(self) -> None:
        """Over the sample store the terms sum to the P&L at every time, for each strategy."""
        from bot.app.chain_backtest import run_recorded
        from bot.config import load_config

        config = load_config(REPO / "config.example.toml", {})
        extra = [StrategySpec("interval", {"interval_s": 3600.0})]
        for result in run_recorded(config, SAMPLE, extra=extra).results:
            sign = np.array(
                [-1.0 if n in ("slippage_usd", "fees_usd") else 1.0 for n in COMPONENTS]
            )
            assert result.components_usd @ sign == pytest.approx(result.pnl_usd, abs=1e-6)

    def test_cli_prints_json_and_draws_the_chart(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A fresh clone's command: the example config over the sample store, JSON and a PNG."""
        png = tmp_path / "chain.png"
        argv = [
            "backtest",
            "--config",
            str(REPO / "config.example.toml"),
            "--history",
            str(SAMPLE),
            "--json",
            "--plot",
            str(png),
        ]
        assert main(argv, {}) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["strategies"][0]["strategy"] == "[strategy] band"
        assert len(report["legs"]) == 5 and png.stat().st_size > 0

    def test_a_missing_store_is_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--history at a directory that does not exist: exit 2 and one line naming it."""
        argv = [
            "backtest",
            "--config",
            str(REPO / "config.example.toml"),
            "--history",
            str(tmp_path / "none"),
        ]
        assert main(argv, {}) == 2
        assert capsys.readouterr().err.count("\n") == 1


class _Reversed:
    """A runner that finishes its items last-first, as a cluster may."""

    workers = 2

    def run(self, fn: Any, items: Sequence[Any], *, shared: Any) -> Iterator[Finished[Any]]:
        for i in reversed(range(len(items))):
            yield Done(i, fn(shared, items[i]))


class _FailingSecond:
    """A runner whose second item fails, as a worker's exception reaches the caller."""

    workers = 1

    def run(self, fn: Any, items: Sequence[Any], *, shared: Any) -> Iterator[Finished[Any]]:
        for i, finished in enumerate(SerialRunner().run(fn, items, shared=shared)):
            yield Failed(i, "RuntimeError", "worker fell over") if i == 1 else finished


class TestOnARunner:
    def test_results_keep_the_strategies_order_whatever_finishes_first(
        self, tmp_path: Path
    ) -> None:
        """Tasks finishing last-first still give each strategy its own in-process figures."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0, 61_000.0, 59_500.0])
        market = load_market(store, [DEEP_CALL], [PERP], mark="mark")
        specs = [EXACT, StrategySpec("interval", {"interval_s": 7200.0})]
        alone = [run_chain_backtest([DEEP_CALL], market, [s], ChainCosts()) for s in specs]
        both = run_chain_backtest([DEEP_CALL], market, specs, ChainCosts(), runner=_Reversed())
        assert [r.spec for r in both.results] == specs
        for one, result in zip(alone, both.results, strict=True):
            np.testing.assert_array_equal(one.results[0].components_usd, result.components_usd)

    def test_a_failed_strategy_is_named(self, tmp_path: Path) -> None:
        """A task that fails raises one ValueError naming its strategy and the error."""
        store = store_with(tmp_path, DEEP_CALL, [60_000.0, 61_000.0])
        market = load_market(store, [DEEP_CALL], [PERP], mark="mark")
        specs = [EXACT, StrategySpec("interval", {"interval_s": 7200.0})]
        with pytest.raises(ValueError, match=r"1 of 2 .*interval\(interval_s=7200.0\): Runt"):
            run_chain_backtest([DEEP_CALL], market, specs, ChainCosts(), runner=_FailingSecond())


class TestSviMarks:
    def test_a_leg_is_marked_off_its_expiry_smile(self, tmp_path: Path) -> None:
        """With --mark svi a leg whose mark IV is 5 points off its smile is valued near it."""
        from bot.pricing.svi import SviParams

        smile = SviParams(a=0.004, b=0.02, rho=-0.3, m=0.0, sigma=0.2)
        tau = 30 / 365
        forward = 60_000.0
        strikes = [float(k) for k in range(39_000, 84_000, 3_000)]  # 15 strikes, 60,000 the 8th
        expiry = T0_MS + 30 * MS_PER_DAY
        legs = [ChainLeg("deribit", "BTC", "call", k, expiry, 1.0) for k in strikes]
        rows = []
        for ts in (T0_MS, T0_MS + MS_PER_HOUR):
            for leg in legs:
                vol = float(np.sqrt(smile.total_variance(np.log(leg.strike_usd / forward)) / tau))
                noisy = vol + (0.05 if leg.strike_usd == 60_000.0 else 0.0)
                rows.append(option_row(ts, leg, 0.01, forward) | {"mark_iv": noisy})
        store = ChainStore(tmp_path)
        store.write("options", "deribit", "BTC", table("options", rows), tag="t")
        perp = [
            {"ts_ms": ts, "instrument": PERP.symbol, "mark_usd": forward, "index_usd": forward}
            for ts in (T0_MS, T0_MS + MS_PER_HOUR)
        ]
        store.write("hedges", "deribit", "BTC", table("hedges", perp), tag="t")
        atm = legs[7]
        marked = load_market(store, [atm], [PERP], mark="mark")
        fitted = load_market(store, [atm], [PERP], mark="svi")
        smile_vol = float(np.sqrt(smile.total_variance(0.0) / tau))
        assert marked.iv[0, 0] == pytest.approx(smile_vol + 0.05)
        # least squares spreads the bad mark over the smile: most of its error is gone
        assert abs(fitted.iv[0, 0] - smile_vol) < 0.3 * abs(marked.iv[0, 0] - smile_vol)


PAPER_CONFIG = """mode = "paper"
[[venues]]
name = "deribit-a"
exchange = "deribit"
role = ["options"]
[[venues]]
name = "binance-a"
exchange = "binanceusdm"
role = ["hedge"]
[[hedges]]
underlying = "BTC"
venue = "binance-a"
symbol = "BTC/USDT:USDT"
[[backtest.book]]
venue = "deribit-a"
underlying = "BTC"
kind = "option"
settlement = "inverse"
option_type = "put"
strike_usd = 55000.0
expiry = 2026-12-25T08:00:00Z
size = 3.0
[[backtest.balances]]
venue = "deribit-a"
currency = "BTC"
amount = 1.0
"""


def test_a_config_without_sim_replays_its_backtest_book(tmp_path: Path) -> None:
    """A paper config's [[backtest.book]] is the book replayed (no [sim] needed), and its
    [[backtest.balances]] coin counts as delta."""
    from bot.app.chain_backtest import run_recorded
    from bot.config import load_config

    (tmp_path / "with.toml").write_text(PAPER_CONFIG)
    (tmp_path / "without.toml").write_text(PAPER_CONFIG.partition("[[backtest.balances]]")[0])
    with_coin = run_recorded(load_config(tmp_path / "with.toml", {}), SAMPLE)
    without = run_recorded(load_config(tmp_path / "without.toml", {}), SAMPLE)
    assert [leg.label for leg in with_coin.legs] == ["deribit-a BTC put 55000"]
    first = with_coin.results[0].total_delta_coin[0, 0] - without.results[0].total_delta_coin[0, 0]
    assert first == pytest.approx(1.0)
