"""The compiled half of :class:`bot.backtest.book_pricer.BookPricer`: the two normal CDFs
of each leg and the book's sums, in one pass over the paths.

Two scipy ``ndtr`` passes a leg were most of a backtest step (each ~10 ns a path,
against under 1 ns for numpy's ``log`` and ``exp``), and the sums around them
another dozen passes. Here each path's CDFs and sums are worked out in registers.
The CDF is :func:`bot.pricing.normal.ndtr`, scipy's own figures bit for bit; the
pricer's arithmetic is the numpy pricer's operation for operation.

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
from bot.pricing.normal import ndtr

LEG_COLUMNS: Final = (
    "sign",
    "sqrt_tau",
    "delta_w",
    "cash_w",
    "vega_w",
    "vega_std_w",
    "vanna_w",
    "pdf_w",
    "pdf_sd_w",
)
"""A leg's row: +1 for a call, −1 for a put; √τ; then the weights in the sums of N(sign·d1),
N(sign·d2) and φ(d1): q·sign, q·sign·K·e^(−rτ), q·√τ/√(2π), the same times the
standardised-vega weight, −q/√(2π), q/√(2π), and at one vol q/(√(2π)·σ√τ)."""


@compiled(
    "void(float64[::1], float64[::1], float64[:, ::1], float64[:, ::1], float64[:, ::1], float64,"
    " float64[:, ::1], boolean, boolean, boolean)"
)
def price_book(  # noqa: PLR0917 - buffers and flags passed flat, as compiled code takes them
    spot_usd: FloatArray,
    vol: FloatArray,
    d1: FloatArray,
    pdf: FloatArray,
    legs: FloatArray,
    rate: float,
    out: FloatArray,
    per_path: bool,
    cross: bool,
    vega: bool,
) -> None:
    """Write the book's Greeks per path into ``out`` (7, paths): value, delta, gamma, vega,
    theta, vanna and standardised vega, as :class:`bot.backtest.book.BookGreeks` orders them.

    Per leg and path: d1 and e^(−d1²/2) in ``d1`` and ``pdf`` (legs, paths), the leg's
    constants in ``legs`` (legs, :data:`LEG_COLUMNS`). ``vol`` holds one vol per path
    (``per_path``) or one for all. Vega is summed only with ``vega``, vanna and the
    standardised vega only with ``cross``: else their rows are left as they are (the
    pricer's zeros, never written). value = S·Σ qΔ − Σ q·sign·K·e^(−rτ)·
    N(sign·d2); gamma = Σ qφ/(Sσ√τ); vega = S·Σ qφ√τ; theta = −½·S·σ²·Σ qφ/(σ√τ) −
    r·Σ q·sign·K·e^(−rτ)·N(sign·d2).
    """
    half_var = -0.5 * vol[0] * vol[0]
    for i in range(spot_usd.size):
        s = spot_usd[i]
        v = vol[i] if per_path else vol[0]
        delta = cash = pdf_sd = pdf_sq = vanna = vega_std = 0.0
        for j in range(legs.shape[0]):
            sign, sq, phi = legs[j, 0], legs[j, 1], pdf[j, i]
            d2 = d1[j, i] - v * sq
            delta += ndtr(sign * d1[j, i]) * legs[j, 2]
            cash += ndtr(sign * d2) * legs[j, 3]
            if vega:
                pdf_sq += phi * legs[j, 4]
            if cross:
                vega_std += phi * legs[j, 5]
                vanna += phi * d2 / v * legs[j, 6]
            if per_path:
                pdf_sd += phi / (v * sq) * legs[j, 7]
            else:
                pdf_sd += phi * legs[j, 8]
        theta = pdf_sd * s
        theta = theta * v * v * -0.5 if per_path else theta * half_var
        if rate != 0.0:
            theta -= cash * rate
        out[0, i] = s * delta - cash
        out[1, i] = delta
        out[2, i] = pdf_sd / s
        out[4, i] = theta
        if vega:
            out[3, i] = pdf_sq * s
        if cross:
            out[5, i] = vanna
            out[6, i] = vega_std * s
