"""Deribit portfolio margin: Deribit's published example, extended table, dampeners, roll shock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.domain.margin.portfolio import (
    PortfolioMargin,
    PortfolioParams,
    portfolio_margin,
    scenarios,
)
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
    """9 moves × 3 vols, then 8 extended moves at vol up: options 0.16/|move|, futures the edge."""
    sc = scenarios(PortfolioParams())
    assert sc.move_frac.size == 35
    np.testing.assert_allclose(sc.move_frac[:27:3], np.linspace(-0.16, 0.16, 9))
    np.testing.assert_allclose(sc.weight[27:], 0.16 / np.abs(sc.move_frac[27:]))
    assert sc.weight[27] == pytest.approx(0.2424, abs=1e-4)
    assert (sc.vol_shift_rel[27:] == 0.5).all() and sc.extended[27:].all()
    np.testing.assert_allclose(sc.delta_one_move_frac[:27], sc.move_frac[:27])
    np.testing.assert_allclose(sc.delta_one_move_frac[27:], [-0.16] * 2 + [0.16] * 6)


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
    """Long 1 BTC linear perp: 16 % = 9,600 USD worst loss + 1 % roll shock = 10,200 USD IM."""
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
    assert res.loss_usd[:, 0, 0].max() == pytest.approx(9_600.0)
    assert res.loss_usd[27:, 0, 0].max() == 0.0  # the −16 % P&L less 25,000 USD
    assert res.roll_shock_usd[0, 0] == pytest.approx(600.0)
    assert res.margin.initial_usd[0, 0] == pytest.approx(10_200.0)
    assert res.margin.maintenance_usd[0, 0] == pytest.approx(8_160.0)
    assert res.margin.initial_coin[0, 0] == 0.0


def test_roll_shock_counts_gross_futures_not_options() -> None:
    """1 % of |Q| summed over futures and perps per venue (long and short both), options none."""
    t = PositionTable.from_arrays(
        underlyings=["BTC"],
        venues=["a", "b"],
        venue_idx=[0, 0, 0, 1],
        underlying_idx=[0, 0, 0, 0],
        kind=[KindCode.PERPETUAL, KindCode.FUTURE, KindCode.OPTION, KindCode.PERPETUAL],
        size=[30_000.0, -12_000.0, -5.0, 2.0],
        is_inverse=[True, True, True, False],
        amount_is_usd=[True, True, False, False],
        is_call=[False, False, True, False],
        strike_usd=[np.nan, np.nan, F, np.nan],
        expiry_ms=[NO_EXPIRY_MS, T0_MS + 90 * MS_PER_DAY, T0_MS + 30 * MS_PER_DAY, NO_EXPIRY_MS],
        mark_iv=0.6,
        index_usd=[F],
    )
    fwd = [F, 1.2 * F, F, F]
    res = portfolio_margin(t, forward_usd=fwd, valuation_ts_ms=T0_MS)
    # 30,000/60,000 + 12,000/72,000 = 0.5 + 0.1667 BTC; the linear perp 2 BTC × 60,000 USD.
    np.testing.assert_allclose(res.roll_shock_coin[:, 0], [0.01 * (0.5 + 1 / 6), 0.0])
    np.testing.assert_allclose(res.roll_shock_usd[:, 0], [0.0, 0.01 * 2 * F])
    worst = res.loss_coin.max(axis=0)[0, 0]
    assert res.margin.initial_coin[0, 0] == pytest.approx(worst + 0.01 * (0.5 + 1 / 6))


def test_inverse_future_extended_cells_count_the_edge_pnl() -> None:
    """A large inverse perp: −66 %/−33 % count the −16 % P&L, never more than the standard table."""
    t = PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0],
        kind=[KindCode.PERPETUAL],
        size=[60_000_000.0],  # 1,000 BTC, far beyond the 1.67 BTC dampener
        is_inverse=True,
        amount_is_usd=True,
        expiry_ms=NO_EXPIRY_MS,
        index_usd=[F],
    )
    res = portfolio_margin(t, forward_usd=F, valuation_ts_ms=T0_MS)
    edge = -1_000.0 * 0.16 / 0.84
    np.testing.assert_allclose(res.pnl_coin[27:29, 0, 0], edge)
    assert res.loss_coin[:, 0, 0].max() == pytest.approx(-edge)
    assert res.margin.initial_coin[0, 0] == pytest.approx(-edge + 10.0)  # + 1 % roll shock


def test_linear_options_use_the_usd_dampener() -> None:
    """10 short USD-settled 150k calls: +300 % counts 10·ΔB·0.16/3 less Deribit's 25,000 USD."""
    t = PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0],
        kind=[KindCode.OPTION],
        size=[-10.0],
        is_inverse=False,
        amount_is_usd=False,
        is_call=True,
        strike_usd=[150_000.0],
        expiry_ms=T0_MS + 30 * MS_PER_DAY,
        mark_iv=0.6,
        index_usd=[F],
    )
    res = portfolio_margin(t, forward_usd=F, valuation_ts_ms=T0_MS)
    base = F * _call_coin(F, 150_000.0, 30, 0.6)
    ext = {
        m: 10.0 * ((1 + m) * F * _call_coin((1 + m) * F, 150_000.0, 30, 0.9) - base) * 0.16 / m
        - 25_000.0
        for m in (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
    }
    worst = max(ext.values())
    assert worst > 0 and worst > res.loss_usd[:27, 0, 0].max()
    assert res.margin.initial_usd[0, 0] == pytest.approx(worst, rel=1e-9)


# Deribit API reference, private/pme/simulate, response example (BTC, 2024-06-17):
# https://docs.deribit.com/api-reference/account-management/private-simulate
PME_TS_MS = 1_718_619_740_501
PME_INDEX = 65_666.19
PME_PERP = (0.314538364, 65_910.57)  # position (BTC), mark (USD)
PME_FUT = (-0.001187534, 67_371.75, 1_719_561_600_000)  # BTC-28JUN24, expiry 08:00 UTC
PME_PERP_BUCKETS = (
    -0.05991206933333334,
    -0.04289159509090909,
    -0.027351162086956524,
    -0.013105765166666668,
    0.0,
    0.012097629384615385,
    0.023299138074074074,
    0.033700538999999995,
    0.043384601931034494,
)
PME_FUT_BUCKETS = (
    0.0002261969523809524,
    0.00016193645454545456,
    0.00010326382608695652,
    0.00004948058333333334,
    0.0,
    -0.00004567438461538462,
    -0.00008796548148148148,
    -0.0001272357857142857,
    -0.00016379779310344832,
)
PME_PERP_EXT = (-0.05991206933333334,) * 2 + (0.04338460193103449,) * 6
PME_FUT_EXT = (0.0002261969523809524,) * 2 + (-0.0001637977931034483,) * 6
PME_AGG_BUCKETS = (
    -0.05968587238095239,
    -0.04272965863636364,
    -0.02724789826086957,
    -0.013056284583333334,
) + (0.0,) * 5
PME_WORST_CASE = 0.05968587238095239
PME_ROLL_SHOCK = 0.00315725898
PME_RISK_MATRIX_MARGIN = 0.06284313098
PME_MMP_MARGIN = 0.06
PME_OPEN_ORDERS_MARGIN = 0.000018212
PME_INITIAL_MARGIN = 0.122861343
PME_MAINTENANCE_MARGIN = 0.050274504784


def _pme_book(which: tuple[int, ...] = (0, 1)) -> PositionTable:
    """The published book: sizes in USD (coin × mark) so that revaluation sees the coin amounts."""
    rows = [
        (PME_PERP[0] * PME_PERP[1], KindCode.PERPETUAL, NO_EXPIRY_MS, PME_PERP[1]),
        (PME_FUT[0] * PME_FUT[1], KindCode.FUTURE, PME_FUT[2], PME_FUT[1]),
    ]
    picked = [rows[i] for i in which]
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0] * len(picked),
        kind=[r[1] for r in picked],
        size=[r[0] for r in picked],
        is_inverse=True,
        amount_is_usd=True,
        expiry_ms=[r[2] for r in picked],
        mark_price=[r[3] for r in picked],
        index_usd=[PME_INDEX],
    )


