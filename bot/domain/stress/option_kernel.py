"""The stress kernel's option rows priced and summed per cell key under k states, compiled.

Numpy passes over states × options priced each element with two scipy ``ndtr`` and a
dozen temporaries, then summed the rows by matrix products against dense weight
matrices; one thread took 0.98x the time of the two bare ``ndtr`` passes alone, the
floor of that approach (issue 18: 2.25 s for 861 states × 90,000 options). One compiled
loop per option row over its states, each row's one or two weights added straight into
its cells, holds the GIL nowhere, so :func:`bot.pricing.parallel.run_parts` spreads it
over every core. The loop over states has no branch and no call (the CDF
:func:`bot.pricing.normal.ndtr_simd`, the intrinsic value chosen, not branched to), so
LLVM runs it 8 states an instruction with AVX-512: with Cephes' ``ndtr`` (scipy's, bit
for bit) and the C library's ``exp`` it took 0.75-0.86x the two bare scipy ``ndtr``
passes; prices are within a few units in the last place of scipy's.

Worked example (docs/architecture.md §3, Black-76 with r = 0): F = K = 60,000, 30 days, σ = 60 %:
s = σ·√τ = 0.6·√(30/365) = 0.172015, q = ln(F/K)/s = 0, h = s/2, so a call is worth
N(h) − N(−h) = 0.06854 BTC (:func:`coin_price` with x = 0, sd = 0.172015, ratio = 1),
and a short one carries 0.075 + 0.06854 BTC of maintenance per coin.
"""

from __future__ import annotations

import numpy as np

from bot.domain.margin.standard import OPTION_MM_BASE
from bot.pricing.arrays import FloatArray, IntArray
from bot.pricing.compiled import compiled
from bot.pricing.normal import ndtr_simd


@compiled(simd=True, inline=True)
def coin_price(x: float, sd: float, ratio: float, is_call: bool) -> float:
    """Black-76 value (coin, per coin of underlying) of an option at ln(F/K) = ``x``,
    σ·√τ = ``sd`` >= 0 and K/F = ``ratio``; intrinsic where ``sd`` is not > 0 (expired or
    zero vol).

    With h = sd/2, a call is N(q + h) − (K/F)·N(q − h) for q = x/sd and a put
    (K/F)·N(q + h) − N(q − h) for q = −x/sd. Example: the module's call, 0.06854.
    Both values are worked out and one chosen, so a loop of calls has no branch.
    """
    q = (x if is_call else -x) / sd
    half = 0.5 * sd
    up = ndtr_simd(q + half)
    down = ndtr_simd(q - half)
    price = up - ratio * down if is_call else ratio * up - down
    intrinsic = max(1.0 - ratio if is_call else ratio - 1.0, 0.0)
    return price if sd > 0.0 else intrinsic


@compiled(
    "void(float64[:, ::1], float64[:, ::1], int64[:, ::1], float64[:], float64[:], float64[:],"
    " float64[:], float64[:], int64[:], int64[:], float64[:], float64[:], float64[:, ::1],"
    " float64[:, ::1], float64[:, ::1], float64[:, ::1])",
    simd=True,
)
def option_sums(
    value: FloatArray,
    mm: FloatArray,
    *,
    segments: IntArray,
    ln_fk: FloatArray,
    kappa: FloatArray,
    sqrt_tau: FloatArray,
    sd: FloatArray,
    floor_sd: FloatArray,
    row_start: IntArray,
    cell: IntArray,
    value_weight: FloatArray,
    mm_weight: FloatArray,
    ln_mult: FloatArray,
    inv_mult: FloatArray,
    vol_mult: FloatArray,
    vol_add: FloatArray,
) -> None:
    """Add Σ weight·value and Σ weight·MM per coin of the option rows to ``value`` and
    ``mm`` (cell keys × k states), in place.

    ``segments`` (S × 4: first row, stop, move column u, is_call) are runs of one move
    column (an underlying, or one venue's underlying) and type; per row, ``ln_fk`` =
    ln(F0/K), ``kappa`` = K/F0, ``sd`` = σ·√τ and ``floor_sd`` the lowest σ·√τ a state
    may reach. Row i's cells are ``cell[row_start[i]:row_start[i + 1]]`` with their
    weights. Per move column (rows) and state (columns): ``ln_mult`` = ln M,
    ``inv_mult`` = 1/M, ``vol_mult`` = 1 + rel and ``vol_add`` the absolute shift; the
    state's σ·√τ is max(sd·(1 + rel) + shift·√τ, floor_sd). The MM per coin is the
    mark for a call (its 0.075 is summed apart) and max(0.075, 0.075·mark) + mark for a
    put. A row is priced in every state, then added into its cells: each state's sums
    run over the rows in order, whatever other states are passed with it.
    """
    states = value.shape[1]
    coin, mark = np.empty(states), np.empty(states)
    for g in range(segments.shape[0]):
        u, is_call = segments[g, 2], segments[g, 3] != 0
        # Locals, not array reads in the state loop: the stores into ``coin`` might
        # alias them for all the compiler knows, and it would read them again each time.
        ln_m, inv_m, vol_m, vol_a = ln_mult[u], inv_mult[u], vol_mult[u], vol_add[u]
        for i in range(segments[g, 0], segments[g, 1]):
            x0, kappa_i, sd_i, floor_i = ln_fk[i], kappa[i], sd[i], floor_sd[i]
            sqrt_tau_i = sqrt_tau[i]
            for s in range(states):
                state_sd = max(sd_i * vol_m[s] + vol_a[s] * sqrt_tau_i, floor_i)
                price = coin_price(ln_m[s] + x0, state_sd, kappa_i * inv_m[s], is_call)
                coin[s] = price
                mark[s] = price if is_call else price + OPTION_MM_BASE * max(price, 1.0)
            for e in range(row_start[i], row_start[i + 1]):
                c, value_w, mm_w = cell[e], value_weight[e], mm_weight[e]
                for s in range(states):
                    value[c, s] += coin[s] * value_w
                    mm[c, s] += mark[s] * mm_w
