"""Polynomials by Horner's rule, as Cephes evaluates them, for compiled kernels to inline.

Cephes' ``polevl`` and ``p1evl`` (Moshier, Cephes Math Library 2.2) with their order of
operations, so the functions built on them (:mod:`bot.pricing.normal`,
:mod:`bot.pricing.simd_exp`) return Cephes' figures. Unrolled over a tuple of
coefficients and inlined, they leave no call in a caller's loop.

Example: polevl(2.0, (1.0, 0.0, -3.0)) = 1·2² + 0·2 − 3 = 1.
"""

from __future__ import annotations

import numba

from bot.pricing.compiled import compiled


@compiled(inline=True)
def polevl(x: float, coefs: tuple[float, ...]) -> float:
    """Σ coefs[i]·x^(n−i), by Horner's rule from the highest power (Cephes ``polevl``)."""
    total = coefs[0]
    for c in numba.literal_unroll(coefs[1:]):
        total = total * x + c
    return total


@compiled(inline=True)
def p1evl(x: float, coefs: tuple[float, ...]) -> float:
    """The same with a leading coefficient of 1 left out of ``coefs`` (Cephes ``p1evl``)."""
    total = x + coefs[0]
    for c in numba.literal_unroll(coefs[1:]):
        total = total * x + c
    return total
