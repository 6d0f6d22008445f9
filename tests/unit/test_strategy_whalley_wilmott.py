"""Whalley-Wilmott: the half-width formula on a worked example, and hedging to its edge.

Worked example, by hand (a BTC book short about ten ATM 30-day options):
Γ = -0.0004 coin per USD, S = 60,000 USD, λ = 0.0005, γ = 1e-4 per USD, r = 0:
H³ = 1.5 × 1 × 0.0005 × 60,000 × (0.0004)² / 1e-4 = 45 × 1.6e-7 / 1e-4 = 0.072,
H = 0.072^(1/3) = 0.41602 coin (0.41602³ = 0.072000).
With r = 0.05 and τ = 1: H = 0.41602 × e^(-0.05/3) = 0.41602 × 0.98347 = 0.40914 coin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from strategies.base import HedgeState
from strategies.whalley_wilmott import (
    WhalleyWilmott,
    WhalleyWilmottParams,
    whalley_wilmott_half_width_coin,
)

H_EXAMPLE = 0.41602


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


def _ww(risk_aversion: float = 1e-4) -> WhalleyWilmott:
    return WhalleyWilmott(WhalleyWilmottParams(risk_aversion=risk_aversion))


def _half_width(**overrides: float) -> float:
    args = {
        "gamma_coin_per_usd": -0.0004,
        "spot_usd": 60_000.0,
        "cost_frac": 0.0005,
        "rate": 0.0,
        "tau_years": 1.0,
        "risk_aversion_per_usd": 1e-4,
        **overrides,
    }
    return float(whalley_wilmott_half_width_coin(**args))


def test_half_width_matches_the_worked_example() -> None:
    """H = 0.41602 coin at r = 0, and 0.40914 coin with e^(-rτ) at r = 5%, τ = 1."""
    assert _half_width() == pytest.approx(H_EXAMPLE, abs=5e-6)
    assert _half_width(rate=0.05) == pytest.approx(0.40914, abs=5e-6)


def test_half_width_scales_as_the_formula_says() -> None:
    """H goes as Γ^(2/3), (λ·S)^(1/3) and γ^(-1/3), and ignores the sign of Γ."""
    h = _half_width()
    assert _half_width(gamma_coin_per_usd=-0.0008) == pytest.approx(h * 2 ** (2 / 3), rel=1e-12)
    assert _half_width(gamma_coin_per_usd=0.0004) == pytest.approx(h, rel=1e-12)
    assert _half_width(cost_frac=0.004) == pytest.approx(h * 2, rel=1e-12)
    assert _half_width(spot_usd=480_000.0) == pytest.approx(h * 2, rel=1e-12)
    assert _half_width(risk_aversion_per_usd=8e-4) == pytest.approx(h / 2, rel=1e-12)
    assert _half_width(gamma_coin_per_usd=0.0) == 0.0


def test_hedges_to_the_edge_of_the_worked_example_band() -> None:
    """Net delta -1, no hedge: the deviation is below -H, so the hedge becomes 1 - H."""
    out = _ww().target_hedge(_state())
    np.testing.assert_allclose(out, [1.0 - H_EXAMPLE], atol=5e-6)


def test_inside_the_band_keeps_the_hedge_exactly() -> None:
    """Deviations of -0.4 and +0.416 (|dev| < H) are left alone, bit for bit."""
    state = _state(net_delta_coin=[-0.9, 0.416], hedge_coin=[0.5, 0.0])
    np.testing.assert_array_equal(_ww().target_hedge(state), [0.5, 0.0])


def test_zero_gamma_means_a_zero_band() -> None:
    """Without gamma the delta cannot drift, so any deviation is hedged fully."""
    out = _ww().target_hedge(_state(gamma_coin_per_usd=0.0, net_delta_coin=0.01))
    np.testing.assert_allclose(out, [-0.01], atol=1e-15)


def test_band_is_centred_on_each_books_target() -> None:
    """With target +2 and net delta +1 the deviation is -1: hedged to -H from the target."""
    state = _state(net_delta_coin=1.0, target_delta_coin=[2.0, 0.0])
    out = _ww().target_hedge(state)
    np.testing.assert_allclose(out, [1.0 - H_EXAMPLE, -(1.0 - H_EXAMPLE)], atol=5e-6)


@pytest.mark.parametrize(
    "bad",
    [
        {"spot_usd": 0.0},
        {"cost_frac": -1e-4},
        {"tau_years": np.nan},
        {"gamma_coin_per_usd": np.inf},
    ],
)
def test_unusable_inputs_keep_the_hedge(bad: dict[str, float]) -> None:
    """Spot <= 0, negative cost, NaN tau or infinite gamma: the element does not trade."""
    np.testing.assert_array_equal(_ww().target_hedge(_state(hedge_coin=0.25, **bad)), [0.25])


def test_risk_aversion_must_be_positive() -> None:
    """risk_aversion is required and > 0."""
    for bad in ({}, {"risk_aversion": 0.0}, {"risk_aversion": -1.0}):
        with pytest.raises(ValidationError, match="risk_aversion"):
            WhalleyWilmottParams.model_validate(bad)
