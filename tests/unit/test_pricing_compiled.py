"""Kernels compiled once for their signatures: the types they take, nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from bot.pricing.compiled import compiled


def _twice(x: float) -> float:
    return 2.0 * x


def test_a_kernel_takes_its_signature_and_refuses_other_types() -> None:
    """Compiled for float64 at decoration: 1.5 gives 3.0, an array is refused, not compiled."""
    kernel = compiled("float64(float64)")(_twice)
    assert kernel(1.5) == 3.0
    with pytest.raises(TypeError):
        kernel(np.ones(2))  # type: ignore[arg-type]
