"""Liquidation distance by hand, surplus zero at the root, breach odds/time, and drift alerts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.domain.margin.breach import (
    JumpDiffusion,
    breach_probability,
    calibrate,
    expected_breach_time_years,
    first_passage_down,
)
from bot.domain.margin.drift import MarginFigures, margin_drift, model_figures
from bot.domain.margin.liquidation import LiquidationParams
from bot.domain.margin.portfolio import portfolio_margin
from bot.domain.margin.standard import standard_margin
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.revalue import revalue
from bot.domain.stress.liquidation import liquidation_distance
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000
F = 60_000.0


def _perp(size_usd: float) -> PositionTable:
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0],
        kind=[KindCode.PERPETUAL],
        size=[size_usd],
        is_inverse=True,
        amount_is_usd=True,
        index_usd=[F],
    )


def _perp_distance(size_usd: float, equity: float = 1.0) -> tuple[float, float]:
    r = liquidation_distance(
        _perp(size_usd),
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=[[equity]],
        annual_vol_frac=0.6,
    )
    return float(r.down_frac[0]), float(r.up_frac[0])


def test_short_perp_worked_example() -> None:
    """Short 120,000 USD on 1 BTC: 1.98x − 1 − 0.0002x² = 0 → up 97.990 %, never down."""
    x = (1.98 - math.sqrt(1.98**2 - 4 * 0.0002)) / (2 * 0.0002)
    down, up = _perp_distance(-120_000.0)
    assert up == pytest.approx(1 / x - 1, abs=1e-6)
    assert up == pytest.approx(0.97990, abs=1e-5)
    assert down == math.inf


def test_coin_hedged_short_is_never_liquidated() -> None:
    """Short 60,000 USD against 1 BTC is flat in USD: no breach in the search range."""
    assert _perp_distance(-60_000.0) == (math.inf, math.inf)


def test_long_perp_by_hand() -> None:
    """Long 120,000 USD on 1 BTC: 3 − 2.02x − 0.0002x² = 0 at x = 60,000/F' (down 32.66 %)."""
    x = (-2.02 + math.sqrt(2.02**2 + 4 * 0.0002 * 3)) / (2 * 0.0002)
    down, up = _perp_distance(120_000.0)
    assert down == pytest.approx(1 - 1 / x, abs=1e-6)
    assert up == math.inf


def test_already_in_breach_is_zero() -> None:
    """Equity below maintenance now: both distances are 0."""
    assert _perp_distance(-120_000.0, equity=0.001) == (0.0, 0.0)


def _straddle() -> PositionTable:
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0, 0, 0],
        kind=[KindCode.OPTION, KindCode.OPTION, KindCode.PERPETUAL],
        size=[-10.0, -10.0, 60_000.0],
        is_inverse=True,
        amount_is_usd=[False, False, True],
        is_call=[True, False, False],
        strike_usd=[F, F, np.nan],
        expiry_ms=[T0_MS + 30 * MS_PER_DAY, T0_MS + 30 * MS_PER_DAY, -1],
        mark_iv=0.6,
        index_usd=[F],
    )


def test_surplus_is_zero_at_the_root() -> None:
    """Short straddle: at each found move, revalue + standard margin give equity = MM."""
    t, beta = _straddle(), (0.5, 0.25)
    params = LiquidationParams(vol_beta_down=beta[0], vol_beta_up=beta[1])
    res = liquidation_distance(
        t,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=[[3.0]],
        annual_vol_frac=0.6,
        params=params,
    )
    for move, b in ((-res.down_frac[0], beta[0]), (res.up_frac[0], beta[1])):
        assert 0 < abs(move) < 1
        shift = b * abs(move)
        equity = (
            3.0 * F
            + revalue(
                t,
                forward_usd=F,
                valuation_ts_ms=T0_MS,
                price_mult=[[1 + move]],
                vol_shift=shift,
                equity_coin=[[3.0]],
            ).venue_equity_usd[0, 0]
        )
        mm = (
            standard_margin(
                t, forward_usd=F * (1 + move), valuation_ts_ms=T0_MS, vol=[0.6 + shift] * 3
            ).maintenance_coin[0, 0]
            * F
            * (1 + move)
        )
        assert equity - mm == pytest.approx(0.0, abs=1e-3 * mm)
    daily = 0.6 / math.sqrt(365)
    assert res.up_sigmas[0] == pytest.approx(math.log1p(res.up_frac[0]) / daily)
    assert res.down_sigmas[0] == pytest.approx(-math.log1p(-res.down_frac[0]) / daily)


EQ = 4.0


def test_portfolio_model_root() -> None:
    """Portfolio-margin venue: at the found down move equity equals 0.8 × the worst PM loss."""
    t = _straddle()
    res = liquidation_distance(
        t,
        forward_usd=F,
        valuation_ts_ms=T0_MS,
        equity_coin=[[EQ]],
        annual_vol_frac=0.6,
        models="portfolio",
        params=LiquidationParams(vol_beta_down=0.0, vol_beta_up=0.0),
    )
    move = -float(res.down_frac[0])
    assert -1 < move < 0
    fm = F * (1 + move)
    equity = EQ * F + float(
        revalue(
            t, forward_usd=F, valuation_ts_ms=T0_MS, price_mult=[[1 + move]], equity_coin=[[EQ]]
        ).venue_equity_usd[0, 0]
    )
    pm = portfolio_margin(t, forward_usd=fm, valuation_ts_ms=T0_MS).margin
    assert equity == pytest.approx(float(pm.maintenance_coin[0, 0]) * fm, rel=1e-4)


