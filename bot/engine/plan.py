"""One hedge cycle's computation: snapshot -> exposure -> strategy -> order intents (pure).

This is the functional core of the daemon (docs/architecture.md §1): no I/O, no clock,
every input a frozen value, so the same portfolio always yields the same
intents and the bench can time it alone. The shell around it
(:mod:`bot.engine.cycle`) reads the venues, journals and sends.

Per underlying with a hedge route:

- book delta = the exposure's total delta (options, coin collateral in the
  usd numeraire, futures and perps) minus the routed hedge instruments' own
  delta; hedge = those instruments' venue positions plus what is in flight,
  in coin;
- the strategy returns the new hedge; the change is split over the routes by
  weight, converted into each instrument's amount unit (USD for a Deribit
  inverse perp) at its mark, and rounded toward zero to the lot (an amount
  under the minimum size is skipped);
- each order is an IOC limit at the mark moved by at most the slippage, and
  no larger than the per-order notional cap: a big correction is worked off
  over several cycles (the gate's hourly and daily caps still bind).

Target-based, never incremental: an order is ``target − (position + in
flight)``, so an order whose fate is unknown is not sent again.

Worked example: book delta −2.0 BTC, hedge +0.5 BTC (Deribit inverse perp
of 30,000 USD at 60,000), band ±0.25 BTC to the centre: the strategy asks
for a hedge of +2.0 BTC, i.e. +1.5 BTC, an order to buy 90,000 USD of
BTC-PERPETUAL (9,000 lots of 10 USD) with an IOC limit of 60,300.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Final

import numpy as np

from bot.domain.exposure import ExpiryBuckets, Exposure, Numeraire, Valuation, value_book
from bot.domain.freshness import InputStamp, oldest
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import Instrument
from bot.domain.orders import OrderRequest, client_order_id
from bot.domain.pnl import index_factors, linear_equity_usd
from bot.domain.position_table import NO_MARK_TS_MS, KindCode, PositionTable
from bot.domain.revalue import unit_values
from bot.domain.risk import DeltaCrossCheck, OrderIntent
from bot.domain.rounding import amount_coin, hedge_amount, ioc_limit_price, side_of
from bot.domain.routes import HedgeRoute
from bot.domain.settlement import SettlementPolicy, counted_fraction
from bot.domain.snapshot import Mark, PortfolioSnapshot
from bot.domain.surface import Surface, vols_with_surfaces
from bot.domain.units import position_coin
from bot.pricing.arrays import FloatArray, IntArray
from strategies.base import BandedStrategy, HedgeState, Strategy

_PCT: Final = 0.01
_NEVER_HEDGED_S: Final = 1e12
"""``time_since_hedge_s`` of an underlying never hedged: finite, so it stays usable."""
_MIN_CHANGE_COIN: Final = 1e-12
_FIXED_VOL: Final = "net_delta_fixed_vol_coin"
"""The state field that needs the vols of the last hedge (only then are they tracked)."""
_CAP_SLACK: Final = 1e-9
"""An order is clipped a hair under the per-order cap, so float noise cannot breach it."""


class PlanError(ValueError):
    """The snapshot cannot be valued (a missing or bad mark): no hedge this cycle."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One routed hedge instrument as this cycle sees it (amounts in its amount unit)."""

    route: HedgeRoute
    instrument: Instrument
    mark: Mark
    position_amount: float
    in_flight_amount: float

    @property
    def price_usd(self) -> float:
        """USD price that converts this instrument's USD-counted amounts to coin."""
        return self.mark.mark_price

    def coin(self, amount: float) -> float:
        return position_coin(self.instrument, amount, self.price_usd)


