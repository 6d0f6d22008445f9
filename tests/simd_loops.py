"""A compiled scalar function applied over an array as the kernels apply it: in a loop
compiled with ``simd`` (vector registers), so a test checks the figures they get."""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np


def over_array(fn: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    """``fn`` (compiled, inlinable) mapped over a float64 array in one compiled loop."""

    @numba.njit(error_model="numpy")
    def loop(x: np.ndarray, out: np.ndarray) -> None:
        for i in range(x.size):
            out[i] = fn(x[i])

    def apply(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        loop(x, out)
        return out

    return apply