def test_first_passage_example() -> None:
    """Reflection principle: 10 % fall, σ 80 %, μ −0.32, one day → 1.250 %."""
    assert first_passage_down(0.1, 0.8, -0.32, 1 / 365) == pytest.approx(0.012504, abs=1e-6)


def test_monte_carlo_matches_closed_form() -> None:
    """No jumps, one barrier: the corrected Monte Carlo is within 4 standard errors of it."""
    p = float(
        breach_probability([0.1], [math.inf], JumpDiffusion(0.8), 1 / 365, n_paths=100_000)[0]
    )
    exact = first_passage_down(0.1, 0.8, JumpDiffusion(0.8).drift, 1 / 365)
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / 100_000)


def test_jumps_raise_breach_probability() -> None:
    """Adding crash jumps (same seed) raises the odds of a 10 % fall within a day."""
    calm = breach_probability([0.1], [math.inf], JumpDiffusion(0.6), 1 / 365, seed=3)
    jumpy = breach_probability([0.1], [math.inf], JumpDiffusion(0.6, 20.0, -0.08, 0.05), 1 / 365)
    assert jumpy[0] > 10 * calm[0] and jumpy[0] > 0.01


def test_breach_edges() -> None:
    """Distance 0 is certain breach; no barrier at all never breaches and never ends."""
    p = breach_probability([0.0, math.inf], [0.3, math.inf], JumpDiffusion(0.6), 1 / 365)
    np.testing.assert_array_equal(p, [1.0, 0.0])
    assert expected_breach_time_years([math.inf], [math.inf], JumpDiffusion(0.6))[0] == math.inf


def test_expected_time_example() -> None:
    """σ 50 %, ±10 %: E[τ] = 0.04020 years; driftless it is a·b/σ²."""
    t = expected_breach_time_years([0.1], [0.1], JumpDiffusion(0.5))
    assert t[0] == pytest.approx(0.040201, abs=1e-6)
    a, b = -math.log(0.9), math.log(1.1)
    # Jumps of −12.5 % once a year cancel the diffusion's −σ²/2: zero log drift.
    driftless = JumpDiffusion(0.5, 1.0, math.log(0.875), 0.0)
    assert driftless.drift == pytest.approx(0.0, abs=1e-15)
    var = 0.25 + math.log(0.875) ** 2
    got = expected_breach_time_years([0.1], [0.1], driftless)[0]
    assert got == pytest.approx(a * b / var, rel=1e-9)


def test_expected_time_one_sided() -> None:
    """Only a floor: with the martingale's negative log drift E[τ] = a/|μ|."""
    t = expected_breach_time_years([0.2], [math.inf], JumpDiffusion(0.5))
    assert t[0] == pytest.approx(-math.log(0.8) / 0.125)


def test_calibrate_example() -> None:
    """±1 % days plus one +20 % day: σ 19.10 %, λ 3.614/yr, μ_J 0.20."""
    r = np.array([0.01, -0.01] * 50 + [0.2])
    m = calibrate(r, 1 / 365)
    assert m.sigma_frac == pytest.approx(0.01 * math.sqrt(365))
    assert m.jump_rate_per_year == pytest.approx(365 / 101)
    assert m.jump_mean == pytest.approx(0.2) and m.jump_std == 0.0


def test_drift_example() -> None:
    """Model MM 10,600 vs venue 10,000 at 5 %: one maintenance alert of +6 %."""
    alerts = margin_drift(
        {"deribit": MarginFigures(20_000.0, 10_600.0)},
        {"deribit": MarginFigures(20_100.0, 10_000.0)},
        tolerance_frac=0.05,
        floor_usd=100.0,
    )
    assert [(a.field, round(a.diff_frac, 6)) for a in alerts] == [("maintenance", 0.06)]
    assert "+6.0%" in alerts[0].message()


def test_drift_floor_and_missing() -> None:
    """Tiny figures are judged against the floor; a venue missing on one side alerts."""
    alerts = margin_drift(
        {"a": MarginFigures(3.0, 2.0), "b": MarginFigures(1.0, 1.0)},
        {"a": MarginFigures(1.0, 1.0)},
        tolerance_frac=0.05,
        floor_usd=100.0,
    )
    assert [(a.venue, a.field) for a in alerts] == [("b", "initial"), ("b", "maintenance")]
    assert alerts[0].venue_usd is None


def test_model_figures_feed_drift() -> None:
    """standard_margin's per-venue USD totals are what the drift check compares."""
    t = _perp(-120_000.0)
    figs = model_figures(standard_margin(t, forward_usd=F, valuation_ts_ms=T0_MS))
    assert figs["backtest"].maintenance_usd == pytest.approx(2 * (0.01 + 2 * 0.00005) * F)
