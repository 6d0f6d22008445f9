"""Shape-preserving rational cubic interpolation, vectorised.

Delbourgo & Gregory, "Shape preserving piecewise rational interpolation",
SIAM J. Sci. Stat. Comput. 6(4), 1985, as used by Jäckel's "Let's Be
Rational" for its initial guesses. On [x_l, x_r] with values y and slopes d at
both ends, the control parameter r (> −1) blends from a cubic (r = 3) towards
the straight line (r → ∞); :func:`convex_control` chooses r to match a second
derivative at one end while keeping the curve monotone and convex or concave
when the data are.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

from bot.pricing.arrays import BoolArray, FloatArray

_EPS = sys.float_info.epsilon
_TINY = sys.float_info.min
R_MIN = -(1.0 - np.sqrt(_EPS))
R_MAX = 2.0 / (_EPS * _EPS)
"""At or above this control value the interpolant is the straight line."""


class Segment(NamedTuple):
    """End points (x, y) and end slopes d of one interpolation interval, per element."""

    x_l: FloatArray
    x_r: FloatArray
    y_l: FloatArray
    y_r: FloatArray
    d_l: FloatArray
    d_r: FloatArray


def interpolate(x: FloatArray, seg: Segment, r: FloatArray) -> FloatArray:
    """The rational cubic through the segment's ends, with control ``r``, at ``x``."""
    x_l, x_r, y_l, y_r, d_l, d_r = seg
    h = x_r - x_l
    t = (x - x_l) / h
    omt = 1.0 - t
    cubic = (
        y_r * t * t * t
        + (r * y_r - h * d_r) * t * t * omt
        + (r * y_l + h * d_l) * t * omt * omt
        + y_l * omt * omt * omt
    ) / (1.0 + (r - 3.0) * t * omt)
    linear = y_r * t + y_l * omt
    return np.where(h == 0.0, 0.5 * (y_l + y_r), np.where(r >= R_MAX, linear, cubic))


def convex_control(
    seg: Segment,
    second: FloatArray | float,
    *,
    at_right: BoolArray | bool,
    prefer_shape: bool,
) -> FloatArray:
    """Control r fitting ``second`` (y'') at the right end where ``at_right``, else the left.

    The fit is floored at the smallest r that keeps the interpolant's shape;
    ``prefer_shape`` picks the straight line where that floor would divide by zero.
    """
    x_l, x_r, y_l, y_r, d_l, d_r = seg
    h = x_r - x_l
    slope = (y_r - y_l) / h
    numerator = 0.5 * h * second + (d_r - d_l)
    denominator = np.where(at_right, d_r - slope, slope - d_l)
    fitted = np.where(
        np.abs(numerator) < _TINY,
        0.0,
        np.where(
            np.abs(denominator) < _TINY,
            np.where(numerator > 0.0, R_MAX, R_MIN),
            numerator / denominator,
        ),
    )
    return np.maximum(fitted, _shape_floor(d_l, d_r, slope, prefer_shape))


def _shape_floor(d_l: FloatArray, d_r: FloatArray, s: FloatArray, prefer: bool) -> FloatArray:
    """Smallest r keeping the interpolant monotone (eq. 3.8) and convex/concave (eq. 3.18)."""
    fallback = R_MAX if prefer else -np.inf
    monotone = (d_l * s >= 0.0) & (d_r * s >= 0.0)
    curved = ((d_l <= s) & (s <= d_r)) | ((d_l >= s) & (s >= d_r))
    r_mono = np.where(monotone, np.where(np.abs(s) < _TINY, fallback, (d_r + d_l) / s), -np.inf)
    spread = d_r - d_l
    degenerate = (np.abs(s - d_l) < _TINY) | (np.abs(d_r - s) < _TINY)
    r_curve = np.where(
        curved,
        np.where(
            degenerate,
            fallback,
            np.maximum(np.abs(spread / (d_r - s)), np.abs(spread / (s - d_l))),
        ),
        np.where(monotone, fallback, -np.inf),
    )
    floor = np.maximum(R_MIN, np.maximum(r_mono, r_curve))
    return np.asarray(np.where(monotone | curved, floor, R_MIN), dtype=np.float64)
