"""Band strategy: no-trade band in coin or USD, asymmetric, edge or centre, ratio, vol filter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from strategies.band import Band, BandParams
from strategies.base import HedgeState


def _state(**overrides: Any) -> HedgeState:
    given: dict[str, Any] = {
        "spot_usd": 60_000.0,
        "net_delta_coin": 0.0,
        "gamma_coin_per_usd": 0.0,
        "hedge_coin": 0.0,
        "sigma": 0.6,
        "tau_years": 0.1,
        "cost_frac": 5e-4,
        "time_since_hedge_s": 0.0,
    }
    return HedgeState.from_arrays(**{**given, **overrides})


def _band(**params: Any) -> Band:
    return Band(BandParams.model_validate({"width_up": 1.0, "width_down": 1.0, **params}))


def test_inside_the_band_keeps_the_hedge_exactly() -> None:
    """Deviations within [-down, +up], edges included, return hedge_coin bit for bit."""
    hedge = np.array([0.3, -0.7, 0.1, 0.0])
    state = _state(net_delta_coin=np.array([0.0, 0.0, 1.9, -1.0]) - hedge, hedge_coin=hedge)
    out = _band(width_up=2.0, width_down=1.0).target_hedge(state)
    np.testing.assert_array_equal(out, hedge)


@pytest.mark.parametrize(
    ("rehedge_to", "expected"), [("center", [-3.0, 2.0]), ("edge", [-2.0, 1.0])]
)
def test_outside_the_band_rehedges_to_centre_or_edge(
    rehedge_to: str, expected: list[float]
) -> None:
    """Deviation +3 / -2 against a ±1 band: to the target (-3, +2) or to the edge (-2, +1)."""
    state = _state(net_delta_coin=[3.0, -2.0])
    np.testing.assert_allclose(
        _band(rehedge_to=rehedge_to).target_hedge(state), expected, atol=1e-15
    )


def test_asymmetric_widths_apply_to_their_own_side() -> None:
    """Band [-0.5, +2]: +1.5 is tolerated, -1.5 is hedged back to the -0.5 edge."""
    state = _state(net_delta_coin=[1.5, -1.5])
    out = _band(width_up=2.0, width_down=0.5, rehedge_to="edge").target_hedge(state)
    np.testing.assert_allclose(out, [0.0, 1.0], atol=1e-15)


def test_usd_widths_docstring_example() -> None:
    """3,000 / 1,500 USD at 60,000 USD is [-0.025, +0.05] coin: +0.1 goes to -0.2 or -0.15."""
    state = _state(net_delta_coin=0.2, hedge_coin=-0.1)
    usd = {"unit": "usd", "width_up": 3_000.0, "width_down": 1_500.0}
    np.testing.assert_allclose(_band(**usd).target_hedge(state), [-0.2], atol=1e-15)
    edge = _band(**usd, rehedge_to="edge").target_hedge(state)
    np.testing.assert_allclose(edge, [-0.15], atol=1e-15)


def test_usd_width_narrows_in_coin_as_spot_rises() -> None:
    """A 0.03 coin deviation fits a 3,000 USD band at 60,000 USD but not at 120,000 USD."""
    state = _state(spot_usd=[60_000.0, 120_000.0], net_delta_coin=0.03)
    out = _band(unit="usd", width_up=3_000.0, width_down=3_000.0).target_hedge(state)
    np.testing.assert_allclose(out, [0.0, -0.03], atol=1e-15)


@pytest.mark.parametrize(("ratio", "expected"), [(0.0, 0.0), (1.0, -3.0), (1.5, -4.5)])
def test_hedge_ratio_scales_the_correction(ratio: float, expected: float) -> None:
    """Deviation +3 to the centre: ratio 0 keeps, 1 corrects fully, 1.5 over-hedges to -1.5."""
    out = _band(hedge_ratio=ratio).target_hedge(_state(net_delta_coin=3.0))
    np.testing.assert_allclose(out, [expected], atol=1e-15)


def test_ignore_vol_moves_measures_with_the_fixed_vol_delta() -> None:
    """A vol-only delta move (fixed-vol delta flat) is ignored; a spot move is hedged on it."""
    state = _state(net_delta_coin=[2.5, 2.5], net_delta_fixed_vol_coin=[0.2, 1.6])
    plain = _band(rehedge_to="edge").target_hedge(state)
    filtered = _band(rehedge_to="edge", ignore_vol_moves=True).target_hedge(state)
    np.testing.assert_allclose(plain, [-1.5, -1.5], atol=1e-15)
    np.testing.assert_allclose(filtered, [0.0, -0.6], atol=1e-15)


def test_ignore_vol_moves_guards_the_fixed_vol_delta_it_reads() -> None:
    """With the filter on, a NaN fixed-vol delta stops the trade and a NaN plain delta does not."""
    filtered = _band(ignore_vol_moves=True)
    assert filtered.reads[0] == "net_delta_fixed_vol_coin"
    state = _state(net_delta_coin=[2.5, np.nan], net_delta_fixed_vol_coin=[np.nan, 2.5])
    np.testing.assert_allclose(filtered.target_hedge(state), [0.0, -2.5], atol=1e-15)


def test_each_book_is_banded_around_its_own_target() -> None:
    """The band sits around target_delta_coin: the same delta trades or not per target."""
    state = _state(net_delta_coin=[2.0, 2.0], target_delta_coin=[0.0, 1.5])
    out = _band().target_hedge(state)
    np.testing.assert_allclose(out, [-2.0, 0.0], atol=1e-15)


def test_bad_spot_keeps_the_hedge_only_for_usd_widths() -> None:
    """A NaN spot stops USD-width trading on that book; coin widths do not read spot."""
    state = _state(spot_usd=[np.nan, 60_000.0], net_delta_coin=3.0, hedge_coin=0.5)
    usd = _band(unit="usd", width_up=6_000.0, width_down=6_000.0).target_hedge(state)
    coin = _band().target_hedge(state)
    np.testing.assert_allclose(usd, [0.5, -3.0], atol=1e-15)
    np.testing.assert_allclose(coin, [-3.0, -3.0], atol=1e-15)


def test_params_are_validated() -> None:
    """Widths >= 0 and finite, unit and rehedge_to from their lists, ratio <= 1.5, no extras."""
    bad_params: list[dict[str, Any]] = [
        {"width_up": -0.1},
        {"width_down": float("nan")},
        {"unit": "eur"},
        {"rehedge_to": "middle"},
        {"hedge_ratio": 2.0},
        {"widths": 1.0},
    ]
    for bad in bad_params:
        with pytest.raises(ValidationError):
            BandParams.model_validate({"width_up": 1.0, "width_down": 1.0, **bad})
    with pytest.raises(ValidationError, match="width_down"):
        BandParams.model_validate({"width_up": 1.0})
    defaults = BandParams(width_up=1.0, width_down=2.0)
    assert (defaults.unit, defaults.rehedge_to, defaults.hedge_ratio) == ("coin", "center", 1.0)
    assert defaults.ignore_vol_moves is False
