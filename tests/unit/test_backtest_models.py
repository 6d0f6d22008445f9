"""Books, price models, recorded prices and report statistics of the backtester."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bot.backtest import (
    GBM,
    Book,
    BookError,
    Heston,
    Historical,
    HistoryError,
    Merton,
    OptionLeg,
    StrategySpec,
    load_book_toml,
    parse_leg,
    read_price_csv,
    run_backtest,
)
from bot.backtest.book import book_greeks
from bot.backtest.report import cvar, summarize, to_json_dict
from bot.pricing.coin import coin_settled


def test_parse_leg_reads_kind_strike_expiry_quantity_settlement() -> None:
    """`put:60000:0.25:2:coin` is a long coin-settled put; linear is the default."""
    assert parse_leg("put:60000:0.25:2:coin") == OptionLeg(False, 60_000.0, 0.25, 2.0, "coin")
    assert parse_leg("call:100:0.0833:-1") == OptionLeg(True, 100.0, 0.0833, -1.0, "linear")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("call:100:0.1", "expected KIND"),
        ("cal:100:0.1:1", "kind"),
        ("call:abc:0.1:1", "strike 'abc'"),
        ("call:100:-1:1", "expiry"),
        ("call:100:0.1:0", "quantity"),
        ("call:100:0.1:1:usd", "settlement"),
    ],
)
def test_parse_leg_errors_name_the_problem(text: str, message: str) -> None:
    """Each malformed leg is a BookError quoting the leg and naming the bad part."""
    with pytest.raises(BookError, match=message):
        parse_leg(text)


def test_book_toml_round_trip_and_unknown_keys(tmp_path: Path) -> None:
    """A [[options]] file builds the book; an unknown key is rejected by name."""
    good = tmp_path / "book.toml"
    good.write_text(
        'initial_hedge_coin = 0.5\n[[options]]\nkind = "put"\nstrike_usd = 90\n'
        'expiry_years = 0.2\nquantity_coin = -3\nsettlement = "coin"\n'
    )
    assert load_book_toml(good) == Book((OptionLeg(False, 90.0, 0.2, -3.0, "coin"),), 0.5)
    bad = tmp_path / "bad.toml"
    bad.write_text("colour = 1\n")
    with pytest.raises(BookError, match="colour"):
        load_book_toml(bad)


def test_book_greeks_coin_value_matches_coin_settled_pricing() -> None:
    """USD value / spot of a coin-settled leg equals coin_settled's premium at F = S·e^(rτ)."""
    spot = np.array([50_000.0, 60_000.0, 70_000.0])
    g = book_greeks([OptionLeg(True, 60_000.0, 0.1, 1.0, "coin")], spot, 0.0, 0.6, 0.03)
    coin = coin_settled(True, spot * math.exp(0.03 * 0.1), 60_000.0, 0.1, 0.6, 0.0)
    np.testing.assert_allclose(g.value_usd / spot, coin.price_coin, rtol=1e-12)


@pytest.mark.parametrize(
    "model",
    [
        GBM(100.0, 0.3, 0.05),
        Merton(100.0, 0.2, 2.0, -0.1, 0.15, 0.05),
        Heston(100.0, 0.04, 2.0, 0.09, 0.5, -0.7, 0.05),
    ],
)
def test_models_grow_spot_at_the_drift(model: GBM | Merton | Heston) -> None:
    """E[S_T] = S₀·e^(μT) within 4 Monte Carlo standard errors (jumps are compensated)."""
    rng = np.random.default_rng(1)
    spot_t = model.simulate(rng, 0, 20_000, 50, 1.0 / 50).spot_usd[:, -1]
    se = np.std(spot_t) / math.sqrt(spot_t.size)
    assert abs(np.mean(spot_t) - 100.0 * math.exp(0.05)) < 4.0 * se


def test_gbm_log_returns_have_the_model_vol() -> None:
    """std of ln(S_T/S₀) is σ√T within MC error (1/√(2n) relative)."""
    paths = GBM(100.0, 0.3).simulate(np.random.default_rng(2), 0, 20_000, 10, 0.1).spot_usd
    assert abs(np.std(np.log(paths[:, -1] / 100.0)) / 0.3 - 1.0) < 4.0 / math.sqrt(40_000)


