"""Kernels compiled once for their signatures: the types they take, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import pytest
from numba.core import caching

from bot.pricing.compiled import compiled


def _twice(x: float) -> float:
    return 2.0 * x


def test_a_kernel_takes_its_signature_and_refuses_other_types() -> None:
    """Compiled for float64 at decoration: 1.5 gives 3.0, an array is refused, not compiled."""
    kernel = compiled("float64(float64)")(_twice)
    assert kernel(1.5) == 3.0
    with pytest.raises(TypeError):
        kernel(np.ones(2))  # type: ignore[arg-type]


def test_an_unwritable_cache_compiles_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where numba may write no cache (read-only tree, no home), a kernel compiles, not fails."""

    def read_only(self: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(caching._CacheLocator, "ensure_cache_path", read_only)
    with pytest.raises(RuntimeError, match="no locator available"):
        numba.njit(cache=True)(_twice)
    kernel: Callable[[float], float] = compiled()(_twice)
    assert kernel(2.5) == 5.0
