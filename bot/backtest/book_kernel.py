"""The compiled half of :class:`bot.backtest.book_pricer.BookPricer`: the two normal CDFs
of each leg and the book's sums, in vector registers over the paths.

Two scipy ``ndtr`` passes a leg were most of a backtest step (each ~10 ns a path,
against under 1 ns for numpy's ``log`` and ``exp``), and the sums around them
another dozen passes. A scalar compiled loop with Cephes' branching ``ndtr`` cost
25 ns a path (two calls, the C library's ``exp`` one value at a time, their branches
mispredicted where d1 and d2 straddle them); here each leg's paths run in one loop
with no branch and no call (:func:`bot.pricing.normal.ndtr_gauss`, its factor
e^(−d1²/2) also the density the Greeks share), which LLVM runs 8 paths an instruction with
AVX-512 (4 with AVX2). The pricer's arithmetic is the numpy pricer's; the CDFs are
within a few units in the last place of scipy's.

A leg is one row of :data:`LEG_COLUMNS` (its constants for the step, worked out
once in Python). Worked example (Hull, *Options, Futures, and Other Derivatives*,
8th ed., ch. 19): a call with S = 49, K = 50, r = 5 %, σ = 20 %, τ = 20/52 is worth
2.4005 with delta 0.522, gamma 0.066, vega 12.1 per 1.00 of vol and theta −4.31 per
year.
"""

from __future__ import annotations

from typing import Final

from bot.pricing.arrays import FloatArray
from bot.pricing.compiled import compiled
from bot.pricing.normal import gauss_factor, ndtr_gauss, ndtr_simd

LEG_COLUMNS: Final = (
    "sign",
    "sqrt_tau",
    "delta_w",
    "cash_w",
    "vega_w",
    "vega_std_w",
    "vanna_w",
    "pdf_w",
)
"""A leg's row: +1 for a call, −1 for a put; √τ; then the weights in the sums of N(sign·d1),
N(sign·d2) and φ(d1): q·sign, q·sign·K·e^(−rτ), q·√τ/√(2π), the same times the
standardised-vega weight, −q/√(2π) and q/√(2π)."""

D1, GAUSS_D1, PLANES = 0, 1, 2
"""Planes of the per-leg, per-path buffer: d1 (the pricer's), and e^(−d1²/2) (the
kernel's, for the vega and cross sums after the first loop)."""


@compiled(inline=True)
def _add_leg(out: FloatArray, vol: FloatArray, planes: FloatArray, leg: FloatArray) -> None:
    """Add one leg's N(sign·d1), N(sign·d2) and φ(d1)/(σ√τ) terms into rows 1, 0 and 2 (row
    0 holds Σ cash and row 2 Σ qφ/(σ√τ) until :func:`_finish`); ``planes`` is the leg's
    slice of ``per_leg``, whose e^(−d1²/2) plane this fills."""
    sign, sq, w_delta, w_cash, w_pdf = leg[0], leg[1], leg[2], leg[3], leg[7]
    d1, g1 = planes[D1], planes[GAUSS_D1]
    for i in range(d1.size):
        v = vol[i]
        d2 = d1[i] - v * sq
        g = gauss_factor(d1[i])
        g1[i] = g
        out[1, i] += ndtr_gauss(sign * d1[i], g) * w_delta
        out[0, i] += ndtr_simd(sign * d2) * w_cash
        out[2, i] += g / (v * sq) * w_pdf


@compiled(inline=True)
def _add_vega(out: FloatArray, g1: FloatArray, w_vega: float) -> None:
    """Add one leg's vega term into row 3."""
    for i in range(g1.size):
        out[3, i] += g1[i] * w_vega


@compiled(inline=True)
def _add_cross(out: FloatArray, vol: FloatArray, planes: FloatArray, leg: FloatArray) -> None:
    """Add one leg's standardised-vega and vanna terms into rows 6 and 5."""
    sq, w_std, w_vanna = leg[1], leg[5], leg[6]
    d1, g1 = planes[D1], planes[GAUSS_D1]
    for i in range(d1.size):
        v = vol[i]
        out[6, i] += g1[i] * w_std
        out[5, i] += g1[i] * (d1[i] - v * sq) / v * w_vanna


@compiled(inline=True)
def _finish(out: FloatArray, spot_usd: FloatArray, vol: FloatArray, rate: float) -> None:
    """Value, gamma and theta from the sums :func:`_add_leg` left in rows 0 to 2."""
    for i in range(spot_usd.size):
        s, v, cash, pdf_sd = spot_usd[i], vol[i], out[0, i], out[2, i]
        out[0, i] = s * out[1, i] - cash
        out[2, i] = pdf_sd / s
        out[4, i] = pdf_sd * s * v * v * -0.5 - cash * rate


@compiled(
    "void(float64[::1], float64[::1], float64[:, :, ::1], float64[:, ::1], float64,"
    " float64[:, ::1], boolean, boolean)",
    simd=True,
)
def price_book(  # noqa: PLR0917 - buffers and flags passed flat, as compiled code takes them
    spot_usd: FloatArray,
    vol: FloatArray,
    per_leg: FloatArray,
    legs: FloatArray,
    rate: float,
    out: FloatArray,
    cross: bool,
    vega: bool,
) -> None:
    """Write the book's Greeks per path into ``out`` (7, paths): value, delta, gamma, vega,
    theta, vanna and standardised vega, as :class:`bot.backtest.book.BookGreeks` orders them.

    ``vol`` holds each path's vol, ``per_leg`` (legs, 2, paths) each leg's d1 and room for
    its e^(−d1²/2) (:data:`D1`, :data:`GAUSS_D1`), ``legs`` (legs, :data:`LEG_COLUMNS`) the
    legs' constants. Vega is summed only with ``vega``, vanna and the standardised vega
    only with ``cross``: else their rows are left as they are (the pricer's zeros, never
    written). value = S·Σ qΔ − Σ q·sign·K·e^(−rτ)·N(sign·d2); gamma = Σ qφ/(Sσ√τ);
    vega = S·Σ qφ√τ; theta = −½·S·σ²·Σ qφ/(σ√τ) − r·Σ q·sign·K·e^(−rτ)·N(sign·d2).
    """
    out[:3] = 0.0
    if vega:
        out[3] = 0.0
    if cross:
        out[5:] = 0.0
    for j in range(legs.shape[0]):
        _add_leg(out, vol, per_leg[j], legs[j])
        if vega:
            _add_vega(out, per_leg[j, GAUSS_D1], legs[j, 4])
        if cross:
            _add_cross(out, vol, per_leg[j], legs[j])
    _finish(out, spot_usd, vol, rate)
    if vega:
        out[3, :] *= spot_usd
    if cross:
        out[6, :] *= spot_usd
