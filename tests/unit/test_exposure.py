"""value_book: hand-computed single positions, numeraires, expiry, bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from bot.domain.exposure import Exposure, value_book
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY, MS_PER_YEAR

T0_MS = 1_700_000_000_000
OPT, FUT, PERP, SPOT = KindCode.OPTION, KindCode.FUTURE, KindCode.PERPETUAL, KindCode.SPOT


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _one(kind: KindCode, size: float, **columns: Any) -> PositionTable:
    """A one-position BTC book; options default to a call."""
    base: dict[str, Any] = {
        "underlyings": ["BTC"],
        "underlying_idx": [0],
        "kind": [kind],
        "size": [size],
        "is_inverse": False,
        "amount_is_usd": False,
        "expiry_ms": T0_MS + 30 * MS_PER_DAY if kind in (OPT, FUT) else NO_EXPIRY_MS,
        "strike_usd": 60_000.0 if kind == OPT else np.nan,
        "is_call": kind == OPT,
        "symbols": ["X"],
    }
    return PositionTable.from_arrays(**(base | columns))


def _exposure(table: PositionTable, forward: Any, numeraire: str, **kw: Any) -> Exposure:
    kw.setdefault("collateral_coin", np.zeros(len(table.underlyings)))
    return value_book(
        table,
        forward_usd=np.broadcast_to(np.asarray(forward, dtype=float), (len(table),)),
        valuation_ts_ms=T0_MS,
        numeraire=numeraire,
        **kw,
    ).exposure


@pytest.mark.parametrize("kind", [PERP, FUT])
def test_inverse_perp_and_future_count_usd(kind: KindCode) -> None:
    """Inverse -30,000 USD at 60,000 is -0.5 BTC; it has gamma only in the coin numeraire."""
    table = _one(kind, -30_000.0, is_inverse=True, amount_is_usd=True)
    usd = _exposure(table, 60_000.0, "usd")
    coin = _exposure(table, 60_000.0, "coin")
    for e in (usd, coin):
        assert e.delta_coin[0] == pytest.approx(-0.5)
        assert e.hedges.delta_coin[0] == pytest.approx(-0.5) and e.options.delta_coin[0] == 0.0
        assert e.vega_usd_per_volpt[0] == 0.0 and e.theta_usd_per_day[0] == 0.0
    # usd: size/F falls as the coin P&L in equity rises -> 0; coin: d(size/F) x 1% F = +0.005.
    assert usd.gamma_coin_per_pct[0] == 0.0
    assert coin.gamma_coin_per_pct[0] == pytest.approx(0.005)


def test_deribit_coin_call_net_delta() -> None:
    """docs/architecture.md §3: F=S=K=60,000, 30 d, 60% -> V 0.06854 BTC, Δ 0.5343, net 0.4657."""
    table = _one(OPT, 1.0, is_inverse=True, mark_iv=0.60)
    usd = _exposure(table, 60_000.0, "usd")
    coin = _exposure(table, 60_000.0, "coin")
    assert coin.delta_coin[0] == pytest.approx(0.5343 - 0.06854, abs=5e-5)
    assert coin.delta_coin[0] == pytest.approx(0.4657, abs=5e-5)
    assert usd.delta_coin[0] == pytest.approx(coin.delta_coin[0], abs=1e-15)
    # sd = 0.6·sqrt(30/365) = 0.17201, d1 = sd/2; usd gamma/% = 0.01·φ(d1)/sd = 0.023107.
    sd = 0.6 * math.sqrt(30 / 365)
    gamma_usd = 0.01 * _phi(sd / 2) / sd
    assert usd.gamma_coin_per_pct[0] == pytest.approx(gamma_usd, rel=1e-12)
    assert usd.gamma_coin_per_pct[0] == pytest.approx(0.023107, abs=1e-6)
    assert coin.gamma_coin_per_pct[0] == pytest.approx(gamma_usd - 0.01 * 0.4657, abs=1e-6)
    # vega per vol point in USD: 0.01·F·φ(d1)·sqrt(τ) = 68.37.
    vega = 0.01 * 60_000 * _phi(sd / 2) * math.sqrt(30 / 365)
    assert usd.vega_usd_per_volpt[0] == pytest.approx(vega, rel=1e-12)
    assert coin.vega_usd_per_volpt[0] == pytest.approx(68.37, abs=0.01)


def test_linear_put_hull_futures_option() -> None:
    """Hull's crude-oil futures put (F=K=20, 4 months, r=9%, σ=25%) held 2x, USD-settled."""
    expiry = T0_MS + MS_PER_YEAR // 3
    table = _one(OPT, 2.0, is_call=False, strike_usd=20.0, expiry_ms=expiry, mark_iv=0.25)
    t, r, sd = 1 / 3, 0.09, 0.25 * math.sqrt(1 / 3)
    d1 = sd / 2  # 0.0722: N(-d1) = 0.4712, N(-d2) = 0.5288, put = 1.12
    disc = math.exp(-r * t)
    put = disc * 20 * (_cdf(d1) - _cdf(-d1))
    assert put == pytest.approx(1.12, abs=5e-3)
    theta_per_year = r * put - disc * 20 * _phi(d1) * 0.25 / (2 * math.sqrt(t))
    for numeraire in ("usd", "coin"):
        e = _exposure(table, 20.0, numeraire, rate=r)
        assert e.delta_coin[0] == pytest.approx(-2 * disc * _cdf(-d1), rel=1e-12)
        assert e.delta_coin[0] == pytest.approx(-2 * 0.9704 * 0.4712, abs=2e-4)
        assert e.gamma_coin_per_pct[0] == pytest.approx(2 * 0.01 * disc * _phi(d1) / sd, rel=1e-12)
        assert e.vega_usd_per_volpt[0] == pytest.approx(
            2 * 0.01 * disc * 20 * _phi(d1) * math.sqrt(t), rel=1e-12
        )
        assert e.theta_usd_per_day[0] == pytest.approx(2 * theta_per_year / 365, rel=1e-12)