def _pme_margin(which: tuple[int, ...] = (0, 1)) -> PortfolioMargin:
    book = _pme_book(which)
    return portfolio_margin(book, forward_usd=book.mark_price, valuation_ts_ms=PME_TS_MS)


def test_deribit_published_pme_simulate_example() -> None:
    """Deribit's pme/simulate API-reference example: vectors, worst case, IM and MM to 1e-8."""
    for i, buckets, ext in ((0, PME_PERP_BUCKETS, PME_PERP_EXT), (1, PME_FUT_BUCKETS, PME_FUT_EXT)):
        vector = _pme_margin((i,)).pnl_coin[:, 0, 0]
        np.testing.assert_allclose(vector[:27], np.repeat(buckets, 3), rtol=0, atol=1e-8)
        np.testing.assert_allclose(vector[27:], ext, rtol=0, atol=1e-8)
    res = _pme_margin()
    aggregated = -res.loss_coin[:, 0, 0]
    np.testing.assert_allclose(aggregated[:27], np.repeat(PME_AGG_BUCKETS, 3), rtol=0, atol=1e-8)
    np.testing.assert_allclose(aggregated[27:], 0.0, rtol=0, atol=1e-8)
    worst = int(np.argmax(res.loss_coin[:, 0, 0]))
    assert not res.scenarios.extended[worst] and res.scenarios.move_frac[worst] == -0.16
    assert res.loss_coin[1, 0, 0] == pytest.approx(PME_WORST_CASE, rel=0, abs=1e-8)
    assert res.roll_shock_coin[0, 0] == pytest.approx(PME_ROLL_SHOCK, rel=0, abs=1e-8)
    im = res.margin.initial_coin[0, 0]
    assert im == pytest.approx(PME_RISK_MATRIX_MARGIN, rel=0, abs=1e-8)
    assert res.margin.maintenance_coin[0, 0] == pytest.approx(PME_MAINTENANCE_MARGIN, abs=1e-8)
    # Deribit's initial_margin adds MMP and open-order margin, which no position implies.
    published_im = im + PME_MMP_MARGIN + PME_OPEN_ORDERS_MARGIN
    assert published_im == pytest.approx(PME_INITIAL_MARGIN, rel=0, abs=1e-8)
