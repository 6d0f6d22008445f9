"""The spot paths' cumulative log increments, summed in blocks of paths as numpy's cumsum."""

from __future__ import annotations

import numpy as np

from bot.backtest.paths import _cumulative_sums


def test_docstring_example() -> None:
    """Increments [[1, 2], [3, 4]] (paths x steps) give [[0, 0], [1, 3], [3, 7]] (time-major)."""
    out = np.empty((3, 2))
    _cumulative_sums(np.array([[1.0, 2.0], [3.0, 4.0]]), out)
    np.testing.assert_array_equal(out, [[0.0, 0.0], [1.0, 3.0], [3.0, 7.0]])


def test_equals_numpy_cumsum_bit_for_bit() -> None:
    """A chunk that is not a whole number of blocks sums exactly as numpy's cumsum."""
    increments = np.random.default_rng(3).standard_normal((1_000, 17)) * 0.01
    out = np.empty((18, 1_000))
    _cumulative_sums(increments, out)
    want = np.zeros((18, 1_000))
    np.cumsum(increments.T, axis=0, out=want[1:])
    np.testing.assert_array_equal(out, want)