@dataclass(frozen=True, slots=True)
class UnderlyingDecision:
    """What the cycle saw and chose for one underlying (all deltas in coin)."""

    underlying: Currency
    index_usd: float
    book_delta_coin: float
    hedge_coin: float
    target_delta_coin: float
    new_hedge_coin: float
    gamma_coin_per_pct: float
    vega_usd_per_volpt: float
    theta_usd_per_day: float
    sigma: float
    tau_years: float
    routed: bool
    reason: str
    equity_coin: float
    """The coin equity of every account in this coin (P&L attribution's equity)."""
    linear_usd: float = 0.0
    """The USD-settled accounts' equity attributed to this coin (``linear_equity_usd``)."""
    in_flight_coin: float = 0.0
    """The part of ``hedge_coin`` still in flight (open orders that may fill), coin."""
    band_lower_coin: float | None = None
    band_upper_coin: float | None = None
    """The no-trade band on the total delta the strategy decided against, coin (None: the
    strategy has none, as ``interval``; NaN: its inputs were unusable this cycle)."""
    vanna_coin_per_vol: float = 0.0
    """d book delta / d vol, coin per 1.00 of vol (what the strategy was given)."""
    volga_usd_per_volpt2: float = 0.0
    """d vega / d vol, USD per vol point per vol point."""

    @property
    def greeks(self) -> dict[str, float]:
        """The Greeks the decision was made on, with unit-carrying keys (for the journal)."""
        return {
            "book_delta_coin": self.book_delta_coin,
            "hedge_coin": self.hedge_coin,
            "gamma_coin_per_pct": self.gamma_coin_per_pct,
            "vega_usd_per_volpt": self.vega_usd_per_volpt,
            "theta_usd_per_day": self.theta_usd_per_day,
            "vanna_coin_per_vol": self.vanna_coin_per_vol,
            "volga_usd_per_volpt2": self.volga_usd_per_volpt2,
            "index_usd": self.index_usd,
            "sigma": self.sigma,
            "tau_years": self.tau_years,
        }


