"""The one way deltabot compiles a numerical kernel: numba, no GIL, machine code cached.

Where numpy's passes are at their floor (each an array written and read back), a loop
compiled with numba does a path's or an option's work in registers. ``nogil`` lets
threads (:func:`bot.pricing.parallel.run_parts`) run such kernels side by side; numba's
own ``parallel=True`` is not used (its workqueue layer aborts the process when two
threads launch kernels at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import numba

_F = TypeVar("_F", bound=Callable[..., object])


def compiled(*signatures: str) -> Callable[[_F], _F]:
    """A decorator: ``fn`` compiled without the GIL for ``signatures`` (numba's, e.g.
    ``"float64(float64)"``) when its module is imported, so no call pays the compilation
    (or the load of the cached machine code: some 10 MB of Python objects, once) and
    other argument types are refused. The machine code is cached beside the module (or in
    the user's cache directory where that is read-only); where neither can be written it
    is compiled anew in each process (about a second) rather than failing the import.
    Without signatures, ``fn`` is compiled for the types of its first call (a helper that
    other kernels call, compiled into them)."""

    def decorate(fn: _F) -> _F:
        eager = list(signatures) if signatures else None
        try:
            kernel = numba.njit(eager, cache=True, nogil=True)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            kernel = numba.njit(eager, nogil=True)(fn)
        return cast("_F", kernel)

    return decorate
