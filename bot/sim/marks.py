"""Marks and Greeks of every live contract at one instant, priced once per time step.

A poll of hundreds of tickers must not reprice the surface per call, so the
exchange keeps one :class:`MarkTable` per market grid step: one SSVI
evaluation and one vectorised :func:`bot.pricing.black76` call per expiry,
made the first time a contract of that expiry is read.

Units follow Deribit: option marks in coin (the Black-76 USD value divided by
the forward the option is priced against, rate 0 as Deribit's ``interest_rate``),
futures marks in USD, Greeks per 1 coin of underlying in USD (vega per vol
point, theta per day, rho per 1% rate).

Two deltas, as Deribit documents them: ``public/ticker``'s ``greeks.delta`` is
the Black-Scholes delta (:attr:`MarkRow.delta`); a position's ``delta`` and the
account's ``delta_total`` use the Net Transaction Delta (:func:`net_delta`),
Black-Scholes delta − mark price of an inverse option.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from bot.pricing import black76
from bot.sim.contracts import SimContract
from bot.sim.dialect import Dialect
from bot.sim.market import MarketModel


@dataclass(frozen=True, slots=True)
class MarkRow:
    """One contract's marks; option-only fields are None for futures."""

    mark_price: float
    index_usd: float
    underlying_usd: float
    iv: float | None = None
    delta: float = 1.0
    gamma: float | None = None
    vega_usd_per_volpt: float | None = None
    theta_usd_per_day: float | None = None
    rho_usd_per_pct: float | None = None
    funding_8h: float | None = None


def net_delta(c: SimContract, row: MarkRow) -> float:
    """Deribit's Net Transaction Delta of one unit of option ``c``, in coin.

    An inverse option's coin premium is itself worth more USD as the coin
    rises, so its coin P&L per coin of underlying is the Black-Scholes delta
    less the coin mark; a USD-priced option keeps its Black-Scholes delta.
    Example (Deribit's documented call): delta 0.5343, mark 0.06854 BTC →
    0.5343 − 0.06854 = 0.46576 per BTC; a strike-0 call (delta 1, mark 1 BTC)
    nets 0.
    """
    return row.delta - row.mark_price if c.is_inverse else row.delta


class MarkTable(Mapping[str, MarkRow]):
    """Marks of the live contracts at the market's current time, priced lazily.

    Futures are priced at once; options one expiry at a time, on first read,
    so a ticker poll prices only the expiries it touches. Build a new table
    whenever the market moves.
    """

    def __init__(
        self, market: MarketModel, contracts: Iterable[SimContract], perp_basis_frac: float = 0.0
    ) -> None:
        """``perp_basis_frac``: the venue's perpetual premium over the market's (a fraction)."""
        self._market = market
        self._rows: dict[str, MarkRow] = {}
        self._groups: dict[tuple[str, int], list[SimContract]] = {}
        self._group_of: dict[str, tuple[str, int]] = {}
        now = market.now_ms
        for c in contracts:
            if c.expiry_ms <= now:
                continue
            if c.is_option:
                key = (c.underlying, c.expiry_ms)
                self._groups.setdefault(key, []).append(c)
                self._group_of[c.instrument_name] = key
                continue
            index = market.index_usd(c.underlying)
            if c.is_perpetual:
                mark = market.perp_mark_usd(c.underlying, perp_basis_frac)
                funding = (
                    market.binance_funding_rate_8h(c.underlying, perp_basis_frac)
                    if c.dialect is Dialect.BINANCE_USDM
                    else market.funding_rate_8h(c.underlying, perp_basis_frac)
                )
                self._rows[c.instrument_name] = MarkRow(mark, index, mark, funding_8h=funding)
            else:
                fwd = market.forward_usd(c.underlying, c.expiry_ms)
                self._rows[c.instrument_name] = MarkRow(fwd, index, fwd)

    def __getitem__(self, name: str) -> MarkRow:
        row = self._rows.get(name)
        if row is None:
            key = self._group_of[name]
            self._rows.update(_price_options(self._market, self._groups.pop(key)))
            row = self._rows[name]
        return row

    def __contains__(self, name: object) -> bool:
        return name in self._rows or name in self._group_of

    def __iter__(self) -> Iterator[str]:
        return iter([*self._rows, *(n for n in self._group_of if n not in self._rows)])

    def __len__(self) -> int:
        return len(self._rows) + sum(len(g) for g in self._groups.values())

    def delist(self, name: str) -> None:
        """Forget an expired contract."""
        self._rows.pop(name, None)
        self._group_of.pop(name, None)


def _price_options(market: MarketModel, options: list[SimContract]) -> dict[str, MarkRow]:
    n = len(options)
    fwd, vol, tau = np.empty(n), np.empty(n), np.empty(n)
    strike = np.array([c.strike_usd for c in options])
    is_call = np.array([c.is_call for c in options])
    groups: dict[tuple[str, int], list[int]] = {}
    for i, c in enumerate(options):
        groups.setdefault((c.underlying, c.expiry_ms), []).append(i)
    for (und, expiry), idx in groups.items():
        fwd[idx] = market.forward_usd(und, expiry)
        vol[idx] = market.implied_vols(und, expiry, strike[idx])
        tau[idx] = market.tau_years(expiry)
    g = black76(is_call, fwd, strike, tau, vol)
    mark_coin = g.price / fwd
    # With r = 0: sign·K·N(sign·d2) = F·Δ − V, so spot-measure rho = τ·(F·Δ − V) per 1.00 of rate.
    rho = tau * (fwd * g.delta - g.price) / 100.0
    rows: dict[str, MarkRow] = {}
    for i, c in enumerate(options):
        rows[c.instrument_name] = MarkRow(
            mark_price=float(mark_coin[i]),
            index_usd=market.index_usd(c.underlying),
            underlying_usd=float(fwd[i]),
            iv=float(vol[i]),
            delta=float(g.delta[i]),
            gamma=float(g.gamma[i]),
            vega_usd_per_volpt=float(g.vega[i]) / 100.0,
            theta_usd_per_day=float(g.theta[i]) / 365.0,
            rho_usd_per_pct=float(rho[i]),
        )
    return rows
