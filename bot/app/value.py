"""``deltabot value``'s report: the ``[sim]`` book valued at the simulated start.

This is the same valuation path the daemon runs each cycle (``PositionTable``
-> ``value_book``), just fed from the config instead of a venue poll;
coin collateral from ``[[sim.balances]]`` counts as delta in the usd numeraire.
The text and JSON forms of the report live beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.app.sim_book import book_table, position_rate, venue_equity
from bot.config import Config
from bot.domain.exposure import Exposure, value_book
from bot.domain.position_table import KindCode, PositionTable
from bot.domain.timeunits import MS_PER_YEAR, iso_utc
from bot.pricing.coin import coin_settled


@dataclass(frozen=True, slots=True)
class ValueReport:
    """The book's positions at the simulated start and its exposure per underlying."""

    table: PositionTable
    rate: np.ndarray
    """Each position's interest rate."""
    exposure: Exposure


def value_report(config: Config) -> ValueReport:
    """Value the ``[sim]`` book (the caller checked there is one)."""
    sim = config.sim
    assert sim is not None
    table = book_table(sim)
    rate = position_rate(sim, table)
    venues = sorted({*table.venues, *(b.venue for b in sim.balances)})
    coin, _usd = venue_equity(sim, table, venues)
    exposure = value_book(
        table,
        forward_usd=table.underlying_usd,
        valuation_ts_ms=sim.start_ms,
        numeraire=config.numeraire,
        collateral_coin=coin.sum(axis=0),
        rate=rate,
    ).exposure
    return ValueReport(table, rate, exposure)


def render_text(report: ValueReport) -> str:
    """The terminal report: a heading, the positions, the exposure."""
    numeraire = report.exposure.numeraire.value
    return "\n".join(
        [
            f"deltabot value: example book valued at {iso_utc(report.exposure.valuation_ts_ms)}",
            f"numeraire {numeraire}; flat vol per underlying; forward = spot·e^(r·tau)",
            "",
            _positions_text(report.table, report.exposure.valuation_ts_ms, report.rate),
            "",
            _exposure_text(report.exposure),
        ]
    )


def report_json(report: ValueReport) -> dict[str, object]:
    """Per-underlying exposure with unit-carrying keys."""
    exposure = report.exposure
    return {
        "numeraire": exposure.numeraire.value,
        "valuation_ts_ms": exposure.valuation_ts_ms,
        "valued_at": iso_utc(exposure.valuation_ts_ms),
        "underlyings": {
            name: {
                "delta_coin": float(exposure.delta_coin[i]),
                "delta_usd": float(exposure.delta_usd[i]),
                "options_delta_coin": float(exposure.options.delta_coin[i]),
                "hedges_delta_coin": float(exposure.hedges.delta_coin[i]),
                "collateral_delta_coin": float(exposure.collateral_delta_coin[i]),
                "gamma_coin_per_pct": float(exposure.gamma_coin_per_pct[i]),
                "vega_usd_per_volpt": float(exposure.vega_usd_per_volpt[i]),
                "theta_usd_per_day": float(exposure.theta_usd_per_day[i]),
                "index_usd": float(exposure.index_usd[i]),
            }
            for i, name in enumerate(exposure.underlyings)
        },
    }


def _positions_text(table: PositionTable, start_ms: int, rate: np.ndarray) -> str:
    is_option = table.kind == KindCode.OPTION
    tau_years = np.where(is_option, (table.expiry_ms - start_ms) / MS_PER_YEAR, 0.0)
    coin = coin_settled(
        table.is_call,
        table.underlying_usd,
        np.where(is_option, table.strike_usd, table.underlying_usd),
        tau_years,
        np.where(is_option, table.mark_iv, 0.0),
        rate,
    )
    head = (
        f"{'position':<22}{'size':>12} {'unit':<5}{'forward USD':>13}{'iv':>7}"
        f"{'mark':>12}{'BS delta':>10}{'net delta':>11}"
    )
    lines = ["positions (mark in coin for inverse options, USD otherwise):", head]
    for i in range(len(table)):
        unit = "USD" if table.amount_is_usd[i] else "coin"
        if is_option[i]:
            greeks = (
                f"{table.mark_iv[i]:>7.0%}{table.mark_price[i]:>12.5f}"
                f"{coin.delta[i]:>10.4f}{coin.net_delta[i]:>11.4f}"
            )
        else:
            greeks = f"{'':>7}{table.mark_price[i]:>12.1f}{'':>10}{'':>11}"
        lines.append(
            f"{table.symbols[i]:<22}{table.size[i]:>12,.2f} {unit:<5}"
            f"{table.underlying_usd[i]:>13,.1f}{greeks}"
        )
    return "\n".join(lines)


def _exposure_text(exposure: Exposure) -> str:
    head = (
        f"{'underlying':<11}{'delta coin':>12}{'delta USD':>14}{'options':>10}{'hedges':>10}"
        f"{'collateral':>12}{'gamma coin/1%':>15}{'vega USD/vp':>13}{'theta USD/d':>13}"
    )
    lines = [f"exposure per underlying (numeraire {exposure.numeraire.value}):", head]
    for i, name in enumerate(exposure.underlyings):
        lines.append(
            f"{name:<11}{exposure.delta_coin[i]:>12.4f}{exposure.delta_usd[i]:>14,.0f}"
            f"{exposure.options.delta_coin[i]:>10.4f}{exposure.hedges.delta_coin[i]:>10.4f}"
            f"{exposure.collateral_delta_coin[i]:>12.4f}{exposure.gamma_coin_per_pct[i]:>15.4f}"
            f"{exposure.vega_usd_per_volpt[i]:>13,.1f}{exposure.theta_usd_per_day[i]:>13,.1f}"
        )
    return "\n".join(lines)
