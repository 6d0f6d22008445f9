"""The no-trade band each banded kernel reports: in coin of total delta, and the one it trades on.

Worked examples: Whalley-Wilmott's H = 0.41602 coin (tests/unit/test_strategy_whalley_wilmott.py)
is the band ±0.41602 around a target of 0. Zakamouline's short call (its test module) measures
δ_m = -0.57605 against a net delta of -0.55962 with H = 0.05383: the band on the total delta is
centred on 0 + (-0.55962) - (-0.57605) = +0.01643, so [-0.03740, +0.07026].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from strategies.band import Band, BandParams
from strategies.base import (
    BandedStrategy,
    HedgeState,
    ScheduledStrategy,
    band_edges,
    due_after_s,
)
from strategies.interval import Interval, IntervalParams
from strategies.whalley_wilmott import WhalleyWilmott, WhalleyWilmottParams
from strategies.zakamouline import Zakamouline, ZakamoulineParams


def _state(**overrides: Any) -> HedgeState:
    given: dict[str, Any] = {
        "spot_usd": 60_000.0,
        "net_delta_coin": -1.0,
        "gamma_coin_per_usd": -0.0004,
        "hedge_coin": 0.0,
        "sigma": 0.6,
        "tau_years": 30 / 365,
        "cost_frac": 0.0005,
        "time_since_hedge_s": 0.0,
    }
    return HedgeState.from_arrays(**{**given, **overrides})


def _edges(strategy: BandedStrategy, state: HedgeState) -> tuple[float, float]:
    band = strategy.band(state)
    return float(band.lower_coin[()]), float(band.upper_coin[()])


class TestReportedBand:
    def test_whalley_wilmott_is_target_plus_minus_h(self) -> None:
        """WW's band is the target ± H: ±0.41602 coin in the worked example, moved by a target."""
        ww = WhalleyWilmott(WhalleyWilmottParams(risk_aversion=1e-4))
        np.testing.assert_allclose(_edges(ww, _state()), (-0.41602, 0.41602), atol=1e-5)
        moved = _edges(ww, _state(target_delta_coin=0.5))
        np.testing.assert_allclose(moved, (0.08398, 0.91602), atol=1e-5)

    def test_zakamouline_is_moved_by_the_vol_adjusted_delta(self) -> None:
        """Zakamouline's short-call band on the total delta is [-0.03740, +0.07026] coin."""
        zak = Zakamouline(ZakamoulineParams(risk_aversion=1.0))
        state = _state(
            spot_usd=100.0,
            net_delta_coin=-0.559617692,
            gamma_coin_per_usd=-0.013149311,
            vanna_coin_per_vol=-0.197239665,
            sigma=0.3,
            tau_years=1.0,
            cost_frac=0.02,
        )
        np.testing.assert_allclose(_edges(zak, state), (-0.03740, 0.07026), atol=1e-5)

    def test_usd_band_is_in_coin_at_spot(self) -> None:
        """Band widths of 3,000 up and 1,500 USD down at 60,000 USD are [-0.025, +0.05] coin."""
        band = Band(BandParams(width_up=3000.0, width_down=1500.0, unit="usd"))
        np.testing.assert_allclose(_edges(band, _state()), (-0.025, 0.05), atol=1e-15)

    def test_ignore_vol_moves_moves_the_band_by_the_vol_only_delta(self) -> None:
        """Net 10, measured 9.5 with vols frozen, widths 1 up and 2 down: [-1.5, +1.5] coin."""
        band = Band(BandParams(width_up=1.0, width_down=2.0, ignore_vol_moves=True))
        state = _state(net_delta_coin=10.0, net_delta_fixed_vol_coin=9.5)
        assert _edges(band, state) == (-1.5, 1.5)

    def test_interval_has_no_band(self) -> None:
        """The interval strategy trades on time, not on a band, and says so by having none."""
        assert not isinstance(Interval(IntervalParams(interval_s=60.0)), BandedStrategy)

    def test_band_kernels_are_due_at_every_step(self) -> None:
        """A band kernel reads delta at every step: it names no wait (due_after_s 0)."""
        band = Band(BandParams(width_up=1.0, width_down=1.0))
        assert not isinstance(band, ScheduledStrategy)
        assert due_after_s(band) == 0.0


@pytest.mark.parametrize(
    "strategy",
    [
        Band(BandParams(width_up=0.3, width_down=0.1, rehedge_to="edge")),
        Band(BandParams(width_up=2000.0, width_down=4000.0, unit="usd", ignore_vol_moves=True)),
        WhalleyWilmott(WhalleyWilmottParams(risk_aversion=1e-4)),
        Zakamouline(ZakamoulineParams(risk_aversion=1e-3)),
    ],
    ids=["band", "band-usd-vol", "whalley_wilmott", "zakamouline"],
)
def test_a_kernel_keeps_its_hedge_exactly_inside_the_band_it_reports(
    strategy: BandedStrategy,
) -> None:
    """Over many books, the hedge is kept if and only if the total delta is inside the band."""
    rng = np.random.default_rng(7)
    n = 2000
    state = _state(
        net_delta_coin=rng.normal(0.0, 1.0, n),
        net_delta_fixed_vol_coin=rng.normal(0.0, 1.0, n),
        vanna_coin_per_vol=rng.normal(0.0, 0.5, n),
        hedge_coin=rng.normal(0.0, 1.0, n),
        target_delta_coin=rng.normal(0.0, 0.2, n),
    )
    band = strategy.band(state)
    total = state.net_delta_coin + state.hedge_coin
    inside = (band.lower_coin <= total) & (total <= band.upper_coin)
    kept = strategy.target_hedge(state) == state.hedge_coin
    margin = np.minimum(np.abs(total - band.lower_coin), np.abs(total - band.upper_coin))
    clear = margin > 1e-9  # rounding decides the books exactly on an edge
    assert inside.any() and (~inside).any()
    np.testing.assert_array_equal(kept[clear], inside[clear])


def test_band_edges_moves_the_deviation_band_onto_the_total() -> None:
    """band_edges' docstring example: target 0, net 10, measured 9.5, widths 1/2: [-1.5, 1.5]."""
    edges = band_edges(_state(net_delta_coin=10.0), np.asarray(9.5), 1.0, 2.0)
    assert (float(edges.lower_coin), float(edges.upper_coin)) == (-1.5, 1.5)