@pytest.mark.parametrize("kind", [PERP, FUT, SPOT])
def test_linear_delta_one_is_coin_size(kind: KindCode) -> None:
    """Linear perps, futures and spot count coin: delta = size, no gamma, either numeraire."""
    table = _one(kind, 1.25)
    for numeraire in ("usd", "coin"):
        e = _exposure(table, 60_000.0, numeraire)
        assert e.delta_coin[0] == 1.25 and e.gamma_coin_per_pct[0] == 0.0


def _mixed() -> PositionTable:
    return PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        underlying_idx=[0, 0, 0, 1, 1],
        kind=[OPT, PERP, OPT, OPT, FUT],
        size=[3.0, -50_000.0, -1.0, 10.0, -2_000.0],
        is_inverse=[True, True, False, True, True],
        amount_is_usd=[False, True, False, False, True],
        is_call=[True, False, False, False, False],
        strike_usd=[65_000.0, np.nan, 55_000.0, 3_000.0, np.nan],
        expiry_ms=[T0_MS + 7 * MS_PER_DAY, NO_EXPIRY_MS, T0_MS + 90 * MS_PER_DAY]
        + [T0_MS + 30 * MS_PER_DAY] * 2,
        mark_iv=[0.55, np.nan, 0.5, 0.7, np.nan],
        index_usd=[59_900.0, np.nan],
        symbols=["C65", "PERP", "P55", "EP3000", "EFUT"],
    )


MIXED_FORWARD = np.array([60_100.0, 60_050.0, 60_400.0, 3_020.0, 3_030.0])


def test_numeraires_differ_by_exactly_the_collateral() -> None:
    """usd minus coin delta is the coin equity; vega and theta do not depend on the numeraire."""
    table = _mixed()
    collateral = np.array([1.7, -4.0])
    usd = _exposure(table, MIXED_FORWARD, "usd", collateral_coin=collateral)
    coin = _exposure(table, MIXED_FORWARD, "coin", collateral_coin=collateral)
    np.testing.assert_allclose(usd.delta_coin - coin.delta_coin, collateral, rtol=0, atol=1e-12)
    assert np.array_equal(usd.collateral_delta_coin, collateral)
    assert np.array_equal(coin.collateral_delta_coin, np.zeros(2))
    assert np.array_equal(usd.vega_usd_per_volpt, coin.vega_usd_per_volpt)
    assert np.array_equal(usd.theta_usd_per_day, coin.theta_usd_per_day)
    assert not np.allclose(usd.gamma_coin_per_pct, coin.gamma_coin_per_pct)


