"""HedgeState validation and defaults, and the shared band and guard helpers."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_args

import numpy as np
import pytest

from strategies.base import HedgeState, StateField, band_hedge, guarded_hedge


def _state(**overrides: Any) -> HedgeState:
    given: dict[str, Any] = {
        "spot_usd": [60_000.0, 61_000.0],
        "net_delta_coin": [1.0, -2.0],
        "gamma_coin_per_usd": -1e-4,
        "hedge_coin": [0.5, 0.0],
        "sigma": 0.6,
        "tau_years": 0.1,
        "cost_frac": 5e-4,
        "time_since_hedge_s": 60.0,
    }
    return HedgeState.from_arrays(**{**given, **overrides})


def _fields(state: HedgeState) -> dict[str, Any]:
    return {f.name: getattr(state, f.name) for f in fields(state)}


def test_state_field_names_every_field() -> None:
    """StateField (what kernels declare they read) lists exactly the HedgeState fields."""
    assert set(get_args(StateField)) == {f.name for f in fields(HedgeState)}


def test_from_arrays_fills_not_tracked_defaults() -> None:
    """Optional fields default to 'not tracked': fixed-vol delta = delta, Greeks, target, rate 0."""
    state = _state()
    np.testing.assert_array_equal(state.net_delta_fixed_vol_coin, [1.0, -2.0])
    for name in ("vanna_coin_per_vol", "vega_usd_per_volpt", "theta_usd_per_day"):
        np.testing.assert_array_equal(getattr(state, name), [0.0, 0.0])
    np.testing.assert_array_equal(state.target_delta_coin, [0.0, 0.0])
    np.testing.assert_array_equal(state.rate, [0.0, 0.0])


def test_from_arrays_broadcasts_scalars_to_one_float64_shape() -> None:
    """Scalars broadcast to the common shape and every field becomes float64."""
    state = _state(net_delta_fixed_vol_coin=3, target_delta_coin=[1, 2])
    assert state.shape == (2,)
    for name, arr in _fields(state).items():
        assert arr.dtype == np.float64, name
        assert arr.shape == (2,), name
    np.testing.assert_array_equal(state.gamma_coin_per_usd, [-1e-4, -1e-4])
    np.testing.assert_array_equal(state.net_delta_fixed_vol_coin, [3.0, 3.0])


def test_from_arrays_rejects_shapes_that_do_not_broadcast() -> None:
    """Fields of incompatible shapes give an error listing each field's shape."""
    with pytest.raises(ValueError, match=r"do not broadcast.*hedge_coin \(3,\)"):
        _state(hedge_coin=[0.0, 1.0, 2.0])


def test_fields_are_read_only() -> None:
    """A strategy cannot write into the state it was given."""
    state = _state()
    with pytest.raises(ValueError, match="read-only"):
        state.spot_usd[0] = 1.0


def test_constructor_rejects_a_field_of_another_shape_by_name() -> None:
    """A field whose shape differs from spot_usd is named in the error."""
    given = _fields(_state())
    given["sigma"] = np.array([0.6, 0.6, 0.6])
    with pytest.raises(ValueError, match=r"HedgeState\.sigma has shape \(3,\)"):
        HedgeState(**given)


def test_constructor_rejects_a_non_float64_field_by_name() -> None:
    """A list or an integer array is rejected with the field's name and what was given."""
    given = _fields(_state())
    with pytest.raises(
        TypeError, match=r"HedgeState\.rate must be a float64 numpy array, got list"
    ):
        HedgeState(**{**given, "rate": [0.0, 0.0]})
    with pytest.raises(TypeError, match=r"HedgeState\.cost_frac .* got int64"):
        HedgeState(**{**given, "cost_frac": np.array([0, 0])})


def test_constructor_rejects_an_unknown_hedge() -> None:
    """A NaN current hedge is refused: keeping it could not mean 'don't trade'."""
    with pytest.raises(ValueError, match=r"hedge_coin is not finite at index \(1,\)"):
        _state(hedge_coin=[0.0, np.nan])


def test_for_hedge_swaps_the_hedge_and_its_clock_and_shares_the_rest() -> None:
    """for_hedge: the new hedge and clock, read-only; every other field the same array."""
    state = _state()
    other = state.for_hedge(np.array([2.0, -1.0]), np.array([5.0, 7.0]))
    np.testing.assert_array_equal(other.hedge_coin, [2.0, -1.0])
    np.testing.assert_array_equal(other.time_since_hedge_s, [5.0, 7.0])
    assert other.spot_usd is state.spot_usd and other.sigma is state.sigma
    with pytest.raises(ValueError, match="read-only"):
        other.hedge_coin[0] = 1.0


