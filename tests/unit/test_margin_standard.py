"""Deribit standard margin: the venue's worked examples, per-position and per-account sums."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.domain.margin.standard import (
    StandardParams,
    future_margin_rates,
    short_option_margin,
    standard_margin,
)
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _call_usd(f: float, k: float, tau: float, vol: float) -> float:
    sd = vol * math.sqrt(tau)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    return f * _cdf(d1) - k * _cdf(d1 - sd)


def test_short_call_example() -> None:
    """Short 70,000 call, F 60,000, mark 0.01 BTC: IM 0.11 BTC, MM 0.085 BTC (Deribit rule)."""
    im, mm = short_option_margin(True, 70_000.0, 60_000.0, 0.01)
    assert float(im) == pytest.approx(0.11)
    assert float(mm) == pytest.approx(0.085)


def test_short_put_otm_and_itm() -> None:
    """Puts: OTM 50k put IM 0.105/MM 0.08; ITM 70k put at mark 0.2 IM 0.35/MM 0.275."""
    im, mm = short_option_margin([False, False], [50_000.0, 70_000.0], 60_000.0, [0.005, 0.2])
    np.testing.assert_allclose(im, [0.105, 0.35])
    np.testing.assert_allclose(mm, [0.08, 0.275])


def test_future_rates_example() -> None:
    """A 25 BTC future: IM 2.125 %, MM 1.125 % of notional (Deribit, f = 0.005 %)."""
    im, mm = future_margin_rates(-25.0, 0.00005)
    assert float(im) == pytest.approx(0.02125)
    assert float(mm) == pytest.approx(0.01125)


def _book() -> PositionTable:
    """Short 2 BTC 70k calls, long 3 puts, a 25 BTC inverse perp and a 100k USDT linear perp."""
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        venues=["deribit", "binance"],
        venue_idx=[0, 0, 0, 1],
        underlying_idx=[0, 0, 0, 0],
        kind=[KindCode.OPTION, KindCode.OPTION, KindCode.PERPETUAL, KindCode.PERPETUAL],
        size=[-2.0, 3.0, -1_500_000.0, 100_000.0 / 60_000.0],
        is_inverse=[True, True, True, False],
        amount_is_usd=[False, False, True, False],
        is_call=[True, False, False, False],
        strike_usd=[70_000.0, 50_000.0, np.nan, np.nan],
        expiry_ms=[T0_MS + 30 * MS_PER_DAY, T0_MS + 30 * MS_PER_DAY, NO_EXPIRY_MS, NO_EXPIRY_MS],
        mark_iv=[0.6, 0.6, np.nan, np.nan],
        index_usd=[60_000.0],
    )


def test_account_sums() -> None:
    """Per venue: short calls at Black mark + perp 2.125 %/1.125 %; linear tier 1,000/450 USD."""
    res = standard_margin(_book(), forward_usd=60_000.0, valuation_ts_ms=T0_MS)
    mark = _call_usd(60_000.0, 70_000.0, 30 / 365, 0.6) / 60_000.0
    im_c, mm_c = max(0.15 - 10_000 / 60_000, 0.1) + mark, 0.075 + mark
    assert res.initial_coin[0, 0] == pytest.approx(2 * im_c + 0.53125)
    assert res.maintenance_coin[0, 0] == pytest.approx(2 * mm_c + 0.28125)
    assert res.initial_usd[1, 0] == pytest.approx(1_000.0)
    assert res.maintenance_usd[1, 0] == pytest.approx(450.0)
    assert res.initial_coin[1, 0] == 0.0 and res.initial_usd[0, 0] == 0.0
    assert res.maintenance_total_usd == pytest.approx([(2 * mm_c + 0.28125) * 60_000.0, 450.0])


def test_size_factor_from_params() -> None:
    """An underlying missing from size_factor gets f = 0: a flat 1 % MM."""
    res = standard_margin(
        _book(), forward_usd=60_000.0, valuation_ts_ms=T0_MS, params=StandardParams(size_factor={})
    )
    mark = _call_usd(60_000.0, 70_000.0, 30 / 365, 0.6) / 60_000.0
    assert res.maintenance_coin[0, 0] == pytest.approx(2 * (0.075 + mark) + 0.25)
