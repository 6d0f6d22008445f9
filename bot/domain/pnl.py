"""P&L attribution of the hedged book between consecutive cycle valuations (pure).

Each cycle journals, per underlying, the Greeks its decision was made on and the
coin equity of every account (docs/architecture.md §9). Between two such
valuations of one underlying (index S₀ → S₁, vol σ₀ → σ₁, Δt days), the second-order
Taylor expansion of the book's USD value (Hull, *Options, Futures, and Other
Derivatives*, ch. 19, "Taylor series expansions") splits the USD equity change into:

- delta  = (book delta₀ + hedge₀ + coin traded in the interval) · (S₁ − S₀): the start's
  orders fill right after its valuation (an inverse perp's coin count moves with the
  price, but in the usd numeraire its P&L in the coin equity offsets that exactly);
- gamma  = ½ · Γ · (S₁ − S₀)², with Γ per USD = gamma per 1 % / (0.01 · S₀);
- theta  = theta per day · Δt;
- vega   = vega per vol point · (σ₁ − σ₀) · 100;
- slippage = Σ over fills of coin bought · (index at send − fill price);
- fees   = −Σ fees in USD (a maker rebate is a negative fee, so a gain);
- funding = what the venue reports received (+) or paid (−), in USD (a USD-like payment
  at par, a coin one at the index);
- unexplained = equity change − all of the above: higher-order terms, the hedge's
  basis to the index, vol moves along the smile that the book's vega-weighted σ
  misses, and funding a venue did not report.

The equity is the coin equity of every account at the index plus the USD equity of the
USD-settled (linear) accounts hedging the underlying (:func:`linear_equity_usd`).

All amounts are USD; the sum of the components equals the equity change exactly by
construction of the residual (to float rounding).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Final

import numpy as np

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.snapshot import VenueSnapshot
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.units import position_coin
from bot.pricing.arrays import FloatArray, IntArray

_PCT: Final = 0.01
_VOL_POINT: Final = 0.01
_USD_LIKE: Final = frozenset({"USD", "USDC", "USDT"})
"""Fee currencies counted at par with the US dollar."""


@dataclass(frozen=True, slots=True)
class ValuationPoint:
    """One underlying as one cycle valued it: the Greeks its decision used, the coin
    equity of every account (all venues, all sub-accounts) in that coin, and the USD
    equity of the USD-settled accounts that hedge it (:func:`linear_equity_usd`)."""

    ts_ms: int
    index_usd: float
    book_delta_coin: float
    hedge_coin: float
    gamma_coin_per_pct: float
    vega_usd_per_volpt: float
    theta_usd_per_day: float
    sigma: float
    equity_coin: float
    linear_usd: float = 0.0

    @property
    def equity_usd(self) -> float:
        return self.equity_coin * self.index_usd + self.linear_usd

    @classmethod
    def of(
        cls,
        ts_ms: int,
        greeks: Mapping[str, float],
        equity_coin: float,
        linear_usd: float = 0.0,
    ) -> ValuationPoint:
        """The point of a decision's Greeks (``UnderlyingDecision.greeks``, as journaled)."""
        return cls(
            ts_ms=ts_ms,
            index_usd=greeks["index_usd"],
            book_delta_coin=greeks["book_delta_coin"],
            hedge_coin=greeks["hedge_coin"],
            gamma_coin_per_pct=greeks["gamma_coin_per_pct"],
            vega_usd_per_volpt=greeks["vega_usd_per_volpt"],
            theta_usd_per_day=greeks["theta_usd_per_day"],
            sigma=greeks["sigma"],
            equity_coin=equity_coin,
            linear_usd=linear_usd,
        )


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of a hedge order: ``coin`` signed (+ bought), its price and the index
    when its order was decided (both USD per coin), and its fee in USD (+ paid)."""

    ts_ms: int
    coin: float
    price_usd: float
    index_at_send_usd: float
    fee_usd: float


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding settlement a venue reports on a perpetual: ``amount`` in ``currency``,
    received (+) or paid (−); ``payment_id`` is the venue's own id of it (Binance's
    ``tranId``), so reading it twice journals it once."""

    venue: VenueId
    payment_id: str
    symbol: Symbol
    underlying: Currency
    ts_ms: int
    amount: float
    currency: Currency


