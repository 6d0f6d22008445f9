"""What ``deltabot demo`` prints (and saves) after a run: did the daemon keep the book hedged?

The daemon collects one :class:`CycleSample` per underlying per hedge cycle,
plus the orders, collateral transfers and account equities it saw, into a
:class:`RunReport`; this module turns that into a terminal report
(:func:`render_text`) and a JSON document (:func:`report_json`). Everything
here is pure so it is tested without a venue; the only I/O, the PNG chart,
lives in :mod:`bot.app.run_chart` (matplotlib is slow to import, so it is
loaded only when a chart is asked for).

Signs: delta and hedge positions are signed coin (long > 0); a buy adds to the
hedge. Non-finite numbers (a venue that returned no mark) print as ``n/a``
and become ``null`` in JSON, so one bad read never breaks the report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from bot.domain.ids import Currency
from bot.domain.pnl import PnlComponents, pnl_line
from bot.domain.timeunits import MS_PER_HOUR, iso_utc

NA = "n/a"
OUTSIDE_TOLERANCE_FRAC = 0.01
"""A total counts as outside its band beyond this fraction of the band's half-width: hedging
to the edge rounds the order to the lot, which can leave the total a hair outside."""
SAMPLE_DERIVED = ("total_delta_coin", "total_delta_usd")


@dataclass(frozen=True, slots=True)
class CycleSample:
    """One hedge cycle of one underlying, as the daemon saw it."""

    ts_ms: int
    underlying: str
    index_usd: float
    book_delta_coin: float  # book delta before the hedge (options + collateral + non-hedge)
    hedge_coin: float  # hedge position after the cycle's orders were sent (venue + in flight)
    target_delta_coin: float  # desired total delta
    band_lower_coin: float | None  # no-trade band, total-delta units (None: no band)
    band_upper_coin: float | None
    gamma_coin_per_pct: float
    vega_usd_per_volpt: float
    theta_usd_per_day: float
    sigma: float = math.nan  # the book's vega-weighted implied vol, fraction per year
    equity_coin: float = math.nan  # coin equity of every account in this coin
    linear_usd: float = 0.0  # this underlying's share of linear (USDT) accounts, USD

    @property
    def equity_usd(self) -> float:
        """The equity the P&L attribution follows: coin equity at the index plus the linear
        accounts' share (a USDT-margined hedge's gains are there, not in coin)."""
        return self.equity_coin * self.index_usd + self.linear_usd

    @property
    def total_delta_coin(self) -> float:
        """What the book is exposed to after hedging: the number the strategy steers."""
        return self.book_delta_coin + self.hedge_coin

    @property
    def total_delta_usd(self) -> float:
        """Total delta at the index, so underlyings can be compared in one currency."""
        return self.total_delta_coin * self.index_usd


@dataclass(frozen=True, slots=True)
class HedgeOrderRow:
    """One hedge order as journaled; ``amount`` is in ``amount_unit`` (USD for inverse perps)."""

    ts_ms: int
    venue: str
    symbol: str
    underlying: str
    side: str
    amount: float
    amount_unit: str
    amount_coin: float
    state: str
    filled_amount: float
    average_price: float | None
    fees: Mapping[str, float] = field(default_factory=dict)
    """The order's fees per fee currency, as the venue charged them (USDT on a USDⓈ-M perp)."""

    @property
    def filled_coin(self) -> float:
        """Signed filled coin (buy > 0): fills are in amount_unit, so scale the coin size."""
        if not (self.amount > 0.0 and math.isfinite(self.filled_amount)):
            return 0.0
        coin = abs(self.amount_coin) * self.filled_amount / self.amount
        return -coin if self.side.lower() == "sell" else coin


@dataclass(frozen=True, slots=True)
class TransferRow:
    """One collateral move the margin job sent."""

    ts_ms: int
    venue: str
    currency: str
    amount: float
    destination: str
    state: str


