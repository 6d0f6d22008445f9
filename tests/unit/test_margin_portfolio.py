"""Deribit portfolio margin: the hand-built worked example, extended table, dampener, offsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.domain.margin.portfolio import PortfolioParams, portfolio_margin, scenarios
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000
F = 60_000.0


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _call_coin(f: float, k: float, days: float, vol: float) -> float:
    sd = vol * math.sqrt(days / 365)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    return (f * _cdf(d1) - k * _cdf(d1 - sd)) / f


def _calls(size: list[float], strike: list[float], days: float = 30.0) -> PositionTable:
    n = len(size)
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0] * n,
        kind=[KindCode.OPTION] * n,
        size=size,
        is_inverse=True,
        amount_is_usd=False,
        is_call=True,
        strike_usd=strike,
        expiry_ms=T0_MS + int(days * MS_PER_DAY),
        mark_iv=0.6,
        index_usd=[F],
    )


def test_worked_example_short_atm_call() -> None:
    """Short 1 ATM call, 30 d, 60 %: worst cell +16 %/vol 90 %, IM 0.11127 BTC, MM 0.8·IM."""
    res = portfolio_margin(_calls([-1.0], [F]), forward_usd=F, valuation_ts_ms=T0_MS)
    want = _call_coin(1.16 * F, F, 30, 0.9) - _call_coin(F, F, 30, 0.6)
    assert want == pytest.approx(0.11127, abs=1e-5)
    assert res.margin.initial_coin[0, 0] == pytest.approx(want, rel=1e-9)
    assert res.margin.maintenance_coin[0, 0] == pytest.approx(0.8 * want, rel=1e-9)
    worst = int(np.argmax(res.loss_coin[:, 0, 0]))
    assert res.scenarios.move_frac[worst] == pytest.approx(0.16)
    assert res.scenarios.vol_shift_rel[worst] == pytest.approx(0.5)


def test_scenario_grid() -> None:
    """9 moves × 3 vols then 8 extended moves at vol up weighted 0.16/|move| (24 % at −66 %)."""
    sc = scenarios(PortfolioParams())
    assert sc.move_frac.size == 35
    np.testing.assert_allclose(sc.move_frac[:27:3], np.linspace(-0.16, 0.16, 9))
    np.testing.assert_allclose(sc.weight[27:], 0.16 / np.abs(sc.move_frac[27:]))
    assert sc.weight[27] == pytest.approx(0.2424, abs=1e-4)
    assert (sc.vol_shift_rel[27:] == 0.5).all() and sc.extended[27:].all()


def test_extended_table_with_dampener() -> None:
    """1,000 short 150k calls: the worst extended cell, loss × 0.16/move − 100,000 USD, rules."""
    res = portfolio_margin(_calls([-1_000.0], [150_000.0]), forward_usd=F, valuation_ts_ms=T0_MS)
    base = _call_coin(F, 150_000.0, 30, 0.6)
    ext = {
        m: 1_000.0 * (_call_coin((1 + m) * F, 150_000.0, 30, 0.9) - base) * 0.16 / m - F_DAMP
        for m in (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
    }
    std = 1_000.0 * (_call_coin(1.16 * F, 150_000.0, 30, 0.9) - base)
    assert max(ext.values()) == pytest.approx(ext[3.0]) and ext[3.0] > std
    assert res.margin.initial_coin[0, 0] == pytest.approx(ext[3.0], rel=1e-9)


F_DAMP = 100_000.0 / F


def test_small_far_otm_short_is_dampened() -> None:
    """One far OTM short call: the extended loss is under the dampener and does not count."""
    res = portfolio_margin(_calls([-1.0], [150_000.0]), forward_usd=F, valuation_ts_ms=T0_MS)
    assert res.loss_coin[27:, 0, 0].max() == 0.0
    assert res.margin.initial_coin[0, 0] == pytest.approx(res.loss_coin[:27, 0, 0].max())


def test_offsetting_positions_need_nothing() -> None:
    """Long and short the same call cancel in every scenario: zero portfolio margin."""
    res = portfolio_margin(_calls([2.0, -2.0], [F, F]), forward_usd=F, valuation_ts_ms=T0_MS)
    assert res.margin.initial_coin[0, 0] == pytest.approx(0.0, abs=1e-12)


def test_term_weight() -> None:
    """(30/days)^power: 0.30 below 30 days, 0.13 from 30 on; 1 for non-options."""
    p = PortfolioParams()
    t = _calls([-1.0, -1.0], [F, F])
    w15 = p.term_weight(_calls([-1.0], [F], days=15), T0_MS)
    w60 = p.term_weight(_calls([-1.0], [F], days=60), T0_MS)
    assert w15[0] == pytest.approx(2.0**0.3)
    assert w60[0] == pytest.approx(0.5**0.13)
    assert p.term_weight(t, T0_MS) == pytest.approx([1.0, 1.0])


def test_linear_perp_in_usd() -> None:
    """Long 1 BTC linear perp: worst loss 16 % = 9,600 USD (−66 % × 0.2424 − dampener < 0)."""
    t = PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0],
        kind=[KindCode.PERPETUAL],
        size=[1.0],
        is_inverse=False,
        amount_is_usd=False,
        expiry_ms=NO_EXPIRY_MS,
        index_usd=[F],
    )
    res = portfolio_margin(t, forward_usd=F, valuation_ts_ms=T0_MS)
    assert res.margin.initial_usd[0, 0] == pytest.approx(9_600.0)
    assert res.margin.maintenance_usd[0, 0] == pytest.approx(7_680.0)
    assert res.margin.initial_coin[0, 0] == 0.0