@dataclass(frozen=True, slots=True)
class CyclePlan:
    """The cycle's decisions, order intents (by underlying) and the checks the gate needs."""

    cycle_id: str
    valuation_ts_ms: int
    inputs: InputStamp
    """The oldest input the plan used (a mark, an index or a position read), on our clock."""
    decisions: tuple[UnderlyingDecision, ...]
    intents: tuple[OrderIntent, ...]
    delta_checks: Mapping[Currency, DeltaCrossCheck]
    vols_by_symbol: Mapping[Symbol, float]
    problems: tuple[str, ...]
    hedge_positions: tuple[tuple[Currency, VenueId, Symbol, float], ...] = ()
    """Each routed instrument's position plus in flight, in coin, before this cycle's orders."""
    expiry_buckets: ExpiryBuckets | None = None
    """The valuation's Greeks per (underlying, expiry); ``underlying_idx`` indexes
    ``decisions`` (kept for the dashboard: the same single pricing pass, no second one)."""


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything besides the snapshot that a plan depends on."""

    strategy: Strategy
    routes: Sequence[HedgeRoute]
    numeraire: Numeraire
    targets_coin: Mapping[Currency, float]
    cost_frac: float
    max_slippage_frac: float
    max_order_notional_usd: float
    in_flight: Mapping[tuple[VenueId, Symbol], float]
    last_hedge_ms: Mapping[Currency, int]
    fixed_vols: Mapping[Symbol, float] | None = None
    rate: float = 0.0
    surfaces: Mapping[VenueId, Mapping[Currency, Surface]] = field(default_factory=dict)
    """Fitted smiles per venue and underlying: vols for held options whose mark has none."""
    settlement: SettlementPolicy = field(default_factory=SettlementPolicy)
    """What the hedge counts of an option in its last minutes before expiry."""


def plan_cycle(portfolio: PortfolioSnapshot, inputs: PlanInputs, cycle_id: str) -> CyclePlan:
    """Decide this cycle's hedge orders from ``portfolio`` (see the module docstring)."""
    now_ms = portfolio.valuation_ts_ms
    routed = sorted({Currency(r.underlying) for r in inputs.routes})
    table, index_from = PositionTable.with_index_venues(portfolio.venues, underlyings=routed)
    forward = table.forward_usd()
    vols = vols_with_surfaces(table, inputs.surfaces)
    cycle_index = dict(zip(table.underlyings, table.index_usd.tolist(), strict=True))
    factors = index_factors(portfolio.venues, cycle_index)
    collateral = _collateral(portfolio, table, factors, vols=vols, now_ms=now_ms, rate=inputs.rate)
    linear_usd = linear_equity_usd(
        portfolio.venues, table.underlyings, _linear_rows(table), factors
    )
    wants_fixed = inputs.fixed_vols is not None and _FIXED_VOL in _reads(inputs.strategy)
    try:
        valuation = value_book(
            table,
            forward_usd=forward,
            valuation_ts_ms=now_ms,
            numeraire=inputs.numeraire,
            collateral_coin=collateral,
            rate=inputs.rate,
            vol_override=vols,
            fixed_vol=_fixed_vols(table, inputs.fixed_vols) if wants_fixed else None,
            counted_frac=counted_fraction(table, now_ms, inputs.settlement),
        )
    except ValueError as exc:
        raise PlanError(f"cannot value the book: {exc}") from exc
    exposure = valuation.exposure
    sigma, tau = valuation.sigma, valuation.tau_years_weighted
    legs, problems = _legs(portfolio, table, inputs)
    where = {u: i for i, u in enumerate(table.underlyings)}
    hedged = [u for u in routed if legs.get(u)]
    book = np.array([_book_delta(exposure, where[u], legs[u]) for u in hedged])
    hedge = np.array(
        [math.fsum(g.coin(g.position_amount + g.in_flight_amount) for g in legs[u]) for u in hedged]
    )
    new_hedge, band = _strategy_hedge(
        table, valuation, inputs, hedged=hedged, book=book, hedge=hedge, now_ms=now_ms
    )

    intents: list[OrderIntent] = []
    decisions: list[UnderlyingDecision] = []
    for u in table.underlyings:
        i = where[u]
        if u in hedged:
            k = hedged.index(u)
            b, h, n = float(book[k]), float(hedge[k]), float(new_hedge[k])
            made = _orders(
                cycle_id,
                legs[u],
                n - h,
                index_usd=float(exposure.index_usd[i]),
                inputs=inputs,
                seq0=len(intents),
            )
            intents.extend(made)
            reason = _reason(inputs.strategy.name, b, h, n, len(made))
            lower, upper = (None, None) if band is None else band[k]
        else:
            b = float(exposure.delta_coin[i])
            h = n = 0.0
            reason = "no hedge route: valued, not hedged"
            lower = upper = None
        decisions.append(
            UnderlyingDecision(
                underlying=u,
                index_usd=float(exposure.index_usd[i]),
                book_delta_coin=b,
                hedge_coin=h,
                target_delta_coin=inputs.targets_coin.get(u, 0.0),
                new_hedge_coin=n,
                gamma_coin_per_pct=float(exposure.gamma_coin_per_pct[i]),
                vega_usd_per_volpt=float(exposure.vega_usd_per_volpt[i]),
                theta_usd_per_day=float(exposure.theta_usd_per_day[i]),
                sigma=float(sigma[i]),
                tau_years=float(tau[i]),
                routed=u in hedged,
                reason=reason,
                equity_coin=float(collateral[i]),
                linear_usd=linear_usd[u],
                in_flight_coin=math.fsum(g.coin(g.in_flight_amount) for g in legs.get(u, ())),
                band_lower_coin=lower,
                band_upper_coin=upper,
                vanna_coin_per_vol=float(exposure.vanna_coin_per_vol[i]),
                volga_usd_per_volpt2=float(exposure.volga_usd_per_volpt2[i]),
            )
        )
    return CyclePlan(
        cycle_id=cycle_id,
        valuation_ts_ms=now_ms,
        inputs=_oldest_input(portfolio, table, legs, index_from),
        decisions=tuple(decisions),
        intents=tuple(intents),
        delta_checks=_delta_checks(table, valuation.bs_delta),
        vols_by_symbol=_vols(table) if _FIXED_VOL in _reads(inputs.strategy) else {},
        problems=tuple(problems),
        hedge_positions=tuple(
            (u, g.route.venue, g.route.symbol, g.coin(g.position_amount + g.in_flight_amount))
            for u in hedged
            for g in legs[u]
        ),
        expiry_buckets=exposure.buckets,
    )


