"""Zakamouline: H0, H1 and K on a worked case, the vol-adjusted centre, and the edge cases.

Worked example, by hand (Sinclair's setting for Zakamouline's bands, "Volatility Trading"
p. 105: a one-year option, σ = 0.3, λ = 0.02, γ = 1, r = 0; at the money with S = K = 100,
so d1 = σ√τ/2 = 0.15):
Γ = φ(0.15) / (S·σ·√τ) = 0.39448 / 30 = 0.013149 per option; short one: Γ = -0.013149.
H0 = λ / (γ·S·σ²·τ) = 0.02 / (1 × 100 × 0.09 × 1) = 0.002222
H1 = 1.12 × 0.02^0.31 × 1^0.05 × (1/0.3)^0.25 × (0.013149/1)^0.5
   = 1.12 × 0.29739 × 1.35120 × 0.11467 = 0.05161
K  = -4.76 × 0.02^0.78 / 1^0.02 × (1/0.3)^0.25 × (1 × 100² × 0.013149)^0.15
   = -4.76 × 0.047294 × 1.35120 × 2.07891 = -0.6324
Short book: σ_m = 0.3 × √(1 + 0.6324) = 0.38329; long book: 0.3 × √(1 - 0.6324) = 0.18189.
Short call delta -N(0.15) = -0.55962; call vanna -φ(d1)·d2/σ = -0.39448 × (-0.15) / 0.3
= 0.19724, so the short book's is -0.19724 per 1.00 vol, and
δ_m = -0.55962 - 0.19724 × 0.08329 = -0.57605; the half-width is H0 + H1 = 0.05383.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bot.pricing import black_scholes
from strategies.base import HedgeState
from strategies.zakamouline import (
    Zakamouline,
    ZakamoulineParams,
    modified_sigma,
    zakamouline_terms,
)

GAMMA_SHORT_CALL = -0.013149311
DELTA_SHORT_CALL = -0.559617692
VANNA_SHORT_CALL = -0.197239665


def _terms(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "gamma_coin_per_usd": GAMMA_SHORT_CALL,
        "spot_usd": 100.0,
        "sigma": 0.3,
        "tau_years": 1.0,
        "rate": 0.0,
        "cost_frac": 0.02,
        "risk_aversion_per_usd": 1.0,
        **overrides,
    }
    return zakamouline_terms(**args)


def _state(**overrides: Any) -> HedgeState:
    given: dict[str, Any] = {
        "spot_usd": 100.0,
        "net_delta_coin": DELTA_SHORT_CALL,
        "gamma_coin_per_usd": GAMMA_SHORT_CALL,
        "vanna_coin_per_vol": VANNA_SHORT_CALL,
        "hedge_coin": 0.5,
        "sigma": 0.3,
        "tau_years": 1.0,
        "cost_frac": 0.02,
        "time_since_hedge_s": 0.0,
    }
    return HedgeState.from_arrays(**{**given, **overrides})


def _zak(**params: Any) -> Zakamouline:
    return Zakamouline(ZakamoulineParams.model_validate({"risk_aversion": 1.0, **params}))


def test_terms_match_the_worked_example() -> None:
    """H0 = 0.002222, H1 = 0.05161, K = -0.6324 for the one-year ATM call."""
    terms = _terms()
    assert float(terms.h0_coin) == pytest.approx(0.0022222, abs=1e-7)
    assert float(terms.h1_coin) == pytest.approx(0.05161, abs=1e-5)
    assert float(terms.k) == pytest.approx(-0.6324, abs=1e-4)


def test_modified_sigma_rises_for_short_gamma_and_falls_for_long() -> None:
    """σ_m = 0.38329 short, 0.18189 long, σ itself without gamma."""
    k = float(_terms().k)
    out = modified_sigma(0.3, k, np.array([-1.0, 1.0, 0.0]))
    np.testing.assert_allclose(out, [0.38329, 0.18189, 0.3], atol=1e-5)


def test_modified_variance_is_floored_at_zero() -> None:
    """A long book with K < -1 (outside the fit) gets σ_m = 0, not NaN."""
    np.testing.assert_array_equal(modified_sigma(0.3, -1.5, 1.0), 0.0)


def test_vanna_shift_approximates_the_delta_at_the_modified_vol() -> None:
    """δ + vanna·(σ_m - σ) is within 1e-4 of minus the Black-Scholes call delta at σ_m."""
    sigma_m = 0.3 * np.sqrt(1.0 - float(_terms().k))
    exact = -float(black_scholes(True, 100.0, 100.0, 1.0, sigma_m).delta)
    approx = DELTA_SHORT_CALL + VANNA_SHORT_CALL * (sigma_m - 0.3)
    assert approx == pytest.approx(exact, abs=1e-4)
    assert approx == pytest.approx(-0.57605, abs=1e-5)


def test_hedges_to_the_edge_around_the_vol_adjusted_delta() -> None:
    """Hedge 0.5: deviation -0.07605 < -0.05383, so the hedge becomes 0.52222; 0.55 is kept."""
    out = _zak().target_hedge(_state(hedge_coin=[0.5, 0.55]))
    np.testing.assert_allclose(out[0], 0.52222, atol=1e-5)
    assert out[1] == 0.55


def test_band_is_centred_on_each_books_target() -> None:
    """Moving the target by +0.3 moves the hedge by -0.3 (the deviation is all that counts)."""
    base = _zak().target_hedge(_state(hedge_coin=0.5))
    shifted = _zak().target_hedge(_state(hedge_coin=0.5, target_delta_coin=0.3))
    np.testing.assert_allclose(shifted, base + 0.3, atol=1e-12)


def test_expired_book_uses_the_tau_floor() -> None:
    """τ = 0 is computed at min_tau_years: finite, and equal to asking for that τ."""
    at_zero = _zak(min_tau_years=0.01).target_hedge(_state(tau_years=0.0, hedge_coin=2.0))
    at_floor = _zak(min_tau_years=0.01).target_hedge(_state(tau_years=0.01, hedge_coin=2.0))
    assert np.isfinite(at_zero).all()
    np.testing.assert_array_equal(at_zero, at_floor)
    assert at_zero != 2.0


def test_zero_gamma_gives_h1_and_k_zero() -> None:
    """Γ = 0: H1 = K = 0 (σ_m = σ), the band is H0 alone, nothing is NaN."""
    terms = _terms(gamma_coin_per_usd=0.0)
    assert (float(terms.h1_coin), float(terms.k)) == (0.0, 0.0)
    out = _zak().target_hedge(_state(gamma_coin_per_usd=0.0, net_delta_coin=-1.0, hedge_coin=0.0))
    np.testing.assert_allclose(out, [1.0 - 0.0022222], atol=1e-7)


def test_zero_cost_means_a_zero_band_at_sigma() -> None:
    """λ = 0: H0 = H1 = K = 0, so the book is hedged exactly to its plain delta."""
    out = _zak().target_hedge(_state(cost_frac=0.0))
    np.testing.assert_allclose(out, [-DELTA_SHORT_CALL], atol=1e-15)


@pytest.mark.parametrize(
    "bad",
    [{"sigma": 0.0}, {"spot_usd": -1.0}, {"vanna_coin_per_vol": np.nan}, {"rate": np.inf}],
)
def test_unusable_inputs_keep_the_hedge(bad: dict[str, float]) -> None:
    """σ or spot <= 0, NaN vanna or infinite rate: the element does not trade."""
    np.testing.assert_array_equal(_zak().target_hedge(_state(hedge_coin=0.1, **bad)), [0.1])


def test_params_are_validated() -> None:
    """risk_aversion required and > 0; min_tau_years > 0, one day by default."""
    for bad in ({}, {"risk_aversion": 0.0}, {"risk_aversion": 1.0, "min_tau_years": 0.0}):
        with pytest.raises(ValidationError):
            ZakamoulineParams.model_validate(bad)
    assert ZakamoulineParams(risk_aversion=1.0).min_tau_years == pytest.approx(1 / 365)
