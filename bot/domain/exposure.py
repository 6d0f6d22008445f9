"""Portfolio Greeks per underlying, in the hedger's numeraire (docs/architecture.md §3).

Derivation. Fix one underlying with USD forward F. A coin-margined (inverse)
account holds coin cash C and positions worth V_coin,i = V_usd,i / F coin each,
so its equity is E = C + Σ q_i·V_coin,i(F) (an inverse future's V_coin is its
coin P&L, size_usd·(1/F_entry − 1/F)) and its USD value is W_usd = F·E.
Linear positions add Σ q_j·V_usd,j(F) USD. With F·∂V_coin/∂F = Δ_BS − V_usd/F
for an option (the premium-adjusted delta) and = size_usd/F for an inverse
future (Deribit's ``size_currency``):

- numeraire ``usd`` (the hedger counts dollars): delta = dW_usd/dF
  = E + Σ_inverse q·(F·∂V_coin/∂F) + Σ_linear q·∂V_usd/∂F, i.e. the coin equity
  (``collateral_coin``, which venues report including option value and
  unrealised P&L) plus the sum of net deltas. Its derivative sees E move with
  the marks: d/dF[E + q(Δ_BS − V_usd/F)] = q·Γ_BS, and an inverse future's
  size_usd/F falls exactly as its P&L in E rises, so gamma = Σ_options q·Γ_BS.
- numeraire ``coin`` (the hedger counts coin): the P&L is E itself, delta
  = F·dE/dF = Σ net deltas (no collateral term), and gamma is the derivative
  of that: q·(Γ_BS − net_i/F) for an inverse option, −q/F for an inverse future.

Linear (USD-settled) positions pay USD in both numeraires and keep delta
q·Δ_BS (futures, perps and spot: q) and gamma q·Γ_BS (futures: 0). Every
"delta" here is d(value)/dF, a coin count; ``gamma_coin_per_pct`` is the
change of that delta for a +1% move, 0.01·F·d(delta)/dF, summed over positions
whose forwards all move by the same 1%. Vega (+1 vol point) and theta
(one calendar day of 365) are in USD, identical in both numeraires because a
vol or time bump leaves F and hence the coin/USD rate unchanged.

Vanna is the change of that delta for a vol move, coin per 1.00 of vol, and
follows gamma's pattern: in the usd numeraire the coin equity's own vol move
(Σ q·vega/F) cancels the premium term, leaving q·vanna_BS; in the coin
numeraire an inverse option's is q·(vanna_BS − vega_BS/F). Volga is the change
of the USD vega for +1 vol point, USD per vol point per vol point (both
numeraires). All four come out of the same single Black-76 call. Example (the
call below): d1 = −d2 = 0.6·sqrt(30/365)/2 = 0.08600, vanna_BS = −φ(d1)·d2/σ
= 0.05698 and vega_BS = F·φ(d1)·sqrt(τ) = 6,837 USD per 1.00 of vol, so its
vanna is +0.05698 coin per 1.00 of vol in the usd numeraire and 0.05698 −
6,837/60,000 = −0.05698 in the coin numeraire; its volga is −0.00843 USD per
vol point per vol point (slightly negative at the money).

Worked examples (docs/architecture.md §3): an inverse perp of −30,000 USD at 60,000
is −0.5 BTC; a Deribit BTC call with F = S = K = 60,000, 30 days, σ = 60 %,
r = 0 is worth 0.06854 BTC with Δ_BS = 0.5343, so its net delta is 0.4657 per
option (coin numeraire; in the usd numeraire the account's BTC equity adds on).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.ids import Currency
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.timeunits import DAYS_PER_YEAR, MS_PER_YEAR
from bot.domain.units import amount_to_coin
from bot.pricing import Greeks, black76
from bot.pricing.arrays import BoolArray, FloatArray, IntArray

_VOL_POINT: Final = 0.01
_PCT_MOVE: Final = 0.01


class Numeraire(StrEnum):
    """What the hedger keeps neutral: USD value, or coin value of the coin accounts."""

    USD = "usd"
    COIN = "coin"


@dataclass(frozen=True, slots=True)
class GreekTotals:
    """Greeks per underlying (arrays aligned with ``Exposure.underlyings``)."""

    delta_coin: FloatArray
    gamma_coin_per_pct: FloatArray
    vega_usd_per_volpt: FloatArray
    theta_usd_per_day: FloatArray


@dataclass(frozen=True, slots=True)
class ExpiryBuckets:
    """Delta, gamma and vega per (underlying, expiry) pair present in the live book.

    Sorted by underlying, then expiry; perpetuals and spot sit in the
    ``NO_EXPIRY_MS`` bucket (they carry gamma in the coin numeraire). The deltas are
    the positions' own: coin collateral (the usd numeraire) is in no bucket.
    """

    underlying_idx: IntArray
    expiry_ms: IntArray
    delta_coin: FloatArray
    gamma_coin_per_pct: FloatArray
    vega_usd_per_volpt: FloatArray


@dataclass(frozen=True, slots=True)
class Exposure:
    """Book Greeks per underlying in one numeraire at one valuation time.

    Totals are ``options`` + ``hedges`` (futures, perps, spot), plus
    ``collateral_delta_coin`` in delta (the coin equity in the usd numeraire,
    zero in the coin numeraire). ``vanna_coin_per_vol`` (d delta / d vol, coin per
    1.00 of vol) and ``volga_usd_per_volpt2`` (d vega / d vol, USD per vol point per
    vol point) come from the options alone. ``delta_usd`` = ``delta_coin`` ×
    ``index_usd``; ``n_expired`` counts non-zero positions at or past expiry,
    which contribute nothing.
    """

    underlyings: tuple[Currency, ...]
    numeraire: Numeraire
    valuation_ts_ms: int
    delta_coin: FloatArray
    delta_usd: FloatArray
    gamma_coin_per_pct: FloatArray
    vega_usd_per_volpt: FloatArray
    theta_usd_per_day: FloatArray
    vanna_coin_per_vol: FloatArray
    volga_usd_per_volpt2: FloatArray
    collateral_delta_coin: FloatArray
    index_usd: FloatArray
    options: GreekTotals
    hedges: GreekTotals
    n_expired: IntArray
    buckets: ExpiryBuckets


@dataclass(frozen=True, slots=True)
class Valuation:
    """One pricing pass over the book: its :class:`Exposure` and the per-position terms
    that the hedge plan, the delta cross-check and the vol-only view read from it.

    Per position (aligned with the table): ``tau_years`` and ``vol`` of a live option
    (0 and NaN elsewhere), ``bs_delta`` its Black-76 delta per unit (NaN elsewhere).
    Per underlying: ``sigma`` and ``tau_years_weighted``, the vol and expiry of the
    options weighted by |position vega| (what the strategy kernels take: those of the
    options that dominate the risk; NaN and 0 without options), and
    ``delta_fixed_vol_coin``, the total delta with each option at its ``fixed_vol``
    (None when no fixed vols were given).
    """

    exposure: Exposure
    tau_years: FloatArray
    vol: FloatArray
    bs_delta: FloatArray
    sigma: FloatArray
    tau_years_weighted: FloatArray
    delta_fixed_vol_coin: FloatArray | None


def value_book(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    numeraire: Numeraire | str,
    collateral_coin: ArrayLike | Mapping[str, float],
    rate: ArrayLike = 0.0,
    vol_override: ArrayLike | None = None,
    fixed_vol: ArrayLike | None = None,
    counted_frac: ArrayLike = 1.0,
) -> Valuation:
    """Price the book once and aggregate its Greeks per underlying (module docstring).

    ``forward_usd`` is one USD price per position: the option's forward (the
    mark's ``underlying_usd``) and, for a USD-counted inverse future or perp,
    the price that converts its USD size to coin (Deribit uses the contract's
    own mark). ``collateral_coin`` is coin equity per underlying, an array
    aligned with ``table.underlyings`` or a mapping by name (missing names 0).
    ``rate`` is the discount rate, a scalar or per position. Options are priced
    at ``vol_override`` (per position) if given, else ``mark_iv``; with
    ``fixed_vol`` (per position) the same single pricing call also prices every
    option at that vol, for ``delta_fixed_vol_coin``. ``counted_frac`` (per position)
    scales what a position contributes, e.g. an option fading out in its settlement
    window (:mod:`bot.domain.settlement`).

    ``index_usd`` for ``delta_usd`` comes from the table; where it is NaN the
    mean forward of that underlying's live positions stands in.
    """
    mode = _as_numeraire(numeraire)
    n, m = len(table), len(table.underlyings)
    rates = _per_position("rate", rate, n)
    collateral = _per_underlying_collateral(collateral_coin, table.underlyings)
    expired, live = _expired_and_live(table, valuation_ts_ms)
    f = _per_position("forward_usd", forward_usd, n)[live]
    _require("forward_usd must be a positive finite USD price", _bad(f), live, table, f)
    und = table.underlying_idx[live]
    inverse = table.is_inverse[live]
    counted = _per_position("counted_frac", counted_frac, n)[live]
    q = amount_to_coin(table.size[live], table.amount_is_usd[live], f) * counted
    is_opt = table.kind[live] == KindCode.OPTION

    vols = table.mark_iv if vol_override is None else _per_position("vol_override", vol_override, n)
    delta = q.copy()
    gamma, vega, theta, vanna, volga = (np.zeros_like(q) for _ in range(5))
    delta_fixed = None if fixed_vol is None else q.copy()
    tau_pos, vol_pos, bs_delta = np.zeros(n), np.full(n, np.nan), np.full(n, np.nan)
    o = np.flatnonzero(is_opt)
    if o.size:
        at = live[o]
        sigma = vols[at]  # each option column gathered once: 10,000 rows per cycle
        _require("no usable vol (mark_iv or vol_override)", _bad(sigma), at, table, sigma)
        tau_at = (table.expiry_ms[at] - valuation_ts_ms) / MS_PER_YEAR
        tau_pos[at], vol_pos[at] = tau_at, sigma
        if fixed_vol is not None:  # row 0 at today's vols, row 1 at the fixed ones
            fixed = _per_position("fixed_vol", fixed_vol, n)[at]
            sigma = np.stack([sigma, np.where(np.isfinite(fixed), fixed, sigma)])
        q_o, f_o, inverse_o = q[o], f[o], inverse[o]
        g = black76(table.is_call[at], f_o, table.strike_usd[at], tau_at, sigma, rates[at])
        net = g.delta - np.where(inverse_o, g.price / f_o, 0.0)  # premium-adjusted
        if delta_fixed is not None:
            delta_fixed[o] = q_o * net[1]
            g, net = Greeks(*(getattr(g, k.name)[0] for k in dataclasses.fields(g))), net[0]
        delta[o], gamma[o] = q_o * net, q_o * g.gamma
        vega[o], theta[o] = q_o * g.vega * _VOL_POINT, q_o * g.theta / DAYS_PER_YEAR
        vanna[o], volga[o] = _vol_greeks(g, q_o, f_o, inverse_o & (mode is Numeraire.COIN))
        bs_delta[at] = g.delta
    gamma_pct = _PCT_MOVE * (f * gamma - np.where(inverse & (mode is Numeraire.COIN), delta, 0.0))

    # Bin 2u holds underlying u's options, bin 2u+1 its hedges.
    legs = 2 * und + ~is_opt

    def by_leg(x: FloatArray) -> NDArray[np.float64]:
        return _sum_by(legs, x, 2 * m).reshape(m, 2)

    d, gm, vg, th = by_leg(delta), by_leg(gamma_pct), by_leg(vega), by_leg(theta)
    options = GreekTotals(d[:, 0], gm[:, 0], vg[:, 0], th[:, 0])
    hedges = GreekTotals(d[:, 1], gm[:, 1], vg[:, 1], th[:, 1])
    collateral_delta = collateral if mode is Numeraire.USD else np.zeros(m)
    delta_coin = d.sum(axis=1) + collateral_delta
    index_usd = _index_usd(table, und, f, m)
    _require_index(table, index_usd, delta_coin)
    exposure = Exposure(
        underlyings=table.underlyings,
        numeraire=mode,
        valuation_ts_ms=valuation_ts_ms,
        delta_coin=delta_coin,
        delta_usd=np.where(delta_coin == 0, 0.0, delta_coin * index_usd),
        gamma_coin_per_pct=gm.sum(axis=1),
        vega_usd_per_volpt=vg.sum(axis=1),
        theta_usd_per_day=th.sum(axis=1),
        vanna_coin_per_vol=_sum_by(und, vanna, m),
        volga_usd_per_volpt2=_sum_by(und, volga, m),
        collateral_delta_coin=collateral_delta,
        index_usd=index_usd,
        options=options,
        hedges=hedges,
        n_expired=np.bincount(table.underlying_idx[expired], minlength=m),
        buckets=_buckets(table, live, delta=delta, gamma_pct=gamma_pct, vega=vega),
    )
    sigma_u, tau_u = _vega_weighted(
        und, np.where(is_opt, vega, 0.0), vol_pos[live], tau_pos[live], m
    )
    return Valuation(
        exposure=exposure,
        tau_years=tau_pos,
        vol=vol_pos,
        bs_delta=bs_delta,
        sigma=sigma_u,
        tau_years_weighted=tau_u,
        delta_fixed_vol_coin=None
        if delta_fixed is None
        else _sum_by(und, delta_fixed, m) + collateral_delta,
    )


def _vol_greeks(
    g: Greeks, q: FloatArray, f: FloatArray, coin_premium: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Position vanna (coin per 1.00 of vol) and volga (USD per vol point per vol point).

    ``coin_premium`` marks inverse options counted in the coin numeraire, whose net delta
    carries the premium term −V/F and so the vol derivative −vega/F (module docstring).
    """
    vanna = g.vanna - np.where(coin_premium, g.vega / f, 0.0) if coin_premium.any() else g.vanna
    return q * vanna, q * (g.volga * _VOL_POINT**2)


