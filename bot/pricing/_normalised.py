"""The normalised Black function of Jäckel's "Let's Be Rational" (Wilmott, 2015).

For x = ln(F/K) and total standard deviation s = σ·√τ the undiscounted Black
call, divided by √(F·K), is

    b(x, s) = e^(x/2)·Φ(h + t) − e^(−x/2)·Φ(h − t),   h = x/s, t = s/2,

its vega is b'(s) = φ(h + t)·e^(x/2) = e^(−(h² + t²)/2)/√(2π), and its upper
bound (s → ∞) is e^(x/2). The implied-vol solver only ever needs the out-of-
the-money call, x <= 0, where the two terms nearly cancel for small s. Three
formulas keep b to ~1e-13 relative or better there (checked against 100-digit
arithmetic), chosen per element as in the paper: a Taylor series in t for
t < 0.21, Φ directly once h + t > 0.85 (the first term dominates), and the
scaled complementary error function erfcx(z) = e^(z²)·erfc(z) in between,
which needs only one exponential.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.special import erfcx, ndtr

from bot.pricing._arrays import INV_SQRT_2PI, cdf
from bot.pricing.arrays import FloatArray

_SQRT_HALF_PI = 1.2533141373155003
_INV_SQRT_2 = 0.7071067811865476
_EPS = sys.float_info.epsilon / 2.0
_SMALL_T = 0.21
"""Below this t the 13th-order Taylor series is exact to double precision (2·ε^(1/16))."""
_CDF_ABOVE = 0.85
"""Above this h + t the first Black term dominates b: Φ loses nothing to cancellation."""
_TAYLOR_ORDER = 13


def otm_call(x: FloatArray, s: FloatArray, *, exact: bool = True) -> tuple[FloatArray, FloatArray]:
    """b(x, s) and its vega ∂b/∂s for x <= 0, s >= 0 (1-D arrays of equal length).

    ``exact=False`` uses the Φ formula everywhere: about twice as fast, with a
    relative error growing like ε·|h|/t for small t (1e-10 at t = 1e-6), which
    is enough for an initial guess or a first Householder step. At s = 0, b = 0
    and the vega is 1/√(2π) for x = 0, else 0.
    """
    with np.errstate(all="ignore"):
        h = x / s
        t = 0.5 * s
        vega = np.exp(-0.5 * (h * h + t * t))
        vega *= INV_SQRT_2PI
        if exact:
            b = np.empty_like(s)
            small = t < _SMALL_T
            direct = ~small & (h + t > _CDF_ABOVE)
            for mask, formula in (
                (small, _taylor),
                (direct, _by_cdf),
                (~small & ~direct, _by_erfcx),
            ):
                at = np.flatnonzero(mask)
                if at.size:
                    b[at] = formula(x[at], h[at], t[at], vega[at])
        else:
            b = _by_cdf(x, h, t, vega)
        at = np.flatnonzero(s == 0.0)
        if at.size:
            b[at] = 0.0
            vega[at] = np.where(x[at] == 0.0, INV_SQRT_2PI, 0.0)
    return b, vega


# The three formulas share one signature (x, h, t, vega) so otm_call can dispatch by region.


def _by_cdf(x: FloatArray, h: FloatArray, t: FloatArray, vega: FloatArray) -> FloatArray:
    half = np.exp(0.5 * x)
    upper = h + t
    upper = cdf(upper, np.empty_like(upper), upper)  # h + t takes either sign; h − t <= 0
    upper *= half
    upper -= ndtr(h - t) / half
    return np.maximum(upper, 0.0, out=upper)


def _by_erfcx(x: FloatArray, h: FloatArray, t: FloatArray, vega: FloatArray) -> FloatArray:
    """Φ(z) = e^(−z²/2)·erfcx(−z/√2)/2 turns both terms into one shared exponential.

    That exponential, e^(−(h² + t²)/2), is √(2π)·vega.
    """
    gap: FloatArray = erfcx(-_INV_SQRT_2 * (h + t))
    gap -= erfcx(-_INV_SQRT_2 * (h - t))
    gap *= vega
    gap *= _SQRT_HALF_PI
    return np.maximum(gap, 0.0, out=gap)


def _taylor(x: FloatArray, h: FloatArray, t: FloatArray, vega: FloatArray) -> FloatArray:
    """Odd Taylor terms in t of Y(h + t) − Y(h − t), Y = Φ/φ.

    Since Φ(z)·e^(±h·t) = Y(z)·φ(z)·e^(±h·t) and φ(h ± t)·e^(±h·t) = vega,
    b = vega·(Y(h + t) − Y(h − t)) = 2·vega·Σ_{n odd} Y⁽ⁿ⁾(h)·tⁿ/n!.
    Y(h) = ∫₀^∞ e^(h·u − u²/2) du, so every Y⁽ⁿ⁾ = ∫ uⁿ·e^(…) du is positive
    and the sum has no cancellation; Y' = 1 + h·Y gives the recurrence
    Y⁽ⁿ⁺¹⁾ = h·Y⁽ⁿ⁾ + n·Y⁽ⁿ⁻¹⁾. The loop stops once a term no longer changes
    the sum (13th order at most for t < 0.21).
    """
    lower: FloatArray = erfcx(-_INV_SQRT_2 * h)
    lower *= _SQRT_HALF_PI  # Y(h), then the even derivatives
    upper = h * lower
    upper += 1.0  # Y'(h), then the odd derivatives
    w = t * t
    power = t.copy()  # tⁿ/n!
    total = upper * power
    term = np.empty_like(t)
    for n in range(1, _TAYLOR_ORDER, 2):
        lower *= n
        lower += np.multiply(upper, h, out=term)  # Y⁽ⁿ⁺¹⁾
        upper *= n + 1
        upper += np.multiply(lower, h, out=term)  # Y⁽ⁿ⁺²⁾
        power *= w
        power *= 1.0 / ((n + 1) * (n + 2))
        total += np.multiply(upper, power, out=term)
        if not np.any(term > _EPS * total):
            break
    total *= vega
    total *= 2.0
    return np.maximum(total, 0.0, out=total)
