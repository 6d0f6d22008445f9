"""The compiled normal CDF: scipy's ndtr, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr as scipy_ndtr

from bot.pricing.normal import ndtr

EDGES = [0.0, -0.0, 1.0, -1.0, math.sqrt(2), -math.sqrt(2), 8 * math.sqrt(2), -8 * math.sqrt(2)]
TAILS = [37.5, -37.5, 38.5, -38.5, 1e300, -1e300, math.inf, -math.inf]


@pytest.mark.parametrize(("x", "want"), [(0.0, 0.5), (1.96, 0.9750021), (-1.96, 0.0249979)])
def test_docstring_example(x: float, want: float) -> None:
    """N(0) = 0.5, N(1.96) = 0.9750021, N(-1.96) = 0.0249979."""
    assert ndtr(x) == pytest.approx(want, abs=5e-8)


def test_equals_scipy_bit_for_bit() -> None:
    """Over the whole range (both branches, both erfc polynomials, underflow) every value is
    scipy's ndtr exactly, NaN included."""
    grid = np.linspace(-40.0, 40.0, 400_001)
    normals = np.random.default_rng(5).standard_normal(200_000) * 4.0
    x = np.concatenate([grid, normals, EDGES, TAILS, [math.nan]])
    got = np.array([ndtr(float(v)) for v in x])
    np.testing.assert_array_equal(got, scipy_ndtr(x))