def _expired_and_live(table: PositionTable, valuation_ts_ms: int) -> tuple[BoolArray, IntArray]:
    """Non-zero dated positions at or past expiry (a mask), and the rows that still count."""
    nonzero = table.size != 0
    dated = (table.kind == KindCode.OPTION) | (table.kind == KindCode.FUTURE)
    expired = nonzero & dated & (table.expiry_ms <= valuation_ts_ms)
    return expired, np.flatnonzero(nonzero & ~expired)


def _vega_weighted(
    und: IntArray, vega: FloatArray, vol: FloatArray, tau_years: FloatArray, m: int
) -> tuple[FloatArray, FloatArray]:
    """Vol and expiry per underlying, weighted by |position vega| (NaN and 0 without any).

    ``vol`` is finite or NaN (value_book has checked every option's); a NaN counts as 0.
    """
    weight = np.abs(vega)
    weight = np.where(np.isfinite(weight), weight, 0.0)
    total = _sum_by(und, weight, m)
    known_vol = np.where(np.isnan(vol), 0.0, vol)  # nan_to_num's inf checks cost 3x, unneeded
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(total > 0, _sum_by(und, weight * known_vol, m) / total, np.nan)
        tau = np.where(total > 0, _sum_by(und, weight * tau_years, m) / total, 0.0)
    return sigma, tau