def test_totals_are_options_plus_hedges_plus_collateral() -> None:
    """The option/hedge split adds up to the totals."""
    e = _exposure(_mixed(), MIXED_FORWARD, "usd", collateral_coin=[1.7, -4.0])
    assert np.allclose(e.delta_coin, e.options.delta_coin + e.hedges.delta_coin + [1.7, -4.0])
    for name in ("gamma_coin_per_pct", "vega_usd_per_volpt", "theta_usd_per_day"):
        total = getattr(e.options, name) + getattr(e.hedges, name)
        assert np.allclose(getattr(e, name), total), name
    assert e.hedges.delta_coin[1] == pytest.approx(-2_000.0 / 3_030.0)


def test_expiry_buckets_cover_perps_and_sum_to_totals() -> None:
    """Buckets sort by underlying then expiry, perps at NO_EXPIRY_MS; sums match the totals."""
    e = _exposure(_mixed(), MIXED_FORWARD, "coin")
    b = e.buckets
    assert b.underlying_idx.tolist() == [0, 0, 0, 1]
    assert b.expiry_ms.tolist() == [
        NO_EXPIRY_MS,
        T0_MS + 7 * MS_PER_DAY,
        T0_MS + 90 * MS_PER_DAY,
        T0_MS + 30 * MS_PER_DAY,
    ]
    assert b.vega_usd_per_volpt[0] == 0.0 and b.gamma_coin_per_pct[0] != 0.0
    gamma = np.bincount(b.underlying_idx, weights=b.gamma_coin_per_pct, minlength=2)
    vega = np.bincount(b.underlying_idx, weights=b.vega_usd_per_volpt, minlength=2)
    assert np.allclose(gamma, e.gamma_coin_per_pct) and np.allclose(vega, e.vega_usd_per_volpt)
    delta = np.bincount(b.underlying_idx, weights=b.delta_coin, minlength=2)
    assert np.allclose(delta, e.delta_coin - e.collateral_delta_coin)


def test_expired_positions_contribute_nothing_and_are_counted() -> None:
    """At or past expiry an option or future adds no Greek, even with NaN marks, and is counted."""
    table = PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0, 0, 0],
        kind=[OPT, FUT, PERP],
        size=[5.0, 1_000.0, 0.5],
        is_inverse=[True, True, False],
        amount_is_usd=[False, True, False],
        is_call=[True, False, False],
        strike_usd=[60_000.0, np.nan, np.nan],
        expiry_ms=[T0_MS, T0_MS - MS_PER_DAY, NO_EXPIRY_MS],
    )
    forward = np.array([np.nan, np.nan, 60_000.0])
    e = _exposure(table, forward, "coin")
    assert e.n_expired.tolist() == [2]
    assert e.delta_coin.tolist() == [0.5] and e.options.delta_coin.tolist() == [0.0]
    assert np.isfinite(e.gamma_coin_per_pct).all() and np.isfinite(e.vega_usd_per_volpt).all()
    assert e.buckets.expiry_ms.tolist() == [NO_EXPIRY_MS]


def test_flat_position_with_bad_mark_is_ignored() -> None:
    """A zero-size position needs no mark."""
    table = _one(OPT, 0.0, is_inverse=True)
    e = _exposure(table, np.nan, "usd", collateral_coin=[0.0])
    assert e.delta_coin.tolist() == [0.0] and e.n_expired.tolist() == [0]


@pytest.mark.parametrize("forward", [np.nan, np.inf, 0.0, -60_000.0])
def test_bad_forward_raises_naming_the_position(forward: float) -> None:
    """A NaN, infinite or non-positive forward on a live position never becomes a zero delta."""
    table = _one(PERP, -30_000.0, is_inverse=True, amount_is_usd=True, symbols=["BTC/USD:BTC"])
    with pytest.raises(ValueError, match=r"position 0 \(BTC/USD:BTC\): forward_usd must be"):
        _exposure(table, forward, "usd")


