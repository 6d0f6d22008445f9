"""Native thread pools bounded with threadpoolctl (bot.ops.threads)."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from bot.ops.threads import bound_native_threads
from bot.pricing import parallel
from bot.pricing.parallel import usable_cores


@pytest.fixture(autouse=True)
def _own_kernel_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's kernel cap is its own; the session's is restored afterwards."""
    monkeypatch.setattr(parallel, "_CAP", [])


class TestBoundNativeThreads:
    def test_the_kernels_get_the_same_cap(self) -> None:
        """After a cap of one thread, a large kernel input runs in one part on this thread."""
        seen: list[tuple[int, int]] = []
        with threadpool_limits(limits=None):
            bound_native_threads(1)
            parallel.run_parts(
                lambda lo, hi: seen.append((lo, hi)), 1_000, grain=10, min_elements=0
            )
        assert seen == [(0, 1_000)]

    def test_caps_every_pool_numpy_loaded(self) -> None:
        """After a cap of one thread, every BLAS/OpenMP pool in the process runs one thread."""
        np.ones((4, 4)) @ np.ones((4, 4))  # numpy's BLAS is loaded and in use
        with threadpool_limits(limits=None):  # restores the pools' sizes afterwards
            assert bound_native_threads(1) == 1
            pools = threadpool_info()
            assert pools
            assert {p["num_threads"] for p in pools} == {1}

    def test_default_is_the_usable_cores(self) -> None:
        """Without a figure the cap is the cores this process may run on."""
        with threadpool_limits(limits=None):
            assert bound_native_threads() == usable_cores()

    def test_rejects_a_cap_below_one(self) -> None:
        """A cap of zero threads is refused with the figure, not passed to the libraries."""
        with pytest.raises(ValueError, match="must be >= 1, got 0"):
            bound_native_threads(0)