def test_for_hedge_checks_the_two_new_fields() -> None:
    """for_hedge refuses a NaN hedge, another shape or dtype, as the constructor does."""
    state = _state()
    with pytest.raises(ValueError, match=r"hedge_coin is not finite at index \(0,\)"):
        state.for_hedge(np.array([np.nan, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"time_since_hedge_s has shape \(3,\)"):
        state.for_hedge(np.array([0.0, 0.0]), np.ones(3))
    with pytest.raises(TypeError, match=r"hedge_coin .* got int64"):
        state.for_hedge(np.array([0, 0]), np.array([1.0, 1.0]))


def test_usable_checks_finiteness_and_domain_of_the_fields_read() -> None:
    """Only the listed fields count; spot and sigma must be > 0, tau and cost >= 0."""
    state = _state(
        spot_usd=[60_000.0, 0.0, 60_000.0, 60_000.0],
        sigma=[0.6, 0.6, np.inf, 0.6],
        tau_years=[0.0, 0.1, 0.1, -1e-9],
        hedge_coin=0.0,
        net_delta_coin=0.0,
    )
    np.testing.assert_array_equal(state.usable(["spot_usd"]), [True, False, True, True])
    np.testing.assert_array_equal(state.usable(["sigma"]), [True, True, False, True])
    np.testing.assert_array_equal(state.usable(["tau_years"]), [True, True, True, False])
    np.testing.assert_array_equal(state.usable(["net_delta_coin"]), [True] * 4)


def test_band_hedge_docstring_example() -> None:
    """Band [-1, +2], deviation +5, hedge 10: 7 to the edge, 5 to the centre."""
    hedge, dev = np.array([10.0]), np.array([5.0])
    np.testing.assert_array_equal(
        band_hedge(hedge, dev, 2.0, 1.0, to_edge=True, hedge_ratio=1.0), [7.0]
    )
    np.testing.assert_array_equal(
        band_hedge(hedge, dev, 2.0, 1.0, to_edge=False, hedge_ratio=1.0), [5.0]
    )


def test_band_hedge_keeps_the_hedge_bit_for_bit_inside_and_on_the_edges() -> None:
    """Deviations in [-down, +up] return the hedge unchanged, for edge and centre anchors."""
    hedge = np.array([0.1, -0.3, 7.7, 1e-17])
    dev = np.array([-1.0, 0.0, 2.0, 1.5])
    for to_edge in (True, False):
        out = band_hedge(hedge, dev, 2.0, 1.0, to_edge=to_edge, hedge_ratio=1.5)
        np.testing.assert_array_equal(out, hedge)


def test_band_hedge_ratio_scales_the_correction() -> None:
    """The hedge moves by ratio x (anchor - deviation): 0, 1 and 1.5 below the lower edge."""
    hedge, dev = np.array([0.0]), np.array([-3.0])  # lower edge -1: correction +2 / +3
    for ratio, edge, centre in ((0.0, 0.0, 0.0), (1.0, 2.0, 3.0), (1.5, 3.0, 4.5)):
        out_edge = band_hedge(hedge, dev, 2.0, 1.0, to_edge=True, hedge_ratio=ratio)
        out_centre = band_hedge(hedge, dev, 2.0, 1.0, to_edge=False, hedge_ratio=ratio)
        np.testing.assert_allclose(out_edge, [edge], rtol=0, atol=1e-15)
        np.testing.assert_allclose(out_centre, [centre], rtol=0, atol=1e-15)


def test_band_hedge_takes_per_element_widths() -> None:
    """Array widths apply element by element (as USD widths converted at each spot do)."""
    hedge = np.zeros(2)
    dev = np.array([1.5, 1.5])
    out = band_hedge(
        hedge, dev, np.array([1.0, 2.0]), np.array([1.0, 2.0]), to_edge=True, hedge_ratio=1.0
    )
    np.testing.assert_array_equal(out, [-0.5, 0.0])


def test_guarded_hedge_keeps_the_hedge_where_inputs_or_result_are_bad() -> None:
    """A NaN read field or a non-finite result (overflow) keeps the current hedge."""
    state = _state(net_delta_coin=[np.nan, 1.0], hedge_coin=[0.5, 0.25])
    out = guarded_hedge(state, ["net_delta_coin"], np.array([9.0, np.inf]))
    np.testing.assert_array_equal(out, [0.5, 0.25])
    ok = guarded_hedge(_state(), ["net_delta_coin"], np.array([9.0, 8.0]))
    np.testing.assert_array_equal(ok, [9.0, 8.0])


def test_guarded_hedge_and_state_checks_accept_finite_values_near_the_float_limit() -> None:
    """Finite fields near the float limit (their sum would overflow) are usable and kept."""
    big = [1e308, 1e308]
    state = _state(net_delta_coin=big, hedge_coin=big)
    out = guarded_hedge(state, ["net_delta_coin"], np.array(big))
    np.testing.assert_array_equal(out, big)
    assert state.for_hedge(np.array(big), np.array([0.0, 0.0])).hedge_coin[0] == 1e308


def test_guarded_hedge_keeps_the_hedge_where_a_domain_is_left() -> None:
    """A finite but non-positive spot keeps the current hedge on that element only."""
    state = _state(spot_usd=[0.0, 100.0], hedge_coin=[0.5, 0.25])
    out = guarded_hedge(state, ["spot_usd"], np.array([9.0, 8.0]))
    np.testing.assert_array_equal(out, [0.5, 8.0])
