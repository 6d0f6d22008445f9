"""``deltabot value``: value the example book of ``[sim]`` and print its Greeks and exposure.

The simulated market starts flat: every option is valued at its underlying's
``vol`` against the forward ``spot·e^(rate·tau)``, and coin collateral from
``[[sim.balances]]`` counts as delta in the usd numeraire. This is the same
valuation path the daemon runs each cycle (``PositionTable`` ->
``portfolio_exposure``), just fed from the config instead of a venue poll.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import datetime

import numpy as np

from bot.commands.common import load_or_report
from bot.config import Config, SimConfig
from bot.domain.exposure import Exposure, portfolio_exposure
from bot.domain.instruments import InstrumentKind, OptionType, Settlement
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_YEAR
from bot.pricing.coin import coin_settled


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` prints machine-readable exposure instead of tables."""
    parser.add_argument("--json", action="store_true", help="print the exposure as JSON")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Print the book's positions and its exposure per underlying (exit 0), or config problems."""
    config = load_or_report(args.config, environ)
    if config is None:
        return 2
    if config.sim is None or not config.sim.book:
        print("the config has no [sim] book to value: add [[sim.book]] entries")
        return 2
    table = book_table(config.sim)
    start_ms = sim_start_ms(config.sim)
    rate = _per_position_rate(config.sim, table)
    exposure = portfolio_exposure(
        table,
        forward_usd=table.underlying_usd,
        valuation_ts_ms=start_ms,
        numeraire=config.numeraire,
        collateral_coin=_equity_coin(config, table),
        rate=rate,
    )
    if args.json:
        print(json.dumps(exposure_json(exposure), indent=2))
        return 0
    print(f"deltabot value: example book valued at {config.sim.start.isoformat()}")
    print(f"numeraire {config.numeraire.value}; flat vol per underlying; forward = spot·e^(r·tau)")
    print()
    print(_positions_text(table, start_ms, rate))
    print()
    print(_exposure_text(exposure))
    return 0


def book_table(sim: SimConfig) -> PositionTable:
    """The ``[[sim.book]]`` positions as a table marked at the simulated start."""
    names = [u.name for u in sim.underlyings]
    spec = {u.name: u for u in sim.underlyings}
    start_ms = sim_start_ms(sim)
    book = sim.book
    expiry_ms = np.array(
        [NO_EXPIRY_MS if p.expiry is None else int(p.expiry.timestamp() * 1000) for p in book]
    )
    tau_years = np.where(expiry_ms == NO_EXPIRY_MS, 0.0, (expiry_ms - start_ms) / MS_PER_YEAR)
    spot = np.array([spec[p.underlying].spot_usd for p in book])
    rate = np.array([spec[p.underlying].rate for p in book])
    forward = spot * np.exp(rate * tau_years)
    is_option = np.array([p.kind is InstrumentKind.OPTION for p in book])
    is_call = np.array([p.option_type is OptionType.CALL for p in book])
    is_inverse = np.array([p.settlement is Settlement.INVERSE for p in book])
    strike = np.array([np.nan if p.strike_usd is None else p.strike_usd for p in book])
    vol = np.array([spec[p.underlying].vol for p in book])
    price_coin = coin_settled(
        is_call, forward, np.where(is_option, strike, forward), tau_years, vol, rate
    ).price_coin
    # Marks in each instrument's price currency: coin for inverse options, USD otherwise.
    mark_price = np.where(is_inverse, price_coin, price_coin * forward)
    mark_price = np.where(is_option, mark_price, forward)
    venues = sorted({p.venue for p in book})
    return PositionTable.from_arrays(
        underlyings=names,
        underlying_idx=[names.index(p.underlying) for p in book],
        venues=venues,
        venue_idx=[venues.index(p.venue) for p in book],
        kind=[KindCode.of(p.kind) for p in book],
        size=[p.size for p in book],
        is_inverse=is_inverse,
        amount_is_usd=~is_option & is_inverse,
        is_call=is_call,
        strike_usd=strike,
        expiry_ms=expiry_ms,
        mark_price=mark_price,
        mark_iv=np.where(is_option, vol, np.nan),
        underlying_usd=forward,
        index_usd=[u.spot_usd for u in sim.underlyings],
        symbols=[_label(p.underlying, p.kind, p.option_type, p.strike_usd, p.expiry) for p in book],
    )


def exposure_json(exposure: Exposure) -> dict[str, object]:
    """Per-underlying exposure with unit-carrying keys."""
    return {
        "numeraire": exposure.numeraire.value,
        "valuation_ts_ms": exposure.valuation_ts_ms,
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


def _equity_coin(config: Config, table: PositionTable) -> np.ndarray:
    """Coin equity per underlying as a venue reports it: cash plus the coin marks of the
    inverse options held (the ``collateral_coin`` that :func:`portfolio_exposure` expects)."""
    cash = sim_cash_coin(config)
    marks = np.where(
        (table.kind == KindCode.OPTION) & table.is_inverse, table.size * table.mark_price, 0.0
    )
    held = np.bincount(table.underlying_idx, weights=marks, minlength=len(table.underlyings))
    return np.array([cash.get(u, 0.0) for u in table.underlyings]) + held


def sim_start_ms(sim: SimConfig) -> int:
    return int(sim.start.timestamp() * 1000)


def _per_position_rate(sim: SimConfig, table: PositionTable) -> np.ndarray:
    rates = np.array([u.rate for u in sim.underlyings])
    return rates[table.underlying_idx]


def sim_cash_coin(config: Config) -> dict[str, float]:
    """Coin cash per underlying summed over venues (USDC is not an underlying's delta)."""
    assert config.sim is not None
    names = {u.name for u in config.sim.underlyings}
    out: dict[str, float] = dict.fromkeys(names, 0.0)
    for bal in config.sim.balances:
        if bal.currency in names:
            out[bal.currency] += bal.amount
    return out


def _label(
    underlying: str,
    kind: InstrumentKind,
    option_type: OptionType | None,
    strike_usd: float | None,
    expiry: datetime | None,
) -> str:
    """Deribit-style instrument name, e.g. ``BTC-25DEC26-65000-C``."""
    if kind is InstrumentKind.PERPETUAL or expiry is None:
        return f"{underlying}-PERPETUAL"
    date = expiry.strftime("%d%b%y").upper().lstrip("0")
    if kind is InstrumentKind.FUTURE:
        return f"{underlying}-{date}"
    letter = "C" if option_type is OptionType.CALL else "P"
    return f"{underlying}-{date}-{strike_usd:.0f}-{letter}"


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
