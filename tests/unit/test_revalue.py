"""Full revaluation: inverse/linear P&L by hand, coin equity in USD, vol shocks, grouping."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from bot.domain import revalue as rv
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _call_usd(f: float, k: float, tau: float, vol: float) -> float:
    sd = vol * math.sqrt(tau)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    return f * _cdf(d1) - k * _cdf(d1 - sd)


def _perp(size_usd: float) -> PositionTable:
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0],
        kind=[KindCode.PERPETUAL],
        size=[size_usd],
        is_inverse=True,
        amount_is_usd=True,
        index_usd=[50_000.0],
    )


def test_inverse_perp_example() -> None:
    """Long 10,000 USD at 50,000 moved +10 %: +0.0181818 BTC; with 1 BTC equity +6,000 USD."""
    res = rv.revalue(
        _perp(10_000.0),
        forward_usd=50_000.0,
        valuation_ts_ms=T0_MS,
        price_mult=[[1.1]],
        equity_coin=[[1.0]],
    )
    assert res.pnl_coin[0, 0, 0] == pytest.approx(10_000.0 * (1 / 50_000 - 1 / 55_000))
    assert res.equity_usd[0, 0, 0] == pytest.approx(6_000.0)
    assert res.pnl_usd[0, 0, 0] == 0.0


def _mixed() -> PositionTable:
    """Venue a: inverse BTC call (2 BTC); venue b: linear ETH call (−3) and linear ETH perp (5)."""
    return PositionTable.from_arrays(
        underlyings=["BTC", "ETH"],
        venues=["a", "b"],
        venue_idx=[0, 1, 1],
        underlying_idx=[0, 1, 1],
        kind=[KindCode.OPTION, KindCode.OPTION, KindCode.PERPETUAL],
        size=[2.0, -3.0, 5.0],
        is_inverse=[True, False, False],
        amount_is_usd=False,
        is_call=[True, True, False],
        strike_usd=[65_000.0, 3_200.0, np.nan],
        expiry_ms=[T0_MS + 30 * MS_PER_DAY, T0_MS + 60 * MS_PER_DAY, NO_EXPIRY_MS],
        mark_iv=[0.6, 0.7, np.nan],
        index_usd=[60_000.0, 3_000.0],
    )


def test_options_by_hand_and_grouping() -> None:
    """Scenario BTC −20 %/vol +10 pts, ETH +10 %: each cell equals the hand Black-76 P&L."""
    res = rv.revalue(
        _mixed(),
        forward_usd=[60_000.0, 3_000.0, 3_000.0],
        valuation_ts_ms=T0_MS,
        price_mult=[[0.8, 1.1]],
        vol_shift=[[0.1, 0.0]],
    )
    t30, t60 = 30 / 365, 60 / 365
    btc = 2 * (
        _call_usd(48_000.0, 65_000.0, t30, 0.7) / 48_000.0
        - _call_usd(60_000.0, 65_000.0, t30, 0.6) / 60_000.0
    )
    eth = -3 * (_call_usd(3_300.0, 3_200.0, t60, 0.7) - _call_usd(3_000.0, 3_200.0, t60, 0.7))
    eth += 5 * 300.0
    assert res.pnl_coin[0, 0, 0] == pytest.approx(btc, rel=1e-9)
    assert res.pnl_usd[0, 1, 1] == pytest.approx(eth, rel=1e-9)
    assert res.pnl_coin[0, 1].sum() == 0.0 and res.pnl_usd[0, 0].sum() == 0.0
    assert res.equity_usd[0, 0, 0] == pytest.approx(48_000.0 * btc)
    assert res.venue_equity_usd[0] == pytest.approx([48_000.0 * btc, eth])


def test_relative_shift_and_floor() -> None:
    """Vol max(σ(1 + rel·w) + shift, floor): 0.6·(1 − 0.5·2) = 0 is floored at 0.2."""
    t = _mixed()
    kw: dict[str, Any] = {"forward_usd": [60_000.0, 3_000.0, 3_000.0], "valuation_ts_ms": T0_MS}
    floored = rv.revalue(
        t, price_mult=[[1.0, 1.0]], vol_shift_rel=-0.5, term_weight=2.0, vol_floor=0.2, **kw
    )
    t30 = 30 / 365
    moved = (
        2
        * (_call_usd(60_000.0, 65_000.0, t30, 0.2) - _call_usd(60_000.0, 65_000.0, t30, 0.6))
        / 60_000.0
    )
    assert floored.pnl_coin[0, 0, 0] == pytest.approx(moved, rel=1e-9)


def test_zero_scenario_is_zero() -> None:
    """No move and no vol shift: every change is exactly zero."""
    res = rv.revalue(
        _mixed(),
        forward_usd=[60_000.0, 3_000.0, 3_000.0],
        valuation_ts_ms=T0_MS,
        price_mult=np.ones((3, 2)),
        equity_coin={"a": {"BTC": 4.0}},
    )
    assert np.abs(res.equity_usd).max() == 0.0


def test_chunking_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny chunk size (one position per pass) gives the same arrays as one pass."""
    kw: dict[str, Any] = {
        "forward_usd": [60_000.0, 3_000.0, 3_000.0],
        "valuation_ts_ms": T0_MS,
        "price_mult": [[0.7, 1.3], [1.2, 0.9], [1.0, 1.0]],
        "vol_shift": 0.05,
    }
    one = rv.revalue(_mixed(), **kw)
    monkeypatch.setattr(rv, "CHUNK_ELEMENTS", 1)
    many = rv.revalue(_mixed(), **kw)
    np.testing.assert_allclose(many.equity_usd, one.equity_usd, rtol=1e-12)


def test_bad_forward_names_position() -> None:
    """A non-positive forward on a live position raises, naming it: never a silent zero."""
    with pytest.raises(ValueError, match="position 1"):
        rv.revalue(
            _mixed(),
            forward_usd=[60_000.0, 0.0, 3_000.0],
            valuation_ts_ms=T0_MS,
            price_mult=[[1.0, 1.0]],
        )