def test_missing_vol_raises_and_override_replaces_mark_iv() -> None:
    """An option without mark_iv needs vol_override; the override is the pricing vol."""
    table = _one(OPT, 1.0, is_inverse=True)
    with pytest.raises(ValueError, match=r"position 0 \(X\): no usable vol"):
        _exposure(table, 60_000.0, "coin")
    overridden = _exposure(table, 60_000.0, "coin", vol_override=[0.60])
    marked = _exposure(_one(OPT, 1.0, is_inverse=True, mark_iv=0.60), 60_000.0, "coin")
    assert overridden.delta_coin[0] == marked.delta_coin[0]
    high_mark = _one(OPT, 1.0, is_inverse=True, mark_iv=0.90)
    assert (
        _exposure(high_mark, 60_000.0, "coin", vol_override=[0.6]).delta_coin == marked.delta_coin
    )
    assert _exposure(high_mark, 60_000.0, "coin").delta_coin[0] != marked.delta_coin[0]


def test_delta_usd_uses_index_then_mean_forward() -> None:
    """delta_usd prices coin delta at the venue index; without one, at the mean live forward."""
    e = _exposure(_mixed(), MIXED_FORWARD, "coin")
    assert e.index_usd.tolist() == [59_900.0, pytest.approx(3_025.0)]
    assert np.allclose(e.delta_usd, e.delta_coin * e.index_usd)


def test_collateral_without_any_price_raises() -> None:
    """Coin equity in an underlying with no index and no live position cannot be priced."""
    table = PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        underlying_idx=[0],
        kind=[SPOT],
        size=[1.0],
        is_inverse=False,
        amount_is_usd=False,
        index_usd=[60_000.0, np.nan],
    )
    with pytest.raises(ValueError, match="ETH: no index_usd"):
        _exposure(table, 60_000.0, "usd", collateral_coin=[0.0, 3.0])
    assert _exposure(table, 60_000.0, "usd", collateral_coin=[0.0, 0.0]).delta_usd[1] == 0.0


def test_collateral_mapping_matches_array() -> None:
    """Collateral by name is the same as the aligned array; missing names count zero."""
    table = _mixed()
    by_name = _exposure(table, MIXED_FORWARD, "usd", collateral_coin={"ETH": 2.0})
    by_array = _exposure(table, MIXED_FORWARD, "usd", collateral_coin=[0.0, 2.0])
    assert np.array_equal(by_name.delta_coin, by_array.delta_coin)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numeraire": "eur"}, "numeraire must be 'usd' or 'coin'"),
        ({"collateral_coin": {"SOL": 1.0}}, r"collateral_coin names \['SOL'\]"),
        ({"collateral_coin": [1.0]}, "one value per underlying"),
        ({"collateral_coin": [1.0, np.nan]}, "collateral_coin must be finite"),
        (
            {"forward_usd": np.ones(4)},
            r"forward_usd must be a scalar or one value per position \(5\)",
        ),
        ({"rate": np.zeros(2)}, "rate must be a scalar"),
        ({"vol_override": np.ones(3)}, "vol_override must be a scalar"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], message: str) -> None:
    """Misaligned or unknown arguments raise a ValueError naming the argument."""
    args: dict[str, Any] = {
        "forward_usd": MIXED_FORWARD,
        "valuation_ts_ms": T0_MS,
        "numeraire": "usd",
        "collateral_coin": [0.0, 0.0],
    }
    with pytest.raises(ValueError, match=message):
        value_book(_mixed(), **(args | kwargs))


def test_deribit_coin_call_vanna_and_volga() -> None:
    """Module docstring: vanna +0.05698 (usd) and -0.05698 (coin) per 1.00 vol; volga -0.00843."""
    table = _one(OPT, 1.0, is_inverse=True, mark_iv=0.60)
    usd = _exposure(table, 60_000.0, "usd")
    coin = _exposure(table, 60_000.0, "coin")
    assert usd.vanna_coin_per_vol[0] == pytest.approx(0.05698, abs=5e-6)
    assert coin.vanna_coin_per_vol[0] == pytest.approx(-0.05698, abs=5e-6)
    assert usd.volga_usd_per_volpt2[0] == pytest.approx(-0.00843, abs=5e-6)
    assert coin.volga_usd_per_volpt2[0] == usd.volga_usd_per_volpt2[0]
