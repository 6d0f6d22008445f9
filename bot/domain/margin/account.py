"""One account's margin by the configured model, per settlement currency.

A venue reports its own IM and MM; an account nobody margins (a paper venue
over public data) has only the model's. This applies the model the margin job
uses for that venue (``[margin]``: Deribit standard or portfolio margin) to a
read of the account, so the paper account shows the requirement the real
account would carry, and its liquidation distance is measured against it.

Deribit margins each settlement currency separately (a BTC options account
and a USDC one are two accounts), so the figures are per settlement currency,
in that currency: coin for inverse positions, USD for linear ones (a USDC or
USDT requirement is its USD figure).

Worked example (Deribit standard margin, its "Margin" support page): short
5 BTC of a 70,000 call with F = 60,000 and mark 0.01 BTC needs
IM 5 × (max(0.15 − 10,000/60,000, 0.10) + 0.01) = 0.55 BTC and
MM 5 × (0.075 + 0.01) = 0.425 BTC; the BTC account reports (0.55, 0.425).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bot.domain.ids import Currency
from bot.domain.margin.liquidation import MarginModel
from bot.domain.margin.portfolio import PortfolioParams, portfolio_margin
from bot.domain.margin.standard import AccountMargin, StandardParams, standard_margin
from bot.domain.position_table import PositionTable
from bot.domain.snapshot import VenueSnapshot


@dataclass(frozen=True, slots=True)
class CurrencyMargin:
    """Initial and maintenance requirement of one settlement currency, in that currency."""

    initial: float
    maintenance: float


def account_margin(
    table: PositionTable,
    *,
    valuation_ts_ms: int,
    model: MarginModel,
    standard: StandardParams,
    portfolio: PortfolioParams,
) -> AccountMargin:
    """The requirement of ``table`` by ``model``, per venue × underlying (coin and USD cells)."""
    forward = table.forward_usd()
    if model is MarginModel.PORTFOLIO:
        return portfolio_margin(
            table, forward_usd=forward, valuation_ts_ms=valuation_ts_ms, params=portfolio
        ).margin
    return standard_margin(
        table, forward_usd=forward, valuation_ts_ms=valuation_ts_ms, params=standard
    )


def settlement_margin(
    snapshot: VenueSnapshot,
    *,
    model: MarginModel,
    standard: StandardParams,
    portfolio: PortfolioParams,
) -> dict[Currency, CurrencyMargin]:
    """IM and MM per settlement currency of the positions in ``snapshot`` (module docstring).

    Each currency's positions are margined as an account of their own, valued at
    the read's time and marks (an option at its mark IV); a currency without
    positions is absent.
    """
    out: dict[Currency, CurrencyMargin] = {}
    for currency in sorted({p.instrument.settle for p in snapshot.positions}):
        held = tuple(p for p in snapshot.positions if p.instrument.settle == currency)
        table = PositionTable.from_snapshots([replace(snapshot, positions=held)])
        margin = account_margin(
            table,
            valuation_ts_ms=snapshot.ts_ms,
            model=model,
            standard=standard,
            portfolio=portfolio,
        )
        out[currency] = CurrencyMargin(
            initial=float(np.sum(margin.initial_coin) + np.sum(margin.initial_usd)),
            maintenance=float(np.sum(margin.maintenance_coin) + np.sum(margin.maintenance_usd)),
        )
    return out
