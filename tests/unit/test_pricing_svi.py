"""Raw SVI: parameter recovery, residuals, butterfly check, input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.pricing import SviParams, fit_svi

K_GRID = np.linspace(-1.2, 1.0, 25)
KNOWN = [
    SviParams(a=0.02, b=0.15, rho=-0.4, m=0.05, sigma=0.2),  # a BTC-like put skew
    SviParams(a=0.04, b=0.4, rho=0.3, m=-0.2, sigma=0.05),  # sharp smile, call skew
    SviParams(a=-0.01, b=0.3, rho=-0.7, m=0.3, sigma=0.5),  # negative a, still w >= 0
    SviParams(a=0.001, b=0.05, rho=0.0, m=0.0, sigma=0.02),  # short-dated, near-flat
]
# Gatheral & Jacquier (2014), Example 3.1: valid parameters, negative density.
VOGT = SviParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)


@pytest.mark.parametrize("true", KNOWN)
def test_fit_recovers_known_parameters(true: SviParams) -> None:
    """Fitting exact SVI total variances recovers a, b, ρ, m, σ to 1e-8 and residuals of ~0."""
    fit = fit_svi(K_GRID, true.total_variance(K_GRID), tau_years=0.5)
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(fit.params, name) == pytest.approx(getattr(true, name), abs=1e-8), name
    assert fit.rms_volpt < 1e-9
    assert fit.max_volpt < 1e-9


def test_residuals_are_model_minus_market_in_vol_points() -> None:
    """rms_volpt and max_volpt are the RMS and max |·| of 100·(√(w_fit/τ) − √(w/τ))."""
    rng = np.random.default_rng(3)
    w = KNOWN[0].total_variance(K_GRID) * (1.0 + 0.02 * rng.standard_normal(K_GRID.size))
    fit = fit_svi(K_GRID, w, tau_years=0.25)
    resid = 100.0 * (fit.implied_vol(K_GRID) - np.sqrt(w / 0.25))
    assert fit.rms_volpt == pytest.approx(math.sqrt(np.mean(resid**2)), rel=1e-12)
    assert fit.max_volpt == pytest.approx(np.abs(resid).max(), rel=1e-12)
    assert 0.1 < fit.rms_volpt < 2.0  # 2 % variance noise is about 1 % of a 40 % vol


def test_implied_vol_is_root_total_variance_over_tau() -> None:
    """SviFit.implied_vol(k) = √(w(k)/τ), a fraction per year."""
    fit = fit_svi(K_GRID, KNOWN[0].total_variance(K_GRID), tau_years=0.5)
    k = np.array([-0.5, 0.0, 0.4])
    np.testing.assert_allclose(fit.implied_vol(k), np.sqrt(KNOWN[0].total_variance(k) / 0.5))


def test_zero_weight_ignores_an_outlier() -> None:
    """A zero-weight point does not pull the fit: parameters still come back exactly."""
    w = KNOWN[0].total_variance(K_GRID)
    w[3] *= 3.0
    weights = np.ones_like(w)
    weights[3] = 0.0
    fit = fit_svi(K_GRID, w, weights, tau_years=0.5)
    assert fit.params.rho == pytest.approx(KNOWN[0].rho, abs=1e-8)
    assert fit.max_volpt > 10.0  # the outlier itself still shows in the residuals


def test_butterfly_check_flags_vogt_example() -> None:
    """Vogt's parameters fail g(k) >= 0 around k ≈ 0.9, while a plain skew passes everywhere."""
    bad = VOGT.butterfly()
    assert not bad.arbitrage_free
    assert bad.worst_g < 0.0
    assert bad.failing_k is not None
    lo, hi = bad.failing_k
    assert lo < bad.worst_k < hi
    assert 0.5 < lo < 0.9 < hi < 1.5
    good = KNOWN[0].butterfly()
    assert good.arbitrage_free
    assert good.failing_k is None
    assert good.worst_g >= 0.0


def test_density_g_matches_finite_difference_formula() -> None:
    """g(k) equals the Gatheral-Jacquier formula with w', w'' taken by central differences."""
    k, h = np.linspace(-1.0, 1.5, 11), 1e-4
    w = VOGT.total_variance
    w0, w1 = w(k), (w(k + h) - w(k - h)) / (2 * h)
    w2 = (w(k + h) - 2 * w0 + w(k - h)) / h**2
    g = (1 - k * w1 / (2 * w0)) ** 2 - w1**2 / 4 * (1 / w0 + 0.25) + w2 / 2
    np.testing.assert_allclose(VOGT.density_g(k), g, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a": 0.0, "b": -0.1, "rho": 0.0, "m": 0.0, "sigma": 0.1}, "b must be >= 0"),
        ({"a": 0.0, "b": 0.1, "rho": 1.0, "m": 0.0, "sigma": 0.1}, "rho must lie in"),
        ({"a": 0.0, "b": 0.1, "rho": 0.0, "m": 0.0, "sigma": 0.0}, "sigma must be > 0"),
        ({"a": -0.1, "b": 0.1, "rho": 0.0, "m": 0.0, "sigma": 0.1}, "minimum variance"),
        ({"a": math.nan, "b": 0.1, "rho": 0.0, "m": 0.0, "sigma": 0.1}, "a must be finite"),
    ],
)
def test_parameter_constraints_are_enforced(kwargs: dict[str, float], message: str) -> None:
    """SviParams refuses parameters outside the raw-SVI constraints, naming the one broken."""
    with pytest.raises(ValueError, match=message):
        SviParams(**kwargs)


@pytest.mark.parametrize(
    ("k", "w", "weights", "tau", "message"),
    [
        (K_GRID, K_GRID[:-1] ** 2, None, 0.5, "length mismatch"),
        (K_GRID[:4], K_GRID[:4] ** 2, None, 0.5, "at least 5 points"),
        (K_GRID, -(K_GRID**2), None, 0.5, "negative"),
        (K_GRID, np.where(K_GRID > 0, np.nan, 0.1), None, 0.5, "total_variance has non-finite"),
        (
            np.where(K_GRID > 0, np.inf, K_GRID),
            K_GRID**2,
            None,
            0.5,
            "log_moneyness has non-finite",
        ),
        (K_GRID, K_GRID**2, np.zeros_like(K_GRID), 0.5, "weights must be"),
        (K_GRID, K_GRID**2, K_GRID, 0.5, "weights must be"),
        (K_GRID, K_GRID**2, None, 0.0, "tau_years must be a positive"),
        (K_GRID, K_GRID**2, None, math.nan, "tau_years must be a positive"),
    ],
)
def test_bad_input_raises_naming_the_problem(
    k: np.ndarray, w: np.ndarray, weights: np.ndarray | None, tau: float, message: str
) -> None:
    """fit_svi raises ValueError whose message names the bad input."""
    with pytest.raises(ValueError, match=message):
        fit_svi(k, w, weights, tau_years=tau)