def _oldest_input(
    portfolio: PortfolioSnapshot,
    table: PositionTable,
    legs: Mapping[Currency, Sequence[Leg]],
    index_from: Sequence[int],
) -> InputStamp:
    """The oldest of what the plan used: each venue's positions, the marks of the positions
    and hedge legs, and each underlying's index where the table took it from (``index_from``:
    per underlying, the venue's place in ``table.venues``, −1: none).

    Of a venue's positions only the one with the oldest mark is handed on (the first, on a
    tie, as a walk over them all would pick): the table carries each mark's time."""
    routed: dict[VenueId, list[Symbol]] = {}
    for leg in (g for group in legs.values() for g in group):
        routed.setdefault(leg.route.venue, []).append(leg.route.symbol)
    index_venue = {
        u: table.venues[v] for u, v in zip(table.underlyings, index_from, strict=True) if v >= 0
    }
    bounds = np.cumsum([0, *np.bincount(table.venue_idx, minlength=len(table.venues))]).tolist()
    stamps = []
    for v, snap in enumerate(portfolio.venues):  # the table's venues, in the same order
        lo, hi = bounds[v], bounds[v + 1]
        oldest_row = lo + int(np.argmin(table.mark_ts_ms[lo:hi])) if hi > lo else None
        held = (
            [table.symbols[oldest_row]]
            if oldest_row is not None and table.mark_ts_ms[oldest_row] != NO_MARK_TS_MS
            else []
        )
        stamps.append(
            snap.oldest_input(
                chain(held, routed.get(snap.venue, ())),
                [u for u in table.underlyings if index_venue.get(u) == snap.venue],
            )
        )
    return oldest(stamps)


def _linear_rows(table: PositionTable) -> list[list[int]]:
    """Per venue, the indices of its positions that may be USD-settled futures, perps or
    spot (non-inverse non-options with a size): what ``linear_equity_usd`` looks at."""
    spot = table.kind == KindCode.SPOT
    maybe = (~table.is_inverse | spot) & (table.kind != KindCode.OPTION) & (table.size != 0)
    counts = np.bincount(table.venue_idx, minlength=len(table.venues))
    starts = np.cumsum(counts) - counts
    return [
        (np.flatnonzero(maybe[lo : lo + c])).tolist()
        for lo, c in zip(starts.tolist(), counts.tolist(), strict=True)
    ]


def _collateral(
    portfolio: PortfolioSnapshot,
    table: PositionTable,
    factors: Sequence[Mapping[Currency, float]],
    *,
    vols: FloatArray,
    now_ms: int,
    rate: float,
) -> FloatArray:
    """Coin equity per underlying over every venue and sub-account (it is delta in usd).

    Where a venue reports the options' value inside its equity (Deribit's
    ``options_value``), that value, as of the balance read, is swapped for the same
    options at this read's marks: the balances and the marks are two requests, and on a
    fast clock (or a fast market) the seconds between them would otherwise count the
    options' coin value twice at two prices. Example: equity 10.2 BTC holding 0.2 BTC
    of options that the marks, read a moment later, price at 0.25 BTC: 10.25 BTC.
    The marks are moved to the cycle's index first (``factors``, one per venue from
    :func:`index_factors`), so a venue read before a jump counts after it like the rest.
    """
    where = {u: i for i, u in enumerate(table.underlyings)}
    totals = np.zeros(len(table.underlyings))
    coin_options = (table.kind == KindCode.OPTION) & table.is_inverse & ~table.amount_is_usd
    for snap, factor in zip(portfolio.venues, factors, strict=True):
        on_venue = coin_options & (table.venue_idx == _index_of(table.venues, snap.venue))
        for bal in snap.balances:
            if bal.currency in where:
                totals[where[bal.currency]] += bal.equity
        for currency, u in where.items():
            reported = [b.options_value for b in snap.balances if b.currency == currency]
            rows = np.flatnonzero(on_venue & (table.underlying_idx == u))
            prices = _moved_marks(
                table, rows, factor.get(currency, 1.0), vols=vols, now_ms=now_ms, rate=rate
            )
            marked = table.size[rows] * prices
            if reported and None not in reported and np.isfinite(marked).all():
                swapped = [-x for x in reported if x is not None] + marked.tolist()
                totals[u] += math.fsum(swapped)
    return totals


def _moved_marks(
    table: PositionTable,
    rows: IntArray,
    factor: float,
    *,
    vols: FloatArray,
    now_ms: int,
    rate: float,
) -> FloatArray:
    """The marks of the options ``rows`` with their forwards moved by ``factor``: each mark
    plus Black-76's change of value at its vol (a row without a usable vol keeps its mark).

    Example (Black-76 in coin, B(F)/F): a 60,000 call 30 days out at 60 % vol is worth
    0.06854 BTC at a forward of 60,000 and 0.03626 BTC at 55,200, so its mark of 0.0700
    read at 60,000 and moved by 0.92 counts 0.0700 − 0.03228 = 0.03772 BTC."""
    marks = table.mark_price[rows]
    if factor == 1.0 or not rows.size:
        return marks
    forward, vol = table.underlying_usd[rows], vols[rows]
    moved = unit_values(table, forward * factor, vol, now_ms, rate=rate, sel=rows)
    change = moved - unit_values(table, forward, vol, now_ms, rate=rate, sel=rows)
    return marks + np.where(np.isfinite(change), change, 0.0)


