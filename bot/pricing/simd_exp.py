"""e^x compiled without a branch or a call, so a loop of it runs on vector registers.

A compiled loop calls the C library's ``exp`` one value at a time (about 5 ns), and the
call keeps LLVM from vectorising the loop around it. This is Cephes' ``exp`` (Moshier,
Cephes Math Library 2.2: x = n·ln 2 + r with ln 2 split in two, then a Padé form in r,
peak relative error 2.1e-16 over ±708 by its own test), its scaling by 2^n done on the
bits, so every step is an instruction LLVM has a vector form of. A test bounds it against
numpy's ``exp``.

Worked example: e^−1 = 0.36787944117144233, e^−0.5·1.96² = 0.14648972, e^−745.2 = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, cast

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from bot.pricing.compiled import compiled
from bot.pricing.polynomial import polevl

_LOG2E: Final = 1.4426950408889634073599
_C1: Final = 6.93145751953125e-1
_C2: Final = 1.42860682030941723212e-6
"""ln 2 = C1 + C2, C1 with few enough bits that n·C1 is exact."""
_MINLOG: Final = -7.451332191019412076235e2
"""ln of the smallest subnormal: e^x is 0 below it."""
MAXLOG: Final = 7.09782712893383996843e2
"""ln of the largest double: e^x overflows to inf above it."""
_P: Final = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
_Q: Final = (
    3.00198505138664455042e-6,
    2.52448340349684104192e-3,
    2.27265548208155028766e-1,
    2.00000000000000000009e0,
)


def _pow2_typed(typingctx: object, n: object) -> tuple[object, Callable[..., ir.Value]]:
    """numba's typing and code of :data:`_pow2`."""
    del typingctx, n

    def codegen(
        context: object, builder: ir.IRBuilder, signature: object, args: list[ir.Value]
    ) -> ir.Value:
        del context, signature
        biased = builder.add(args[0], ir.Constant(ir.IntType(64), 1023))
        bits = builder.shl(biased, ir.Constant(ir.IntType(64), 52))
        return builder.bitcast(bits, ir.DoubleType())

    return types.float64(types.int64), codegen


_pow2 = cast("Callable[[int], float]", intrinsic(_pow2_typed))
"""2^n for an integer n in [−1022, 1023], in compiled code: the double whose exponent
bits are n + 1023 (a shift and a reinterpretation, which vectorise)."""


@compiled(inline=True)
def exp_simd(x: float) -> float:
    """e^x as Cephes works it out: 0 below −745.13, inf above 709.78, NaN for NaN.

    Example: exp_simd(−1.0) = 0.36787944117144233.
    """
    # Clamped, n stays within what _pow2 takes; a NaN goes through r below.
    clamped = min(x if x > _MINLOG else _MINLOG, MAXLOG)
    px = math.floor(_LOG2E * clamped + 0.5)
    n = int(px)
    r = x - px * _C1
    r = r - px * _C2
    rr = r * r
    p = r * polevl(rr, _P)
    y = 1.0 + 2.0 * (p / (polevl(rr, _Q) - p))
    half = n >> 1  # 2^n in two factors, each a normal double down to n = −1075
    scaled = y * _pow2(half) * _pow2(n - half)
    return 0.0 if x < _MINLOG else (math.inf if x > MAXLOG else scaled)