@dataclass(frozen=True, slots=True)
class AccountPnl:
    """One venue account's equity at the start and the end of the run."""

    venue: str
    equity_start_usd: float
    equity_end_usd: float

    @property
    def pnl_usd(self) -> float:
        """Equity change over the run: what the account actually made or lost."""
        return self.equity_end_usd - self.equity_start_usd


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything one run produced; ``started_ms``/``finished_ms`` are on the simulated clock."""

    started_ms: int
    finished_ms: int
    wall_s: float
    samples: tuple[CycleSample, ...]
    orders: tuple[HedgeOrderRow, ...]
    transfers: tuple[TransferRow, ...]
    accounts: tuple[AccountPnl, ...]
    hedge_pnl_usd: float  # hedge trades marked to the final price, computed by the caller
    events: tuple[str, ...]  # scripted market events, e.g. "2026-12-01 09:00 UTC BTC jump -8%"
    denials: tuple[str, ...]  # risk-gate denials, if any
    attribution: Mapping[Currency, PnlComponents] = field(default_factory=dict)
    """The journal's P&L attribution of the run per underlying (``deltabot pnl``'s totals)."""
    strategy: str = ""
    """The strategy, its parameters and cost, e.g. ``band(width_up=0.5, ...), cost_frac 0.0007``."""


@dataclass(frozen=True, slots=True)
class Excursion:
    """How far one underlying's total delta strayed: beyond its band, and from its target.

    ``ts_ms`` is the sample furthest outside the band or, if it never left the
    band, the sample furthest from the target.
    """

    ts_ms: int
    beyond_band_coin: float
    max_abs_deviation_coin: float


def by_underlying(report: RunReport) -> dict[str, list[CycleSample]]:
    """Samples grouped per underlying (first-seen order), each sorted by time."""
    groups: dict[str, list[CycleSample]] = {}
    for s in report.samples:
        groups.setdefault(s.underlying, []).append(s)
    return {u: sorted(g, key=lambda s: s.ts_ms) for u, g in groups.items()}


def greeks_before_after(report: RunReport) -> dict[str, tuple[CycleSample, CycleSample]]:
    """First and last sample per underlying: the book as the run found it and left it."""
    return {u: (g[0], g[-1]) for u, g in by_underlying(report).items()}


def beyond_band_coin(sample: CycleSample) -> float:
    """Coin by which total delta lies outside the band (0 inside); a missing edge is the target."""
    lower = sample.target_delta_coin if sample.band_lower_coin is None else sample.band_lower_coin
    upper = sample.target_delta_coin if sample.band_upper_coin is None else sample.band_upper_coin
    lower, upper = min(lower, upper), max(lower, upper)
    total = sample.total_delta_coin
    return max(0.0, total - upper, lower - total)


def outside_band(sample: CycleSample) -> bool:
    """Whether the total delta is outside the band by more than the rounding tolerance
    (:data:`OUTSIDE_TOLERANCE_FRAC` of the half-width); a sample without a band never is."""
    if sample.band_lower_coin is None or sample.band_upper_coin is None:
        return False
    half_width = abs(sample.band_upper_coin - sample.band_lower_coin) / 2.0
    return beyond_band_coin(sample) > OUTSIDE_TOLERANCE_FRAC * half_width


def largest_excursion(report: RunReport) -> dict[str, Excursion]:
    """Per underlying, the worst miss against the band and against the target.

    Samples with a non-finite total are skipped; if none is finite the figures are NaN.
    """
    out: dict[str, Excursion] = {}
    for u, group in by_underlying(report).items():
        finite = [s for s in group if math.isfinite(beyond_band_coin(s))]
        if not finite:
            out[u] = Excursion(group[0].ts_ms, math.nan, math.nan)
            continue
        beyond = max(finite, key=beyond_band_coin)  # max() keeps the first of equals
        deviation = max(finite, key=lambda s: abs(s.total_delta_coin - s.target_delta_coin))
        worst = beyond if beyond_band_coin(beyond) > 0.0 else deviation
        out[u] = Excursion(
            ts_ms=worst.ts_ms,
            beyond_band_coin=beyond_band_coin(beyond),
            max_abs_deviation_coin=abs(deviation.total_delta_coin - deviation.target_delta_coin),
        )
    return out


@dataclass(frozen=True, slots=True)
class BandTime:
    """How one underlying's total delta sat against its band over the run.

    Each sample stands for the time to the next one (the last, to the run's end).
    ``half_width_coin`` holds the band's half-width at each sample that had one: a
    cost-aware strategy's band moves with the book, and this is what its
    ``risk_aversion`` means in coin.
    """

    outside_ms: int
    span_ms: int
    outside_cycles: int
    cycles: int
    half_width_coin: tuple[float, ...]

    def half_width_range(self) -> tuple[float, float, float] | None:
        """The smallest, median and largest finite half-width, coin (None: no band)."""
        finite = sorted(w for w in self.half_width_coin if math.isfinite(w))
        if not finite:
            return None
        return finite[0], finite[len(finite) // 2], finite[-1]


def band_time(report: RunReport) -> dict[str, BandTime]:
    """Per underlying, the time and cycles spent outside the band, and the band's half-widths."""
    out: dict[str, BandTime] = {}
    for u, group in by_underlying(report).items():
        ends = [s.ts_ms for s in group[1:]] + [max(report.finished_ms, group[-1].ts_ms)]
        outside = [
            (end - s.ts_ms, s) for s, end in zip(group, ends, strict=True) if outside_band(s)
        ]
        widths = tuple(
            (s.band_upper_coin - s.band_lower_coin) / 2.0
            for s in group
            if s.band_lower_coin is not None and s.band_upper_coin is not None
        )
        out[u] = BandTime(
            outside_ms=sum(ms for ms, _ in outside),
            span_ms=ends[-1] - group[0].ts_ms,
            outside_cycles=len(outside),
            cycles=len(group),
            half_width_coin=widths,
        )
    return out


def _fmt(value: float | None, spec: str) -> str:
    if value is None or not math.isfinite(value):
        return NA
    return format(value + 0.0, spec)  # + 0.0 turns -0.0 into 0.0


def cycle_count(report: RunReport) -> int:
    """Hedge cycles run: the most samples any one underlying has."""
    return max((len(g) for g in by_underlying(report).values()), default=0)


def _instrument_fees(report: RunReport) -> dict[tuple[str, str], dict[str, float]]:
    """(venue, symbol) -> fees per fee currency over the run's orders."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for o in report.orders:
        fees = out.setdefault((o.venue, o.symbol), {})
        for currency, fee in o.fees.items():
            fees[currency] = fees.get(currency, 0.0) + fee
    return out


def _instrument_fills(report: RunReport) -> dict[tuple[str, str], tuple[int, float, float]]:
    """(venue, symbol) -> (orders, net filled coin, gross filled coin)."""
    out: dict[tuple[str, str], tuple[int, float, float]] = {}
    for o in report.orders:
        n, net, gross = out.get((o.venue, o.symbol), (0, 0.0, 0.0))
        out[o.venue, o.symbol] = (n + 1, net + o.filled_coin, gross + abs(o.filled_coin))
    return out


def _states(report: RunReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in report.orders:
        counts[o.state] = counts.get(o.state, 0) + 1
    return counts


def _sample_row(label: str, s: CycleSample) -> str:
    return (
        f"  {label:<9}{_fmt(s.index_usd, ',.2f'):>14}{_fmt(s.book_delta_coin, '+.4f'):>12}"
        f"{_fmt(s.hedge_coin, '+.4f'):>12}{_fmt(s.total_delta_coin, '+.4f'):>12}"
        f"{_fmt(s.total_delta_usd, '+,.0f'):>12}{_fmt(s.gamma_coin_per_pct, '+.4f'):>15}"
        f"{_fmt(s.vega_usd_per_volpt, '+,.1f'):>13}{_fmt(s.theta_usd_per_day, '+,.1f'):>13}"
    )


def _greeks_lines(report: RunReport) -> list[str]:
    head = (
        f"  {'':<9}{'index USD':>14}{'book coin':>12}{'hedge coin':>12}{'total coin':>12}"
        f"{'total USD':>12}{'gamma coin/1%':>15}{'vega USD/vp':>13}{'theta USD/d':>13}"
    )
    lines = ["Greeks, first cycle -> last cycle (delta = book + hedge):", head]
    for u, (first, last) in greeks_before_after(report).items():
        lines += [u, _sample_row("before", first), _sample_row("after", last)]
    return lines


def _hedge_lines(report: RunReport) -> list[str]:
    fills, fees = _instrument_fills(report), _instrument_fees(report)
    gross = sum(g for _, _, g in fills.values())
    lines = [f"Hedges sent: {len(report.orders)} orders, {_fmt(gross, '.4f')} coin filled (gross)"]
    for (venue, symbol), (n, net, g) in fills.items():
        lines.append(
            f"  {venue:<10} {symbol:<20} {n:>3} order{'s' if n != 1 else ' '}  "
            f"filled {_fmt(net, '+.4f')} coin net, {_fmt(g, '.4f')} gross"
            + "".join(
                f", fees {_fmt(v, '.6g')} {c}" for c, v in sorted(fees[venue, symbol].items())
            )
        )
    if report.orders:
        lines.append("  states: " + ", ".join(f"{k} {v}" for k, v in _states(report).items()))
    return lines


def _pnl_lines(report: RunReport) -> list[str]:
    lines = [
        "P&L, USD:",
        f"  {'hedge trades':<22}{_fmt(report.hedge_pnl_usd, '+,.2f'):>14}"
        "  (marked to the final price)",
    ]
    for a in report.accounts:
        lines.append(
            f"  {'account ' + a.venue:<22}{_fmt(a.pnl_usd, '+,.2f'):>14}  "
            f"(equity {_fmt(a.equity_start_usd, ',.2f')} -> {_fmt(a.equity_end_usd, ',.2f')})"
        )
    if len(report.accounts) > 1:
        total = sum(a.pnl_usd for a in report.accounts)
        lines.append(f"  {'accounts total':<22}{_fmt(total, '+,.2f'):>14}")
    if report.attribution:
        lines.append("  attribution (deltabot pnl; unexplained = equity change minus the rest):")
        lines += [f"    {pnl_line(u, p)}" for u, p in report.attribution.items()]
    return lines


def _band_line(b: BandTime) -> str:
    """The band's half-width over the run and the time the total delta spent outside it."""
    widths = b.half_width_range()
    if widths is None:
        return "no band"
    lo, mid, hi = widths
    width = (
        f"band ±{_fmt(lo, '.4f')} coin"
        if hi - lo < 5e-5
        else f"band ±{_fmt(lo, '.4f')}..{_fmt(hi, '.4f')} coin (median {_fmt(mid, '.4f')})"
    )
    return (
        f"{width}; outside it (by > {OUTSIDE_TOLERANCE_FRAC:.0%} of it) "
        f"{b.outside_cycles} of {b.cycles} cycles, "
        f"{_fmt(b.outside_ms / MS_PER_HOUR, '.2f')} h of {_fmt(b.span_ms / MS_PER_HOUR, '.2f')} h"
    )


def _excursion_lines(report: RunReport) -> list[str]:
    lines = ["Largest delta excursion against the band:"]
    groups = by_underlying(report)
    bands = band_time(report)
    for u, e in largest_excursion(report).items():
        deviation = f"max |total - target| {_fmt(e.max_abs_deviation_coin, '.4f')} coin"
        if all(s.band_lower_coin is None and s.band_upper_coin is None for s in groups[u]):
            text = f"no band; {deviation} at {iso_utc(e.ts_ms)}"
        elif e.beyond_band_coin > 0.0 or math.isnan(e.beyond_band_coin):
            beyond = _fmt(e.beyond_band_coin, ".4f")
            text = f"{beyond} coin beyond the band at {iso_utc(e.ts_ms)}; {deviation}"
        else:
            text = f"never outside the band; {deviation} at {iso_utc(e.ts_ms)}"
        lines.append(f"  {u:<10} {text}")
        if bands[u].half_width_coin:
            lines.append(f"  {'':<10} {_band_line(bands[u])}")
    return lines


def _list_lines(title: str, items: list[str]) -> list[str]:
    return [f"{title}: none"] if not items else [f"{title}:", *(f"  {i}" for i in items)]


def _transfer_text(t: TransferRow) -> str:
    return (
        f"{iso_utc(t.ts_ms)}  {t.venue}  {_fmt(t.amount, ',.6g')} {t.currency} -> "
        f"{t.destination} ({t.state})"
    )


def render_text(report: RunReport) -> str:
    """The terminal report of a run, one block per question a desk asks of it."""
    span_h = (report.finished_ms - report.started_ms) / MS_PER_HOUR
    lines = [
        f"deltabot run: {iso_utc(report.started_ms)} -> {iso_utc(report.finished_ms)} "
        f"({_fmt(span_h, '.2f')} h simulated), wall {_fmt(report.wall_s, '.1f')} s, "
        f"{cycle_count(report)} cycles"
    ]
    if report.strategy:
        lines.append(f"strategy: {report.strategy}")
    if not report.samples:
        lines.append("no cycles ran")
    else:
        lines += ["", *_greeks_lines(report), "", *_excursion_lines(report)]
    lines += ["", *_hedge_lines(report), "", *_pnl_lines(report), ""]
    lines += _list_lines("Collateral moves", [_transfer_text(t) for t in report.transfers])
    lines += _list_lines("Risk-gate denials", list(report.denials))
    lines += _list_lines("Market events", list(report.events))
    return "\n".join(lines)


def _num(value: float | None) -> float | None:
    """JSON has no NaN: a non-finite number becomes null."""
    return None if value is None or not math.isfinite(value) else float(value)


def _row_json(row: object, *derived: str) -> dict[str, object]:
    """A row's fields (whose names carry their units) plus ``derived`` properties, NaN-free."""
    names = [f.name for f in fields(row)] + list(derived)  # type: ignore[arg-type]
    values = {n: getattr(row, n) for n in names}
    return {n: _num(v) if isinstance(v, float) else v for n, v in values.items()}


def _fill_json(
    key: tuple[str, str], fill: tuple[int, float, float], fees: Mapping[str, float]
) -> dict[str, object]:
    return {
        "venue": key[0],
        "symbol": key[1],
        "orders": fill[0],
        "filled_net_coin": _num(fill[1]),
        "filled_gross_coin": _num(fill[2]),
        "fees": {c: _num(v) for c, v in sorted(fees.items())},
    }


def _width_json(band: BandTime) -> dict[str, float | None] | None:
    widths = band.half_width_range()
    if widths is None:
        return None
    return dict(zip(("min", "median", "max"), map(_num, widths), strict=True))


def report_json(report: RunReport) -> dict[str, object]:
    """:func:`render_text`'s content as JSON-ready values (no NaN), keys carrying units."""
    excursions = largest_excursion(report)
    bands = band_time(report)
    underlyings: dict[str, object] = {
        u: {
            "samples": len(group),
            "before": _row_json(group[0], *SAMPLE_DERIVED),
            "after": _row_json(group[-1], *SAMPLE_DERIVED),
            "excursion": {
                "ts_ms": excursions[u].ts_ms,
                "beyond_band_coin": _num(excursions[u].beyond_band_coin),
                "max_abs_deviation_coin": _num(excursions[u].max_abs_deviation_coin),
                "outside_band_ms": bands[u].outside_ms,
                "outside_band_cycles": bands[u].outside_cycles,
            },
            "band_half_width_coin": _width_json(bands[u]),
        }
        for u, group in by_underlying(report).items()
    }
    fills, fees = _instrument_fills(report), _instrument_fees(report)
    return {
        "started_ms": report.started_ms,
        "finished_ms": report.finished_ms,
        "simulated_span_h": (report.finished_ms - report.started_ms) / MS_PER_HOUR,
        "wall_s": _num(report.wall_s),
        "cycles": cycle_count(report),
        "strategy": report.strategy,
        "underlyings": underlyings,
        "hedges": {
            "orders": len(report.orders),
            "filled_gross_coin": _num(sum(v[2] for v in fills.values())),
            "by_instrument": [_fill_json(k, v, fees[k]) for k, v in fills.items()],
            "states": _states(report),
            "rows": [_row_json(o, "filled_coin") for o in report.orders],
        },
        "pnl": {
            "hedge_usd": _num(report.hedge_pnl_usd),
            "accounts": [_row_json(a, "pnl_usd") for a in report.accounts],
        },
        "transfers": [_row_json(t) for t in report.transfers],
        "denials": list(report.denials),
        "attribution_usd": {u: p.as_dict() for u, p in report.attribution.items()},
        "events": list(report.events),
    }