def _index_of(names: Sequence[VenueId], name: VenueId) -> int:
    """Position of ``name`` in ``names``; -1 (matching no row) if absent."""
    return names.index(name) if name in names else -1


def _fixed_vols(table: PositionTable, fixed: Mapping[Symbol, float] | None) -> FloatArray:
    """Per position, the implied vol at the last hedge (NaN: none kept, the vol of now)."""
    known = fixed or {}
    return np.array([known.get(s, math.nan) for s in table.symbols], dtype=np.float64)


def _legs(
    portfolio: PortfolioSnapshot, table: PositionTable, inputs: PlanInputs
) -> tuple[dict[Currency, list[Leg]], list[str]]:
    """The usable routes per underlying; an unusable one is a problem, never a guess."""
    snaps = {s.venue: s for s in portfolio.venues}
    held: dict[tuple[VenueId, Symbol], list[float]] = {}
    for i in table.rows_of(frozenset(r.symbol for r in inputs.routes)).tolist():
        key = (table.venues[table.venue_idx[i]], table.symbols[i])
        held.setdefault(key, []).append(float(table.size[i]))
    legs: dict[Currency, list[Leg]] = {}
    problems: list[str] = []
    for route in inputs.routes:
        where = f"hedge route {route.symbol} on {route.venue}"
        snap = snaps.get(route.venue)
        if snap is None:
            problems.append(f"{where}: venue not in the snapshot")
            continue
        instrument = snap.instruments.get(route.symbol)
        mark = snap.marks.get(route.symbol)
        if instrument is None or mark is None:
            problems.append(f"{where}: {'no such instrument' if instrument is None else 'no mark'}")
            continue
        if instrument.is_option or instrument.underlying != route.underlying:
            problems.append(f"{where}: not a {route.underlying} future or perpetual")
            continue
        if not (math.isfinite(mark.mark_price) and mark.mark_price > 0):
            problems.append(f"{where}: unusable mark {mark.mark_price!r}")
            continue
        size = math.fsum(held.get((route.venue, route.symbol), ()))
        flight = inputs.in_flight.get((route.venue, route.symbol), 0.0)
        legs.setdefault(Currency(route.underlying), []).append(
            Leg(route, instrument, mark, size, flight)
        )
    return legs, problems


def _book_delta(exposure: Exposure, i: int, legs: Sequence[Leg]) -> float:
    """Exposure delta without the routed instruments' positions (in flight is not in it)."""
    return float(exposure.delta_coin[i]) - math.fsum(g.coin(g.position_amount) for g in legs)


def _strategy_hedge(
    table: PositionTable,
    valuation: Valuation,
    inputs: PlanInputs,
    *,
    hedged: Sequence[Currency],
    book: FloatArray,
    hedge: FloatArray,
    now_ms: int,
) -> tuple[FloatArray, list[tuple[float, float]] | None]:
    """One strategy call over every hedged underlying (one element each): the new hedges,
    and the band edges (lower, upper) per underlying if the strategy has a band."""
    if not hedged:
        return np.zeros(0), None
    exposure = valuation.exposure
    idx = np.array([table.underlyings.index(u) for u in hedged])
    index = exposure.index_usd[idx]
    fixed = book
    if valuation.delta_fixed_vol_coin is not None:  # the vol-only move since the last hedge
        fixed = book + (valuation.delta_fixed_vol_coin - exposure.delta_coin)[idx]
    since = [
        (now_ms - inputs.last_hedge_ms[u]) / 1000 if u in inputs.last_hedge_ms else _NEVER_HEDGED_S
        for u in hedged
    ]
    state = HedgeState.from_arrays(
        spot_usd=index,
        net_delta_coin=book,
        net_delta_fixed_vol_coin=fixed,
        gamma_coin_per_usd=exposure.gamma_coin_per_pct[idx] / (_PCT * index),
        vanna_coin_per_vol=exposure.vanna_coin_per_vol[idx],
        vega_usd_per_volpt=exposure.vega_usd_per_volpt[idx],
        theta_usd_per_day=exposure.theta_usd_per_day[idx],
        hedge_coin=hedge,
        target_delta_coin=[inputs.targets_coin.get(u, 0.0) for u in hedged],
        sigma=valuation.sigma[idx],
        tau_years=valuation.tau_years_weighted[idx],
        rate=inputs.rate,
        cost_frac=inputs.cost_frac,
        time_since_hedge_s=since,
    )
    new_hedge = np.asarray(inputs.strategy.target_hedge(state), dtype=np.float64)
    if not isinstance(inputs.strategy, BandedStrategy):
        return new_hedge, None
    edges = inputs.strategy.band(state)
    return new_hedge, list(zip(edges.lower_coin.tolist(), edges.upper_coin.tolist(), strict=True))


