"""Properties every built-in strategy keeps: shape, band invariants, exact no-trades, bad data,
and backtest/live parity."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from bot.pricing.arrays import FloatArray
from strategies.band import Band, BandParams
from strategies.base import HedgeState, deviation_coin
from strategies.interval import Interval, IntervalParams
from strategies.whalley_wilmott import (
    WhalleyWilmott,
    WhalleyWilmottParams,
    whalley_wilmott_half_width_coin,
)
from strategies.zakamouline import (
    Zakamouline,
    ZakamoulineParams,
    modified_sigma,
    zakamouline_terms,
)

AnyStrategy = Interval | Band | WhalleyWilmott | Zakamouline

RANGES: dict[str, tuple[float, float]] = {
    "spot_usd": (1.0, 2e5),
    "net_delta_coin": (-100.0, 100.0),
    "net_delta_fixed_vol_coin": (-100.0, 100.0),
    "gamma_coin_per_usd": (-0.1, 0.1),
    "vanna_coin_per_vol": (-50.0, 50.0),
    "vega_usd_per_volpt": (-1e6, 1e6),
    "theta_usd_per_day": (-1e6, 1e6),
    "hedge_coin": (-100.0, 100.0),
    "target_delta_coin": (-10.0, 10.0),
    "sigma": (0.01, 3.0),
    "tau_years": (0.0, 3.0),
    "rate": (-0.05, 0.2),
    "cost_frac": (0.0, 0.01),
    "time_since_hedge_s": (0.0, 1e5),
}
FIELDS = tuple(f.name for f in fields(HedgeState))
RATIOS = st.floats(0.0, 1.5)


@st.composite
def states(draw: st.DrawFn, shape: tuple[int, ...] | None = None) -> HedgeState:
    """Finite, in-domain states of a drawn (or given) shape, 0-d to 2-d."""
    if shape is None:
        shape = draw(array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=6))
    return HedgeState(
        **{
            name: draw(arrays(np.float64, shape, elements=st.floats(lo, hi)))
            for name, (lo, hi) in RANGES.items()
        }
    )


def intervals(ratio: st.SearchStrategy[float] = RATIOS) -> st.SearchStrategy[Interval]:
    return st.builds(
        lambda s, r: Interval(IntervalParams(interval_s=s, hedge_ratio=r)),
        st.floats(1.0, 1e5),
        ratio,
    )


@st.composite
def bands(draw: st.DrawFn, ratio: st.SearchStrategy[float] = RATIOS) -> Band:
    unit = draw(st.sampled_from(["coin", "usd"]))
    scale = 2e4 if unit == "usd" else 1.0
    params = BandParams(
        width_up=draw(st.floats(0.0, 50.0)) * scale,
        width_down=draw(st.floats(0.0, 50.0)) * scale,
        unit=unit,
        rehedge_to=draw(st.sampled_from(["edge", "center"])),
        hedge_ratio=draw(ratio),
        ignore_vol_moves=draw(st.booleans()),
    )
    return Band(params)


whalley_wilmotts = st.builds(
    lambda a: WhalleyWilmott(WhalleyWilmottParams(risk_aversion=a)), st.floats(1e-8, 10.0)
)
zakamoulines = st.builds(
    lambda a, t: Zakamouline(ZakamoulineParams(risk_aversion=a, min_tau_years=t)),
    st.floats(1e-6, 10.0),
    st.floats(1e-4, 0.1),
)
any_strategy = st.one_of(intervals(), bands(), whalley_wilmotts, zakamoulines)
full_hedgers = st.one_of(
    intervals(st.just(1.0)), bands(st.just(1.0)), whalley_wilmotts, zakamoulines
)


def band_of(strategy: AnyStrategy, s: HedgeState) -> tuple[FloatArray, Any, Any]:
    """(deviation, lower, upper) of the no-trade band, restated independently of the kernels."""
    if isinstance(strategy, Interval):
        due = s.time_since_hedge_s >= strategy.params.interval_s
        dev = deviation_coin(s.net_delta_coin, s)
        return dev, np.where(due, 0.0, -np.inf), np.where(due, 0.0, np.inf)
    if isinstance(strategy, Band):
        p = strategy.params
        delta = s.net_delta_fixed_vol_coin if p.ignore_vol_moves else s.net_delta_coin
        per = s.spot_usd if p.unit == "usd" else 1.0
        return deviation_coin(delta, s), -(p.width_down / per), p.width_up / per
    if isinstance(strategy, WhalleyWilmott):
        h = whalley_wilmott_half_width_coin(
            gamma_coin_per_usd=s.gamma_coin_per_usd,
            spot_usd=s.spot_usd,
            cost_frac=s.cost_frac,
            rate=s.rate,
            tau_years=s.tau_years,
            risk_aversion_per_usd=strategy.params.risk_aversion,
        )
        return deviation_coin(s.net_delta_coin, s), -h, h
    terms = zakamouline_terms(
        gamma_coin_per_usd=s.gamma_coin_per_usd,
        spot_usd=s.spot_usd,
        sigma=s.sigma,
        tau_years=np.maximum(s.tau_years, strategy.params.min_tau_years),
        rate=s.rate,
        cost_frac=s.cost_frac,
        risk_aversion_per_usd=strategy.params.risk_aversion,
    )
    sigma_m = modified_sigma(s.sigma, terms.k, s.gamma_coin_per_usd)
    delta_m = s.net_delta_coin + s.vanna_coin_per_vol * (sigma_m - s.sigma)
    h = terms.h0_coin + terms.h1_coin
    return deviation_coin(delta_m, s), -h, h


def _with(state: HedgeState, name: str, index: int, value: float) -> HedgeState:
    arr = getattr(state, name).copy()
    arr[index] = value
    return replace(state, **{name: arr})


@given(any_strategy, states())
def test_output_is_a_finite_float64_array_of_the_state_shape(
    strategy: AnyStrategy, state: HedgeState
) -> None:
    """One new hedge per book, 0-d to 2-d alike, never NaN on good data."""
    out = strategy.target_hedge(state)
    assert out.shape == state.shape
    assert out.dtype == np.float64
    assert np.isfinite(out).all()


@given(full_hedgers, states())
def test_full_hedge_leaves_the_deviation_inside_the_band(
    strategy: AnyStrategy, state: HedgeState
) -> None:
    """With hedge_ratio 1 the deviation after the trade lies in [lower, upper]."""
    dev, lower, upper = band_of(strategy, state)
    after = dev + (strategy.target_hedge(state) - state.hedge_coin)
    tol = 1e-9 * (1.0 + np.abs(dev) + np.abs(state.hedge_coin) + np.abs(state.target_delta_coin))
    assert np.all(after >= lower - tol)
    assert np.all(after <= upper + tol)


@given(any_strategy, states())
def test_books_inside_the_band_keep_their_hedge_exactly(
    strategy: AnyStrategy, state: HedgeState
) -> None:
    """'Don't trade' elements return hedge_coin bit for bit, whatever the ratio."""
    dev, lower, upper = band_of(strategy, state)
    inside = (dev >= lower) & (dev <= upper)
    out = strategy.target_hedge(state)
    np.testing.assert_array_equal(out[inside], state.hedge_coin[inside])


