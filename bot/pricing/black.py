"""Black-76 and Black-Scholes prices and Greeks, broadcast over every argument.

One kernel serves both models: Black-Scholes-Merton on a spot S with carry
b = r − q prices off the forward F = S·e^(bτ), and Black-76 is the case b = 0
with S = F. The kernel walks the flattened arguments in chunks of
:data:`~bot.pricing._arrays.CHUNK` elements, writing every intermediate into a
preallocated buffer with ``out=`` so the working set stays in cache. The two
normal CDFs (scipy's ``ndtr``, ~14 ns each) are over half the cost; see
``bench/bench_pricing.py`` for the measured rate against a bare formula.

Worked example (Hull, *Options, Futures, and Other Derivatives*, 8th ed.,
chapter 19, whose running example this is): a call with S = 49, K = 50,
r = 5 %, σ = 20 %, τ = 20 weeks (20/52 years), no dividend, is worth 2.4005
with delta 0.522, gamma 0.066, vega 12.1 per 1.00 of vol and theta −4.31 per
year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from bot.pricing._arrays import CHUNK, INV_SQRT_2PI, Operand, cdf, flat_operands
from bot.pricing.arrays import BoolArray, FloatArray
from bot.pricing.parallel import run_parts

_N_BUFFERS = 12


@dataclass(frozen=True, slots=True)
class Greeks:
    """Price and Greeks per unit of underlying, in the forward's currency.

    ``delta`` is d price / d underlying (forward for Black-76, spot for
    Black-Scholes); ``gamma`` its derivative; ``vega`` and ``volga`` are per
    1.00 (100 vol points) of volatility; ``theta`` is d price / d calendar time
    per **year** (negative for a long option that decays); ``vanna`` is
    d delta / d vol per 1.00 of vol.
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    vanna: FloatArray
    volga: FloatArray


def black76(  # noqa: PLR0917 - positional signature is the public API (issue 2)
    is_call: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    tau: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
) -> Greeks:
    """Black-76 price and Greeks of a European option on a forward.

    ``forward`` and ``strike`` in the same currency (the result's currency),
    ``tau`` in years, ``vol`` and ``rate`` as fractions per year (continuous
    compounding; the premium is discounted at ``rate``). Every argument
    broadcasts; ``is_call`` is a bool array or scalar.

    At ``tau`` = 0 or ``vol`` = 0 the option is worth its discounted intrinsic
    value: delta is 0 or ±discount factor (half of it exactly at the money, the
    limit of the Black delta from either side), gamma, vega, vanna and volga
    are 0 and theta is ``rate``·price (the carry of the discounted payoff).
    Invalid elements (non-finite values, forward or strike <= 0, negative
    ``tau`` or ``vol``, or ``vol``·√``tau`` overflowing) come out NaN, with no
    exception and no warning.
    """
    shape, call, (f, k, t, v, r) = flat_operands(is_call, forward, strike, tau, vol, rate)
    return _run(shape, _Inputs(call, f, k, t, v, r, 0.0))


def black_scholes(  # noqa: PLR0917 - positional signature is the public API (issue 2)
    is_call: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    tau: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike = 0.0,
    dividend: ArrayLike = 0.0,
) -> Greeks:
    """Black-Scholes(-Merton) price and Greeks with a continuous dividend yield.

    ``spot`` and ``strike`` in the result's currency, ``tau`` in years, ``vol``,
    ``rate`` and ``dividend`` as continuous fractions per year. The Greeks are
    with respect to spot (delta = e^(−qτ)·N(d1) for a call); theta holds spot
    fixed, so it includes the forward's drift. Degenerate and invalid elements
    behave as in :func:`black76`.
    """
    shape, call, (s, k, t, v, r, q) = flat_operands(is_call, spot, strike, tau, vol, rate, dividend)
    return _run(shape, _Inputs(call, s, k, t, v, r, r - q))


class _Inputs(NamedTuple):
    """Flat operands of one call, or of one chunk of it."""

    call: bool | BoolArray
    und: Operand  # forward (Black-76) or spot (Black-Scholes)
    k: Operand
    t: Operand
    v: Operand
    r: Operand
    carry: Operand  # b = r − q; 0.0 for Black-76

    def part(self, sl: slice) -> _Inputs:
        call = self.call if isinstance(self.call, bool) else self.call[sl]
        rest = (x if isinstance(x, float) else x[sl] for x in self[1:])
        return _Inputs(call, *rest)


def _run(shape: tuple[int, ...], inputs: _Inputs) -> Greeks:
    n = math.prod(shape)
    out = np.empty((7, n))

    def part(first: int, stop: int) -> None:  # one thread's run of chunks, its own buffers
        work = np.empty((_N_BUFFERS, min(stop - first, CHUNK)))
        with np.errstate(all="ignore"):
            for lo in range(first, stop, CHUNK):
                sl = slice(lo, min(lo + CHUNK, stop))
                _chunk(inputs.part(sl), out[:, sl], work[:, : sl.stop - lo])

    run_parts(part, n, grain=CHUNK)
    rows = out.reshape((7, *shape))
    return Greeks(*(rows[i, ...] for i in range(7)))