def _buckets(
    table: PositionTable,
    live: IntArray,
    *,
    delta: FloatArray,
    gamma_pct: FloatArray,
    vega: FloatArray,
) -> ExpiryBuckets:
    """Sum per (underlying, expiry) pair held live: the book's pairs
    (:meth:`PositionTable.expiry_groups`, sorted once per instrument set) less those
    without a live row."""
    und, expiry_ms, row_group = table.expiry_groups()
    group = row_group[live]
    held = np.bincount(group, minlength=und.shape[0]) > 0
    renumbered = (np.cumsum(held) - 1)[group]
    k = int(np.count_nonzero(held))
    return ExpiryBuckets(
        underlying_idx=und[held],
        expiry_ms=expiry_ms[held],
        delta_coin=_sum_by(renumbered, delta, k),
        gamma_coin_per_pct=_sum_by(renumbered, gamma_pct, k),
        vega_usd_per_volpt=_sum_by(renumbered, vega, k),
    )


def _sum_by(idx: NDArray[np.intp] | IntArray, weights: FloatArray, bins: int) -> FloatArray:
    """Weighted sum per bin (np.bincount, typed as float)."""
    return np.bincount(idx, weights=weights, minlength=bins).astype(np.float64, copy=False)


def _index_usd(table: PositionTable, und: IntArray, f: FloatArray, m: int) -> FloatArray:
    """Venue index per underlying; the mean live forward where the venues gave none."""
    count = np.bincount(und, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_forward = _sum_by(und, f, m) / count
    return np.where(np.isnan(table.index_usd), mean_forward, table.index_usd)


def _require_index(table: PositionTable, index_usd: FloatArray, delta_coin: FloatArray) -> None:
    """A delta with no USD price to convert it at is an error, never a zero delta_usd."""
    no_price = np.isnan(index_usd) & (delta_coin != 0)
    if no_price.any():
        name = table.underlyings[int(np.argmax(no_price))]
        raise ValueError(f"{name}: no index_usd and no live position to price delta_usd from")


def _as_numeraire(value: Numeraire | str) -> Numeraire:
    try:
        return Numeraire(value)
    except ValueError:
        raise ValueError(f"numeraire must be 'usd' or 'coin', got {value!r}") from None


def _per_position(name: str, value: ArrayLike, n: int) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, arr)
    if arr.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or one value per position ({n}), got {arr.shape}"
        )
    return arr


def _per_underlying_collateral(
    value: ArrayLike | Mapping[str, float], underlyings: tuple[Currency, ...]
) -> FloatArray:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(underlyings))
        if unknown:
            raise ValueError(f"collateral_coin names {unknown}, not underlyings of the table")
        arr = np.array([float(value.get(u, 0.0)) for u in underlyings])
    else:
        arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (len(underlyings),):
        raise ValueError(
            f"collateral_coin must have one value per underlying {underlyings}, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"collateral_coin must be finite, got {arr}")
    return arr


def _bad(x: FloatArray) -> NDArray[np.bool_]:
    """Not a positive finite number (NaN included)."""
    return ~(np.isfinite(x) & (x > 0))


def _require(
    problem: str, bad: NDArray[np.bool_], at: IntArray, table: PositionTable, got: FloatArray
) -> None:
    """Raise naming the first bad position: a bad mark must never become a zero delta."""
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(
            f"{table.label(int(at[j]))}: {problem}, got {got[j]!r} ({int(bad.sum())} positions)"
        )