@given(st.one_of(intervals(st.just(0.0)), bands(st.just(0.0))), states())
def test_hedge_ratio_zero_never_trades(strategy: Interval | Band, state: HedgeState) -> None:
    """Ratio 0 returns the current hedge everywhere."""
    np.testing.assert_array_equal(strategy.target_hedge(state), state.hedge_coin)


@given(any_strategy, st.data())
def test_non_finite_read_field_keeps_only_that_books_hedge(
    strategy: AnyStrategy, data: st.DataObject
) -> None:
    """NaN or inf in a field the kernel reads: that book keeps its hedge, the others are unmoved."""
    n = data.draw(st.integers(1, 8))
    state = data.draw(states((n,)))
    index = data.draw(st.integers(0, n - 1))
    name = data.draw(st.sampled_from([f for f in strategy.reads if f != "hedge_coin"]))
    bad = _with(state, name, index, data.draw(st.sampled_from([np.nan, np.inf, -np.inf])))
    out, clean = strategy.target_hedge(bad), strategy.target_hedge(state)
    assert out[index] == state.hedge_coin[index]
    others = np.arange(n) != index
    np.testing.assert_array_equal(out[others], clean[others])


@given(any_strategy, st.data())
def test_fields_not_read_do_not_change_the_result(
    strategy: AnyStrategy, data: st.DataObject
) -> None:
    """Changing (even to NaN) a field outside ``reads`` leaves every output bit unchanged."""
    state = data.draw(states((4,)))
    unread = [f for f in FIELDS if f not in strategy.reads]
    name = data.draw(st.sampled_from(unread))
    value = data.draw(st.sampled_from([np.nan, np.inf, 0.0, -1.0, 1e9]))
    changed = _with(state, name, data.draw(st.integers(0, 3)), value)
    np.testing.assert_array_equal(strategy.target_hedge(changed), strategy.target_hedge(state))


PATHS = 100_000
_rng = np.random.default_rng(20_240_601)
BACKGROUND = {name: _rng.uniform(lo, hi, PATHS) for name, (lo, hi) in RANGES.items()}


@settings(max_examples=25)
@given(any_strategy, states((1,)), st.integers(0, PATHS - 1))
def test_one_book_alone_matches_the_same_book_among_100k_paths(
    strategy: AnyStrategy, one: HedgeState, index: int
) -> None:
    """The live engine's one-element call and the backtester's big call agree bit for bit."""
    columns = {name: values.copy() for name, values in BACKGROUND.items()}
    for name, values in columns.items():
        values[index] = getattr(one, name)[0]
    many = strategy.target_hedge(HedgeState(**columns))
    alone = strategy.target_hedge(one)
    assert many[index] == alone[0]