def _reads(strategy: Strategy) -> tuple[str, ...]:
    return tuple(getattr(strategy, "reads", ()))


def _orders(
    cycle_id: str,
    legs: Sequence[Leg],
    change_coin: float,
    *,
    index_usd: float,
    inputs: PlanInputs,
    seq0: int,
) -> list[OrderIntent]:
    """The change split over the legs by weight, rounded to lots, priced IOC at the mark."""
    if not abs(change_coin) > _MIN_CHANGE_COIN:
        return []
    total_weight = math.fsum(g.route.weight for g in legs)
    out: list[OrderIntent] = []
    for leg in legs:
        share = change_coin * leg.route.weight / total_weight
        cap_coin = inputs.max_order_notional_usd / index_usd * (1 - _CAP_SLACK)
        share = math.copysign(min(abs(share), cap_coin), share)
        amount = hedge_amount(leg.instrument, share, leg.price_usd)
        if amount == 0.0:
            continue
        side = side_of(amount)
        coin = amount_coin(leg.instrument, abs(amount), leg.price_usd)
        request = OrderRequest(
            client_id=client_order_id(cycle_id, leg.route.venue, leg.route.symbol, seq0 + len(out)),
            venue=leg.route.venue,
            symbol=leg.route.symbol,
            side=side,
            amount=abs(amount),
            limit_price=ioc_limit_price(
                leg.instrument, leg.mark.mark_price, side, inputs.max_slippage_frac
            ),
        )
        out.append(
            OrderIntent(
                order=request,
                underlying=Currency(leg.route.underlying),
                notional_usd=coin * index_usd,
                amount_coin=coin,
                position_before_coin=leg.coin(leg.position_amount + leg.in_flight_amount),
            )
        )
    return out


def _reason(name: str, book: float, hedge: float, new: float, orders: int) -> str:
    verb = f"{orders} order(s)" if orders else "hold"
    return (
        f"{name}: book {book:+.6f}, hedge {hedge:+.6f} -> {new:+.6f} coin "
        f"(total {book + hedge:+.6f} -> {book + new:+.6f}); {verb}"
    )


def _delta_checks(table: PositionTable, bs_delta: FloatArray) -> dict[Currency, DeltaCrossCheck]:
    """Our options' Black-76 delta vs the venues' own, per underlying where every option has one.

    Both sides count coin per position: size (coin for options) × delta per unit.
    An underlying with any option lacking a venue delta is not cross-checked.
    """
    options = np.isfinite(bs_delta)
    checks: dict[Currency, DeltaCrossCheck] = {}
    for i, u in enumerate(table.underlyings):
        mine = options & (table.underlying_idx == i)
        if not mine.any() or not np.isfinite(table.venue_delta[mine]).all():
            continue
        position_delta = table.size[mine] * bs_delta[mine]
        ours = math.fsum(position_delta.tolist())
        theirs = math.fsum((table.size[mine] * table.venue_delta[mine]).tolist())
        gross = math.fsum(np.abs(position_delta).tolist())
        checks[u] = DeltaCrossCheck(ours_coin=ours, venue_coin=theirs, gross_coin=gross)
    return checks


def _vols(table: PositionTable) -> dict[Symbol, float]:
    """Implied vol of each option held: the 'vols at the last hedge' for vol-only moves."""
    option = table.kind == KindCode.OPTION
    return {
        table.symbols[i]: float(table.mark_iv[i])
        for i in np.flatnonzero(option & np.isfinite(table.mark_iv))
    }