def test_heston_variance_mean_reverts_and_merton_total_vol() -> None:
    """Heston's realised variance over a year ≈ ∫E[v] dt; Merton's natural vol adds jump var."""
    model = Heston(100.0, 0.04, 2.0, 0.09, 0.3, -0.5)
    paths = model.simulate(np.random.default_rng(3), 0, 10_000, 250, 1.0 / 250).spot_usd
    realised = np.mean(np.sum(np.diff(np.log(paths), axis=1) ** 2, axis=1))
    expected = 0.09 - (0.09 - 0.04) * (1 - math.exp(-2.0)) / 2.0  # ∫₀¹ E[v_t] dt
    assert abs(realised / expected - 1.0) < 0.02
    merton = Merton(100.0, 0.2, 1.0, -0.1, 0.1, 0.0)
    assert merton.natural_vol == pytest.approx(math.sqrt(0.04 + 0.02))


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return path


def test_historical_windows_follow_the_docstring_example(tmp_path: Path) -> None:
    """Rows 50, 55, 60 an hour apart, one 1-hour step from 100: windows [100,110], [100,109.09]."""
    series = read_price_csv(_csv(tmp_path, "timestamp,price\n0,50\n3600,55\n7200,60\n"))
    model = Historical(series, 100.0)
    dt = 3600.0 / (365 * 86_400)
    assert model.available_paths(1, dt) == 2
    chunk = model.simulate(np.random.default_rng(0), 0, 2, 1, dt)
    np.testing.assert_allclose(chunk.spot_usd, [[100.0, 110.0], [100.0, 100.0 * 60 / 55]])
    assert chunk.implied_vol is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,price\n0,1\n", "line 1: header"),
        ("timestamp,price\n0,1\n60,abc\n", "line 3, column price: 'abc' is not a number"),
        ("timestamp,price\n0,1\nnoon,2\n", "line 3, column timestamp"),
        ("timestamp,price\n60,1\n0,2\n", "line 3, column timestamp: '0' does not increase"),
        ("timestamp,price,iv\n0,1,0.5\n60,2,-1\n", "line 3, column iv: '-1' must be > 0"),
        ("timestamp,price\n0,1\n60\n", "line 3: expected 2 columns"),
        ("timestamp,price\n0,1\n", "at least 2 data rows"),
    ],
)
def test_csv_errors_name_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    """Strict CSV parsing: each bad row is a HistoryError naming the line and column."""
    with pytest.raises(HistoryError, match=message):
        read_price_csv(_csv(tmp_path, text))


def test_csv_iv_column_prices_the_book_and_drives_vega(tmp_path: Path) -> None:
    """ISO timestamps and an iv column: vol moves show up in the vega attribution."""
    rows = [f"2024-03-01T{h:02d}:00:00Z,{100 + h % 3},{0.5 + 0.01 * h}" for h in range(24)]
    path = _csv(tmp_path, "timestamp,price,iv\n" + "\n".join(rows) + "\n")
    book = Book((OptionLeg(True, 100.0, 5 / (365 * 24), -1.0),))
    result = run_backtest(
        book,
        Historical(read_price_csv(path), 100.0),
        [StrategySpec("interval", {"interval_s": 1.0})],
        paths=100,
        steps=5,
        seed=0,
    )
    assert result.n_paths == 19  # rows 0..18 leave a 5-hour window
    paths = result.strategies[0].paths
    assert np.all(paths.vega_usd < 0)  # short vega, rising vol
    np.testing.assert_allclose(paths.attributed_usd(), paths.pnl_usd, atol=1e-9)


def test_cvar_is_the_mean_of_the_worst_tail() -> None:
    """P&L 1..100 at 95 %: mean of the 5 worst = 3; at 99 %: the worst = 1."""
    pnl = np.arange(1.0, 101.0)
    assert cvar(pnl, 0.95) == 3.0
    assert cvar(pnl, 0.99) == 1.0


def test_summary_attribution_adds_up_and_json_has_every_strategy() -> None:
    """The mean attribution terms sum to the mean P&L; JSON lists each strategy's figures."""
    result = run_backtest(
        Book((OptionLeg(True, 100.0, 0.1, -1.0),)),
        GBM(100.0, 0.3),
        [StrategySpec("band", {"width_up": 0.1, "width_down": 0.1})],
        paths=400,
        steps=10,
        seed=1,
    )
    summary = summarize(result, result.strategies[0])
    attribution = summary["attribution_usd_mean"]
    assert isinstance(attribution, dict)
    assert sum(attribution.values()) == pytest.approx(summary["pnl_mean_usd"], abs=1e-9)
    payload = to_json_dict(result)
    assert [s["strategy"] for s in payload["strategies"]] == [  # type: ignore[attr-defined]
        "band(width_down=0.1, width_up=0.1)"
    ]
