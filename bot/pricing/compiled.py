"""The one way deltabot compiles a numerical kernel: numba, no GIL, machine code cached.

Where numpy's passes are at their floor (each an array written and read back), a loop
compiled with numba does a path's or an option's work in registers. ``nogil`` lets
threads (:func:`bot.pricing.parallel.run_parts`) run such kernels side by side; numba's
own ``parallel=True`` is not used (its workqueue layer aborts the process when two
threads launch kernels at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar, cast

import numba

from bot.pricing.kernel_cache import KernelCache

_F = TypeVar("_F", bound=Callable[..., object])


def compiled(*signatures: str, simd: bool = False, inline: bool = False) -> Callable[[_F], _F]:
    """A decorator: ``fn`` compiled without the GIL for ``signatures`` (numba's, e.g.
    ``"float64(float64)"``) when its module is imported, from machine code cached beside
    the module (or in the user's cache directory where that is read-only), so no call
    pays the compilation or the cache's load (a first call counted some 13 MB of numba's
    objects under tracemalloc) and other argument types are refused; the cached code is
    recompiled when the kernel's module or a module it imports changes
    (:class:`~bot.pricing.kernel_cache.KernelCache`). Where no cache can
    be written, ``fn`` is compiled at its first call instead (about a second, in each
    process), so an import never pays a compilation a process may not need. Without
    signatures, ``fn`` is compiled for the types of its first call (a helper that other
    kernels call, compiled into them).

    ``simd``: a float division by zero gives IEEE's inf or NaN instead of raising, so a
    loop carries no exception branch and LLVM may run it on vector registers (4 or 8
    doubles an instruction with AVX2 or AVX-512). ``inline``: a helper is compiled into
    each caller's own code, since a call LLVM cannot see through keeps the caller's
    loop scalar."""
    error_model: Literal["python", "numpy"] = "numpy" if simd else "python"
    inline_mode: Literal["never", "always"] = "always" if inline else "never"

    def decorate(fn: _F) -> _F:
        kernel = numba.njit(nogil=True, error_model=error_model, inline=inline_mode)(fn)
        try:
            # What njit(cache=True) does, with a cache keyed to the module's imports too.
            kernel._cache = KernelCache(fn)  # type: ignore[attr-defined]
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return cast("_F", kernel)
        for signature in signatures:
            kernel.compile(signature)
        if signatures:
            kernel.disable_compile()
        return cast("_F", kernel)

    return decorate