@dataclass(frozen=True, slots=True)
class PnlComponents:
    """An attribution in USD; ``unexplained_usd`` closes it to ``equity_change_usd``."""

    delta_usd: float = 0.0
    gamma_usd: float = 0.0
    theta_usd: float = 0.0
    vega_usd: float = 0.0
    slippage_usd: float = 0.0
    fees_usd: float = 0.0
    funding_usd: float = 0.0
    unexplained_usd: float = 0.0
    equity_change_usd: float = 0.0

    @property
    def explained_usd(self) -> float:
        return math.fsum(getattr(self, n) for n in EXPLAINED)

    def __add__(self, other: PnlComponents) -> PnlComponents:
        return PnlComponents(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


EXPLAINED: Final = (
    "delta_usd",
    "gamma_usd",
    "theta_usd",
    "vega_usd",
    "slippage_usd",
    "fees_usd",
    "funding_usd",
)
"""The components a model explains, in report order (``unexplained_usd`` closes them)."""
COMPONENTS: Final = (*EXPLAINED, "unexplained_usd")


def index_factors(
    venues: Iterable[VenueSnapshot], cycle_index_usd: Mapping[Currency, float]
) -> list[dict[Currency, float]]:
    """Per venue, the factor per underlying that moves its prices to the cycle's index.

    Each venue's balances and marks are read at its own moment, and on a fast clock or in a
    fast market the venues' moments straddle a move: the options read before a jump and
    the hedge after would value a hedged book as if it were not. The cycle values every
    venue at one index per underlying (the one its decisions carry), so a venue's price
    that was read against index I_v counts at I_v's move to that index, S / I_v. Example:
    Deribit read BTC's index at 60,000 a moment before a −8 % jump, Binance at 55,200
    after it, and the cycle's index is Binance's: Deribit's prices count at 0.92 of
    their read, Binance's at 1. An underlying either side lacks is absent (factor 1).
    """
    out = []
    for snap in venues:
        factors = {}
        for u, own in snap.index_usd.items():
            cycle = cycle_index_usd.get(u, math.nan)
            if math.isfinite(cycle) and cycle > 0 and math.isfinite(own) and own > 0:
                factors[u] = cycle / own
        out.append(factors)
    return out


def linear_equity_usd(
    venues: Sequence[VenueSnapshot],
    underlyings: Sequence[Currency],
    candidates: Sequence[Sequence[int]] | None = None,
    factors: Sequence[Mapping[Currency, float]] | None = None,
) -> dict[Currency, float]:
    """Per underlying, the USD equity of the USD-settled (USDT/USDC) accounts hedging it.

    A coin account's equity is in ``equity_coin``; a linear account's is in dollars and
    hedges several underlyings at once, so it is split: each linear position's unrealised
    P&L (coin · (mark − entry)) goes to its underlying, and the rest of the account (its
    cash) in equal shares to the underlyings it holds positions in (none: to no
    underlying). The shares stay fixed while the positions do, so what moves an
    underlying's figure is its own positions' marks; a realised P&L, fee or funding
    payment moves cash and is shared, a small rest the attribution leaves unexplained.

    The cash is the equity minus the unrealised P&L the venue reported inside it with the
    same read (``Balance.unrealised_pnl``; where none is reported, minus the gains at the
    marks): the balance and the marks are two requests, and minutes of a fast clock apart
    the gains at the marks would leave the gap between the two reads in the cash. With
    ``factors`` (per venue, from :func:`index_factors`) the gains are taken at the marks
    moved to the cycle's index. Example: short 2 BTC from 60,000, the balance read at a mark
    of 57,100 (equity 105,800 holding +5,800 of it), the mark read at 57,000 and the
    cycle's index 57,000 at a venue index of 56,950: cash 100,000, BTC's gain
    −2 · (57,000 · 57,000/56,950 − 60,000) = 5,899.91.

    ``candidates`` (per venue, the indices of its positions that may be linear
    futures, perps or spot, e.g. the table's non-inverse non-options) spares a cycle a
    walk over every option it holds; None looks at every position.
    """
    out = dict.fromkeys(underlyings, 0.0)
    for v, snap in enumerate(venues):
        usd = [b for b in snap.balances if b.currency in _USD_LIKE]
        reported = [b.unrealised_pnl for b in usd if b.unrealised_pnl is not None]
        cash = math.fsum(b.equity for b in usd) - math.fsum(reported)
        upnl: dict[Currency, float] = {}
        held = snap.positions
        for p in held if candidates is None else map(held.__getitem__, candidates[v]):
            inst = p.instrument
            if inst.settle not in _USD_LIKE or inst.is_option or p.size == 0:
                continue  # the cheap tests first: this walks the whole book every cycle
            mark = snap.marks.get(inst.symbol)
            if mark is None:
                continue
            entry = p.average_price or mark.mark_price
            coin = position_coin(inst, p.size, mark.mark_price)
            moved = mark.mark_price * (factors[v].get(inst.underlying, 1.0) if factors else 1.0)
            upnl[inst.underlying] = upnl.get(inst.underlying, 0.0) + coin * (moved - entry)
            if not reported:
                cash -= coin * (mark.mark_price - entry)
        for u, gain in upnl.items():
            if u in out:
                out[u] += gain + cash / len(upnl)
    return out


def fee_usd(fee: float, fee_currency: str, underlying: str, index_usd: float) -> float:
    """A fee in USD: a coin fee at the index, a USD-like one at par; NaN for any other
    currency (the report shows it unknown rather than guess). 0.0003 BTC at 60,000 is 18."""
    if fee_currency == underlying:
        return fee * index_usd
    return fee if fee_currency in _USD_LIKE else math.nan


@dataclass(frozen=True, slots=True)
class Valuations:
    """One underlying's valuations, oldest first, as columns (one entry per cycle): what
    a week of cycles is attributed from without an object per cycle."""

    ts_ms: IntArray
    index_usd: FloatArray
    book_delta_coin: FloatArray
    hedge_coin: FloatArray
    gamma_coin_per_pct: FloatArray
    vega_usd_per_volpt: FloatArray
    theta_usd_per_day: FloatArray
    sigma: FloatArray
    equity_coin: FloatArray
    linear_usd: FloatArray

    def __len__(self) -> int:
        return len(self.ts_ms)

    @classmethod
    def of(cls, points: Sequence[ValuationPoint]) -> Valuations:
        """The columns of ``points`` (oldest first)."""
        return cls(
            np.array([p.ts_ms for p in points], dtype=np.int64),
            *(np.array([getattr(p, n) for p in points], dtype=float) for n in _POINT_FLOATS),
        )

    def point(self, i: int) -> ValuationPoint:
        """The ``i``-th valuation as a value (``-1``: the newest)."""
        return ValuationPoint(
            int(self.ts_ms[i]), *(float(getattr(self, n)[i]) for n in _POINT_FLOATS)
        )


_POINT_FLOATS: Final = tuple(f.name for f in fields(ValuationPoint))[1:]
"""ValuationPoint's float fields, in order (after ``ts_ms``)."""


def _binned(ts_ms: IntArray, at_ms: Sequence[int], values: Sequence[float]) -> FloatArray:
    """``values`` summed per interval ``[ts_ms[i], ts_ms[i + 1])`` holding their ``at_ms``;
    one before the first valuation or at or after the last counts nowhere yet."""
    n = len(ts_ms) - 1
    slot = np.searchsorted(ts_ms, np.array(at_ms, dtype=np.int64), side="right") - 1
    mine = (slot >= 0) & (slot < n)
    weights = np.array(values, dtype=float)[mine]
    return np.bincount(slot[mine], weights=weights, minlength=n).astype(np.float64)


def _funding_usd(v: Valuations, funding: Sequence[FundingPayment]) -> FloatArray:
    """Funding received per interval in USD: a USD-like payment at par, a coin one at the
    index of the valuation before it."""
    at = [f.ts_ms for f in funding]
    before = np.searchsorted(v.ts_ms, np.array(at, dtype=np.int64), side="right") - 1
    index = v.index_usd[np.clip(before, 0, len(v) - 1)]
    usd = [
        fee_usd(f.amount, f.currency, f.underlying, float(s))
        for f, s in zip(funding, index, strict=True)
    ]
    return _binned(v.ts_ms, at, usd)


def _intervals(
    v: Valuations, trades: Sequence[Trade], funding: Sequence[FundingPayment] = ()
) -> dict[str, FloatArray]:
    """Every component of each interval between consecutive valuations, as arrays of
    ``len(v) - 1`` (see the module docstring). A trade or funding payment counts in the
    interval ``[start, end)`` that holds it (a cycle's orders go out after its valuation);
    one before the first valuation or at or after the last counts nowhere yet."""
    n = len(v) - 1
    if n < 1:
        return {name: np.zeros(0) for name in (*COMPONENTS, "equity_change_usd")}
    at = [t.ts_ms for t in trades]
    traded = _binned(v.ts_ms, at, [t.coin for t in trades])
    slippage = _binned(v.ts_ms, at, [t.coin * (t.index_at_send_usd - t.price_usd) for t in trades])
    fees = _binned(v.ts_ms, at, [t.fee_usd for t in trades])
    s0, move = v.index_usd[:-1], np.diff(v.index_usd)
    gamma_per_usd = v.gamma_coin_per_pct[:-1] / (_PCT * s0)
    parts = {
        "delta_usd": (v.book_delta_coin[:-1] + v.hedge_coin[:-1] + traded) * move,
        "gamma_usd": 0.5 * gamma_per_usd * move * move,
        "theta_usd": v.theta_usd_per_day[:-1] * (np.diff(v.ts_ms) / MS_PER_DAY),
        "vega_usd": v.vega_usd_per_volpt[:-1] * np.diff(v.sigma) / _VOL_POINT,
        "slippage_usd": slippage,
        "fees_usd": -fees,
        "funding_usd": _funding_usd(v, funding),
    }
    change = np.diff(v.equity_coin * v.index_usd + v.linear_usd)
    explained = np.sum([parts[name] for name in EXPLAINED], axis=0)
    return parts | {"unexplained_usd": change - explained, "equity_change_usd": change}


def attribute_interval(
    start: ValuationPoint,
    end: ValuationPoint,
    trades: Iterable[Trade] = (),
    funding: Iterable[FundingPayment] = (),
) -> PnlComponents:
    """The components of one interval (see the module docstring).

    Worked example (Hull's expansion, by hand): S 60,000 → 60,600 over 12 h, book
    delta −1 coin, gamma 0.5 coin per 1 %, theta −1,200 USD/day,
    vega 300 USD/vol point, σ 0.60 → 0.61, one fill buying 0.1 coin at 60,030 with
    the index at 60,000 and 3 USD fee: delta (−1 + 0.8 + 0.1)·600 = −60 (hedge 0.8
    before the fill); gamma
    ½·(0.5/600)·600² = 150; theta −1,200·0.5 = −600; vega 300·1 = 300; slippage
    0.1·(60,000 − 60,030) = −3; fees −3; the rest of the equity change is unexplained.
    """
    arrays = _intervals(Valuations.of((start, end)), tuple(trades), tuple(funding))
    return PnlComponents(**{name: float(a[0]) for name, a in arrays.items()})


def utc_day(ts_ms: int) -> str:
    """The UTC calendar day of ``ts_ms`` as ``YYYY-MM-DD`` (pure: no clock is read)."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class PnlRow:
    """One underlying's attribution over one UTC day (intervals counted by their end)."""

    underlying: Currency
    day: str
    intervals: int
    pnl: PnlComponents


def daily(
    points: Mapping[Currency, Sequence[ValuationPoint] | Valuations],
    trades: Mapping[Currency, Sequence[Trade]],
    funding: Mapping[Currency, Sequence[FundingPayment]] | None = None,
) -> tuple[PnlRow, ...]:
    """Per underlying and UTC day, the sum of its intervals' components, in that order."""
    rows: list[PnlRow] = []
    for underlying in sorted(points):
        given = points[underlying]
        v = given if isinstance(given, Valuations) else Valuations.of(given)
        arrays = _intervals(v, trades.get(underlying, ()), (funding or {}).get(underlying, ()))
        days, which, counts = np.unique(
            v.ts_ms[1:] // MS_PER_DAY, return_inverse=True, return_counts=True
        )
        sums = {n: np.bincount(which, weights=a, minlength=len(days)) for n, a in arrays.items()}
        rows.extend(
            PnlRow(
                underlying,
                utc_day(int(day) * MS_PER_DAY),
                int(counts[k]),
                PnlComponents(**{n: float(total[k]) for n, total in sums.items()}),
            )
            for k, day in enumerate(days)
        )
    return tuple(rows)


def totals(rows: Iterable[PnlRow]) -> dict[Currency, PnlComponents]:
    """Per underlying, the sum of its rows' components."""
    out: dict[Currency, PnlComponents] = {}
    for row in rows:
        out[row.underlying] = out.get(row.underlying, PnlComponents()) + row.pnl
    return out


def pnl_line(underlying: Currency, pnl: PnlComponents) -> str:
    """One underlying's attribution on one line (the daily summary's), whole USD."""
    parts = ", ".join(f"{n.removesuffix('_usd')} {getattr(pnl, n):+,.0f}" for n in COMPONENTS)
    return f"P&L {underlying}: {pnl.equity_change_usd:+,.0f} USD ({parts})"
