"""Black-76 implied volatility, vectorised, after Jäckel's "Let's Be Rational".

Reference: P. Jäckel, "Let's Be Rational", Wilmott (2015) 40-53. Each price
is reduced to the normalised out-of-the-money call b(x, s) of
:mod:`bot.pricing._normalised` (in-the-money prices through put-call parity:
the OTM twin carries the same information without the intrinsic value on
top). Four rational or asymptotic maps of β give an initial s close enough
that two Householder(3) steps reach machine precision; the steps act on an
objective chosen per region so that it stays well conditioned: 1/ln b for
tiny prices, ln(b_max − b) near the upper bound, b itself in between. The
guess and the first step evaluate b by the plain Φ formula (half the cost);
the second step, which sets the final digits, uses the accurate b. Elements
whose second step still moved by more than :data:`_SETTLED`·s get further
steps, up to :data:`_MAX_STEPS`; any that never settle come out NaN rather
than as an unconverged number.

Worked example (Hull, 8th ed., ch. 19): spot 49, r = 5 %, K = 50, τ = 20/52
years, so F = 49·e^(0.05·20/52) = 49.9618; the call priced 2.4005 implies
σ = 20.00 %.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri

from bot.pricing import _normalised as nb
from bot.pricing import _rational_cubic as rc
from bot.pricing._arrays import INV_SQRT_2PI, Operand, flat_operands
from bot.pricing.arrays import BoolArray, FloatArray, IntArray
from bot.pricing.parallel import run_parts

_CHUNK = 16384
"""Elements per pass; measured fastest among 2k-32k (the temporaries stay in cache)."""
_MAX_STEPS = 8
_SETTLED = 1e-6
"""A second step below this (relative to s) leaves an error far below ε: the order is 4."""
_TINY = sys.float_info.min
_TWO_PI_OVER_SQRT_27 = 2.0 * math.pi / math.sqrt(27.0)
_SQRT_3 = math.sqrt(3.0)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def implied_vol(  # noqa: PLR0917 - positional signature is the public API (issue 2)
    price: ArrayLike,
    is_call: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    tau: ArrayLike,
    rate: ArrayLike = 0.0,
) -> FloatArray:
    """Black-76 volatility (fraction per year) that reproduces ``price``; broadcasts.

    ``price`` is the discounted premium in the forward's currency (what
    :func:`~bot.pricing.black76` returns), ``forward`` and ``strike`` in that
    currency, ``tau`` in years, ``rate`` the continuous discount rate
    (undiscounted price = price·e^(rate·tau)).

    NaN where no volatility fits: a price below intrinsic value or at or above
    the forward (calls) or strike (puts), after undiscounting; non-finite
    inputs; forward or strike <= 0; ``tau`` <= 0. A price equal to intrinsic
    value gives 0.
    """
    shape, call, (p, f, k, t, r) = flat_operands(is_call, price, forward, strike, tau, rate)
    n = math.prod(shape)
    out = np.empty(n)

    def part(first: int, stop: int) -> None:  # one thread's run of chunks
        with np.errstate(all="ignore"):
            for lo in range(first, stop, _CHUNK):
                sl = slice(lo, min(lo + _CHUNK, stop))
                m = sl.stop - lo
                flags = np.broadcast_to(call if isinstance(call, bool) else call[sl], (m,))
                out[sl] = _vol(flags, *(_full(x, sl, m) for x in (p, f, k, t, r)))

    run_parts(part, n, grain=_CHUNK)
    return out.reshape(shape)


def _full(x: Operand, sl: slice, m: int) -> FloatArray:
    return np.full(m, x) if isinstance(x, float) else x[sl]


def _vol(call: BoolArray, *operands: FloatArray) -> FloatArray:
    """Vols of one chunk; ``operands`` are price, forward, strike, tau and rate."""
    p, f, k, t, r = operands
    undiscounted = p * np.exp(r * t)
    intrinsic = np.maximum(np.where(call, f - k, k - f), 0.0)
    bound = np.where(call, f, k)
    ok = (
        (f > 0.0)
        & (f < math.inf)
        & (k > 0.0)
        & (k < math.inf)
        & (t > 0.0)
        & (t < math.inf)
        & (undiscounted >= intrinsic)
        & (undiscounted < bound)
    )
    x = -np.abs(np.log(f / k))  # the OTM twin as a call: x <= 0
    beta = (undiscounted - intrinsic) / (np.sqrt(f) * np.sqrt(k))
    # A subnormal β has lost its digits: no volatility can be read from it.
    ok &= (beta < np.exp(0.5 * x)) & ((beta == 0.0) | (beta >= _TINY))
    s = np.zeros_like(beta)
    live = np.flatnonzero(ok & (beta > 0.0))
    if live.size:
        s[live] = _normalised_vol(beta[live], x[live])
    vol = s / np.sqrt(t)
    return np.where(ok & np.isfinite(vol), vol, math.nan)


def _normalised_vol(beta: FloatArray, x: FloatArray) -> FloatArray:
    """s = σ√τ with b(x, s) = β, for x <= 0 and 0 < β < e^(x/2)."""
    b_max = np.exp(0.5 * x)
    s_c = np.sqrt(-2.0 * x)  # inflexion point of b in s
    # At s_c, h + t = 0: b_c = b_max/2 − Φ(−s_c)/b_max and b'(s_c) = b_max/√(2π). The
    # difference loses digits as x → 0, harmless in a value that only shapes the guess.
    b_c = np.maximum(0.5 * b_max - ndtr(-s_c) / b_max, 0.0)
    v_c = INV_SQRT_2PI * b_max
    below = beta < b_c
    # Tangents at s_c reach 0 (below) and b_max (above) at the segment ends s_l, s_u.
    s_end = np.where(below, s_c - b_c / v_c, s_c + (b_max - b_c) / v_c)
    s_end = np.where(v_c > _TINY, s_end, s_c)
    b_end, v_end = nb.otm_call(x, s_end, exact=False)
    lowest = below & (beta < b_end)
    highest = ~below & (beta > b_end)

    s = np.empty_like(beta)
    at = np.flatnonzero(lowest)
    s[at] = _guess_lowest(beta[at], x[at], s_end[at], b_end[at])
    at = np.flatnonzero(highest)
    s[at] = _guess_highest(beta[at], x[at], s_end[at], b_end[at], b_max[at])
    at = np.flatnonzero(~lowest & ~highest)
    s[at] = _guess_middle(
        beta[at], below[at], (s_c[at], b_c[at], v_c[at]), (s_end[at], b_end[at], v_end[at])
    )

    objective = np.where(lowest, 1, np.where(highest & (beta > 0.5 * b_max), 2, 0))
    active = np.arange(beta.size)
    for step in range(_MAX_STEPS):
        if step < 2:  # every element takes two steps, in place; the first on the fast b
            ds = _householder_step(beta, x, s, b_max, objective, exact=step > 0)
            s += ds
        else:
            ds = _householder_step(
                beta[active], x[active], s[active], b_max[active], objective[active], exact=True
            )
            s[active] += ds
        if step >= 1:
            active = active[~(np.abs(ds) <= _SETTLED * s[active])]
            if not active.size:
                break
    else:
        s[active] = math.nan
    return s


def _guess_middle(
    beta: FloatArray, below: BoolArray, centre: tuple[FloatArray, ...], end: tuple[FloatArray, ...]
) -> FloatArray:
    """Between a segment end and s_c: a rational cubic s(β) through (b, s) at both.

    Its slopes are 1/vega, and its second derivative vanishes at the inflexion
    end s_c, as b's does. ``centre`` and ``end`` are (s, b, vega) at s_c and at
    s_l (``below``) or s_u.
    """
    (s_c, b_c, v_c), (s_e, b_e, v_e) = centre, end
    seg = rc.Segment(
        np.where(below, b_e, b_c),
        np.where(below, b_c, b_e),
        np.where(below, s_e, s_c),
        np.where(below, s_c, s_e),
        1.0 / np.where(below, v_e, v_c),
        1.0 / np.where(below, v_c, v_e),
    )
    return rc.interpolate(
        beta, seg, rc.convex_control(seg, 0.0, at_right=below, prefer_shape=False)
    )


def _guess_lowest(beta: FloatArray, x: FloatArray, s_l: FloatArray, b_l: FloatArray) -> FloatArray:
    """Below b_l: interpolate f(β) = (2π/√27)·|x|·Φ(−|x|/(√3·s))³, the small-s asymptote of b."""
    ax = np.abs(x)
    z = ax / (_SQRT_3 * s_l)
    y = z * z
    s2 = s_l * s_l
    cdf = ndtr(-z)
    pdf = INV_SQRT_2PI * np.exp(-0.5 * y)
    f_l = _TWO_PI_OVER_SQRT_27 * ax * cdf**3
    fp_l = 2.0 * math.pi * y * cdf * cdf * np.exp(y + 0.125 * s2)
    fpp_l = (
        (math.pi / 6.0)
        * y
        / (s2 * s_l)
        * cdf
        * (8.0 * _SQRT_3 * s_l * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * cdf / pdf)
        * np.exp(2.0 * y + 0.25 * s2)
    )
    zero, one = np.zeros_like(beta), np.ones_like(beta)
    seg = rc.Segment(zero, b_l, zero, f_l, one, fp_l)
    f = rc.interpolate(beta, seg, rc.convex_control(seg, fpp_l, at_right=True, prefer_shape=True))
    u = beta / b_l
    f = np.where(f > 0.0, f, (f_l * u + b_l * (1.0 - u)) * u)  # quadratic fallback
    return np.asarray(
        np.abs(x / (_SQRT_3 * ndtri(np.cbrt(f / (_TWO_PI_OVER_SQRT_27 * ax))))), dtype=np.float64
    )


def _guess_highest(
    beta: FloatArray, x: FloatArray, s_u: FloatArray, b_u: FloatArray, b_max: FloatArray
) -> FloatArray:
    """Above b_u: interpolate f(β) = Φ(−s/2), which b_max − b approaches for large s."""
    w = (x / s_u) ** 2
    f_u = ndtr(-0.5 * s_u)
    fp_u = -0.5 * np.exp(0.5 * w)
    fpp_u = _SQRT_HALF_PI * np.exp(w + 0.125 * s_u * s_u) * w / s_u
    seg = rc.Segment(b_u, b_max, f_u, np.zeros_like(beta), fp_u, np.full_like(beta, -0.5))
    f = rc.interpolate(beta, seg, rc.convex_control(seg, fpp_u, at_right=False, prefer_shape=True))
    width = b_max - b_u
    u = (beta - b_u) / width
    quadratic = (f_u * (1.0 - u) + 0.5 * width * u) * (1.0 - u)
    f = np.where((f > 0.0) & np.isfinite(f), f, quadratic)
    return np.asarray(-2.0 * ndtri(f), dtype=np.float64)


def _householder_step(
    beta: FloatArray,
    x: FloatArray,
    s: FloatArray,
    b_max: FloatArray,
    objective: IntArray,
    *,
    exact: bool,
) -> FloatArray:
    """One Householder(3) step on the objective g(s) coded 0, 1 or 2 per element.

    0: g = b − β; 1: g = 1/ln b − 1/ln β; 2: g = ln((b_max − β)/(b_max − b)).
    With ν = −g/g', η = g''/g', ζ = g'''/g' the step is
    ν·(1 + ην/2)/(1 + ν(η + ζν/6)), capped at −s/2 so s stays positive.
    ``exact=False`` evaluates b with the fast Φ formula (the first step only).
    """
    b, bp = nb.otm_call(x, s, exact=exact)
    h = x / s
    halley = h * h / s - 0.25 * s  # b''/b'
    hh3 = halley * halley - 3.0 * (h / s) ** 2 - 0.25  # b'''/b'
    newton = (beta - b) / bp
    lower = np.flatnonzero(objective == 1)
    if lower.size:
        ln_b = np.log(b[lower])
        ln_beta = np.log(beta[lower])
        bpob = bp[lower] / b[lower]
        inv_ln = 1.0 / ln_b
        b_halley = halley[lower]
        newton[lower] = (ln_beta - ln_b) * ln_b / ln_beta / bpob
        halley[lower] = b_halley - bpob * (1.0 + 2.0 * inv_ln)
        hh3[lower] += 2.0 * bpob * bpob * (1.0 + 3.0 * inv_ln * (1.0 + inv_ln)) - (
            3.0 * b_halley * bpob * (1.0 + 2.0 * inv_ln)
        )
    upper = np.flatnonzero(objective == 2)
    if upper.size:
        gap = b_max[upper] - b[upper]
        gp = bp[upper] / gap
        b_halley = halley[upper]
        newton[upper] = -np.log((b_max[upper] - beta[upper]) / gap) / gp
        halley[upper] = b_halley + gp
        hh3[upper] += gp * (2.0 * gp + 3.0 * b_halley)
    step = newton * (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0))
    return np.maximum(step, -0.5 * s)
