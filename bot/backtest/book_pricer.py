"""The backtest's per-step revaluation of its book, fused and written into reused buffers.

:func:`bot.backtest.book.book_greeks` prices each leg with the general
:func:`bot.pricing.black_scholes` (seven Greeks, any broadcast, a forward and
its chain rule) and allocates its outputs on every call; the backtest calls it
once a step over the same paths. This pricer does the same sums for the
engine's case (no dividend, one vol for every leg, spots over one chunk of
paths) with one ``log`` of spot a step for every leg and per leg d1 (numpy passes),
then d2, the density gamma, vega, theta and vanna share, both normal CDFs and every sum
in compiled loops over the paths (:func:`bot.backtest.book_kernel.price_book`: the two
scipy ``ndtr`` passes it replaced were over half of a backtest step), every array
written into buffers held for the chunk: a fresh megabyte a step costs its page faults
(measured: a 20,000-path step of ``book_greeks`` took 2.3 ms, 1.1 ms of them allocating).

Figures equal :func:`book_greeks`'s to floating rounding (e^(−rτ)·e^(rτ) is
not exactly 1, and the CDFs are within a few units in the last place of scipy's; a test
pins rel 1e-12). A leg at or past expiry, or a step whose inputs are not regular (a vol
of 0, a non-positive spot), is priced by :func:`bot.pricing.black_scholes` as before.

Worked example (Hull, *Options, Futures, and Other Derivatives*, 8th ed., ch. 19):
a call with S = 49, K = 50, r = 5 %, σ = 20 %, τ = 20/52 is worth 2.4005 with delta
0.522, gamma 0.066, vega 12.1 per 1.00 of vol and theta −4.31 per year.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np

from bot.backtest.book import VOL_POINT, BookGreeks, OptionLeg, leg_greeks
from bot.backtest.book_kernel import D1, LEG_COLUMNS, PLANES, price_book
from bot.domain.greek_limits import MIN_DAYS, STANDARD_DAYS
from bot.domain.timeunits import DAYS_PER_YEAR
from bot.pricing.arrays import FloatArray

INV_SQRT_2PI: Final = 1.0 / math.sqrt(2.0 * math.pi)
"""1/√(2π), the standard normal density at 0."""
_VEGA = 3
"""Vega's row in :class:`BookGreeks`."""


class BookPricer:
    """Prices a book's live legs over ``n_paths`` paths into one of two output buffers.

    The engine holds the previous step's Greeks while it prices this step's, so
    :meth:`price` writes into buffer ``slot`` (0 or 1) and the caller alternates.
    ``cross`` also sums vanna and the standardised vega, ``vega`` the vega (else they
    stay 0: a backtest at one vol whose strategies do not read vega needs none).
    """

    def __init__(self, n_paths: int, rate: float, *, cross: bool, vega: bool = True) -> None:
        self.rate, self.cross, self.vega = rate, cross, vega
        self._out = np.zeros((2, 7, n_paths))
        self._log_s = np.empty(n_paths)
        self._sd = np.empty(n_paths)
        self._vol = np.empty(n_paths)
        self._per_leg = np.empty((0, PLANES, n_paths))  # per leg: d1, the kernel's density

    def price(
        self,
        legs: Sequence[OptionLeg],
        spot_usd: FloatArray,
        t_years: float,
        vol: FloatArray | float,
        *,
        slot: int,
    ) -> BookGreeks:
        """The book's Greeks at ``t_years`` (views into buffer ``slot``, valid until the
        next call with that slot)."""
        out = self._out[slot]
        if self._per_leg.shape[0] < len(legs):
            self._per_leg = np.empty((len(legs), PLANES, spot_usd.size))
        regular: list[list[float]] = []
        fallback: list[OptionLeg] = []
        with np.errstate(all="ignore"):
            np.log(spot_usd, out=self._log_s)
            for leg in legs:
                tau = leg.expiry_years - t_years
                planes = self._per_leg[len(regular)]
                if tau <= 0.0 or not self._d1(leg, tau, vol, planes[D1]):
                    fallback.append(leg)
                    continue
                regular.append(self._row(leg, tau))
        if regular:
            if isinstance(vol, np.ndarray):
                vols = vol
            else:
                vols = self._vol
                vols.fill(vol)
            rows = np.array(regular)
            per_leg = self._per_leg[: len(regular)]
            price_book(spot_usd, vols, per_leg, rows, self.rate, out, self.cross, self.vega)
        else:
            out.fill(0.0)
        for leg in fallback:
            tau = max(leg.expiry_years - t_years, 0.0)
            greeks = leg_greeks(leg, spot_usd, tau, vol, self.rate, cross=self.cross)
            for i, greek in enumerate(greeks):
                if i != _VEGA or self.vega:
                    out[i] += leg.quantity_coin * greek
        return BookGreeks(*out)

    def _row(self, leg: OptionLeg, tau: float) -> list[float]:
        """``leg``'s constants for the step, in :data:`~bot.backtest.book_kernel.LEG_COLUMNS`'
        order."""
        sq = math.sqrt(tau)
        sign = 1.0 if leg.is_call else -1.0
        q = leg.quantity_coin
        disc_k = leg.strike_usd * math.exp(-self.rate * tau)
        weight = VOL_POINT * math.sqrt(STANDARD_DAYS / max(tau * DAYS_PER_YEAR, MIN_DAYS))
        row = [
            sign,
            sq,
            q * sign,
            q * sign * disc_k,
            q * INV_SQRT_2PI * sq,
            q * INV_SQRT_2PI * sq * weight,
            -q * INV_SQRT_2PI,
            q * INV_SQRT_2PI,
        ]
        assert len(row) == len(LEG_COLUMNS)
        return row

    def _d1(self, leg: OptionLeg, tau: float, vol: FloatArray | float, d1: FloatArray) -> bool:
        """d1 = (ln S − ln K + rτ)/σ√τ + σ√τ/2 into ``d1``; False where a path is irregular."""
        sq = math.sqrt(tau)
        shift = self.rate * tau - math.log(leg.strike_usd)
        log_s = self._log_s
        if isinstance(vol, np.ndarray):
            sd = np.multiply(vol, sq, out=self._sd)
            if not np.minimum.reduce(sd) > 0.0:
                return False
            np.add(log_s, shift, out=d1)
            np.divide(d1, sd, out=d1)
            np.multiply(sd, 0.5, out=sd)
            np.add(d1, sd, out=d1)
        else:
            sd_s = vol * sq
            if not sd_s > 0.0:
                return False
            np.multiply(log_s, 1.0 / sd_s, out=d1)
            np.add(d1, shift / sd_s + 0.5 * sd_s, out=d1)
        return math.isfinite(np.add.reduce(d1))