def _chunk(inp: _Inputs, out: FloatArray, work: FloatArray) -> None:  # noqa: PLR0915 - one fused kernel per chunk; splitting it would add temporaries to the hot loop
    """Fill ``out`` (7 × m) for one chunk; intermediates live in ``work``."""
    call, und, k, t, v, r, carry = inp
    price, delta, gamma, vega, theta, vanna, volga = out
    sq, sd, d1, d2, pdf, a, b, tmp, sg, fwd, growth, disc = work
    has_carry = not (isinstance(carry, float) and carry == 0.0)
    has_rate = not (isinstance(r, float) and r == 0.0)
    f: Operand = und
    if has_carry:
        np.multiply(carry, t, out=growth)
        np.exp(growth, out=growth)
        f = np.multiply(und, growth, out=fwd)
    sign: Operand = (1.0 if call else -1.0) if isinstance(call, bool) else _sign(call, sg)

    np.sqrt(t, out=sq)
    np.multiply(v, sq, out=sd)
    np.divide(f, k, out=a)
    np.log(a, out=a)
    np.divide(a, sd, out=d1)
    np.multiply(sd, 0.5, out=a)
    np.add(d1, a, out=d1)  # d1 = ln(F/K)/sd + sd/2: no sd² to overflow
    np.subtract(d1, sd, out=d2)

    cdf(_signed(d1, sign, tmp), a, tmp)  # N(σ·d1)
    cdf(_signed(d2, sign, tmp), b, tmp)  # N(σ·d2)
    np.multiply(a, sign, out=delta)
    np.multiply(b, sign, out=b)
    np.multiply(b, k, out=b)
    np.multiply(f, delta, out=price)
    np.subtract(price, b, out=price)

    np.multiply(d1, -0.5, out=pdf)
    np.multiply(pdf, d1, out=pdf)
    np.exp(pdf, out=pdf)
    if has_rate:
        np.multiply(r, t, out=disc)
        np.negative(disc, out=disc)
        np.exp(disc, out=disc)
        np.multiply(price, disc, out=price)
        np.multiply(delta, disc, out=delta)
        np.multiply(pdf, disc, out=pdf)
    np.multiply(pdf, INV_SQRT_2PI, out=pdf)  # disc·φ(d1)

    np.multiply(f, sd, out=a)
    np.divide(pdf, a, out=gamma)
    np.multiply(f, pdf, out=a)
    np.multiply(a, sq, out=vega)
    np.divide(v, sq, out=b)
    np.multiply(a, b, out=theta)
    np.multiply(theta, -0.5, out=theta)
    if has_rate:
        np.multiply(price, r, out=b)
        np.add(theta, b, out=theta)
    np.divide(d2, v, out=b)
    np.multiply(pdf, b, out=vanna)
    np.negative(vanna, out=vanna)
    np.multiply(vega, d1, out=volga)
    np.multiply(volga, b, out=volga)

    if not _all_regular(f, k, sd, d1, r):
        _repair(inp, out, sign=sign, f=f, sd=sd, d1=d1)
    if has_carry:
        # Spot Greeks by the chain rule through F = S·e^(bτ); theta holds S, not F, fixed.
        np.multiply(delta, growth, out=delta)
        np.multiply(gamma, growth, out=gamma)
        np.multiply(gamma, growth, out=gamma)
        np.multiply(vanna, growth, out=vanna)
        np.multiply(delta, und, out=a)
        np.multiply(a, carry, out=a)
        np.subtract(theta, a, out=theta)


def _sign(call: BoolArray, out: FloatArray) -> FloatArray:
    np.multiply(call, 2.0, out=out)
    return np.subtract(out, 1.0, out=out)


def _signed(d: FloatArray, sign: Operand, out: FloatArray) -> FloatArray:
    if isinstance(sign, float):
        return d if sign > 0.0 else np.negative(d, out=out)
    return np.multiply(d, sign, out=out)


def _all_regular(f: Operand, k: Operand, sd: FloatArray, d1: FloatArray, r: Operand) -> bool:
    """Cheap whole-chunk screen: True when no element needs :func:`_repair`.

    A finite sum of d1 rules out NaN and ±inf anywhere (bad or overflowing
    inputs, τ or σ of zero); the minima catch negative inputs that a ratio or
    product would hide.
    """
    return bool(
        _lowest(f) > 0.0
        and _lowest(k) > 0.0
        and np.minimum.reduce(sd) > 0.0
        and math.isfinite(np.add.reduce(d1))
        and math.isfinite(r if isinstance(r, float) else np.add.reduce(r))
    )


def _lowest(x: Operand) -> float:
    return x if isinstance(x, float) else float(np.minimum.reduce(x))


def _repair(
    inp: _Inputs, out: FloatArray, *, sign: Operand, f: Operand, sd: FloatArray, d1: FloatArray
) -> None:
    """Overwrite degenerate elements with intrinsic values and invalid ones with NaN.

    Valid means finite inputs, spot/forward and strike > 0, τ and σ >= 0, and
    a finite forward and σ√τ; degenerate means valid with d1 = ±∞ or 0/0
    (τ or σ of zero, or a forward/strike ratio beyond double range).
    """
    _, und, k, t, v, r, carry = inp
    valid = np.isfinite(sd) & np.isfinite(r) & np.isfinite(carry)
    for x in (und, f, k):
        valid &= (x > 0.0) & (x < math.inf)
    for x in (t, v):
        valid &= (x >= 0.0) & (x < math.inf)
    at = np.flatnonzero(valid & ~np.isfinite(d1))
    if at.size:
        s_, f_, k_, r_, t_ = (x if isinstance(x, float) else x[at] for x in (sign, f, k, r, t))
        moneyness = np.multiply(s_, np.subtract(f_, k_))
        disc = np.exp(np.multiply(r_, t_) * -1.0)
        price = disc * np.maximum(moneyness, 0.0)
        out[0, at] = price
        out[1, at] = disc * s_ * np.heaviside(moneyness, 0.5)
        out[2:, at] = 0.0
        out[4, at] = np.multiply(r_, price)
    out[:, ~valid] = math.nan
