"""``deltabot backtest --history``: the daemon's own book, strategy and routes over a chain store.

The book is the config's ``[[backtest.book]]``, else its ``[[sim.book]]``:
its options become legs (size in
coin), its perpetuals and futures the hedge held at the start (inverse ones
counted in USD, turned into coin at the first recorded index). The strategy is
``[strategy]`` (name and params), beside any ``--strategy`` given on the
command line; each underlying is hedged with its heaviest ``[[hedges]]`` route,
filled at that route's recorded bid and ask. The fee defaults to ``[paper]
taker_fee_rate``, the venue fee a paper fill pays. With ``numeraire = "usd"``
the coin collateral of ``[[backtest.balances]]`` (with ``[[backtest.book]]``)
or ``[[sim.balances]]`` counts as delta, as in the daemon: that amount is the
account's coin equity at the start as the venue reports it, the (inverse)
options at their first mark included, so the coin cash is the amount less the
book's first coin value. The daemon's delta, E + Σ q·(Δ − P/F)
(:mod:`bot.domain.exposure`), and the backtest's, cash + Σ q·Δ, then agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.backtest.book import Book, OptionLeg
from bot.backtest.chain_data import (
    ChainLeg,
    HedgeSource,
    MarkSource,
    load_market,
    pick_hedge_call,
)
from bot.backtest.chain_option_hedge import ChainOptionHedge, VegaLimit
from bot.backtest.chain_run import ChainBacktest, ChainCosts, Progress, run_chain_backtest
from bot.backtest.spec import StrategySpec
from bot.chain.store import ChainStore
from bot.compute import Runner
from bot.config import Config
from bot.config.sim import SimBalance, SimPosition
from bot.domain.exposure import Numeraire
from bot.domain.greek_limits import ALL
from bot.domain.instruments import InstrumentKind, Settlement
from bot.domain.timeunits import SECONDS_PER_YEAR

MS_PER_S = 1000


class ChainBookError(ValueError):
    """The config has no book or routes a recorded backtest can use."""


def config_book(config: Config) -> tuple[tuple[SimPosition, ...], tuple[SimBalance, ...]]:
    """``[[backtest.book]]`` (with its balances) when given, else ``[[sim.book]]``."""
    if config.backtest.book:
        return config.backtest.book, config.backtest.balances
    if config.sim is None or not config.sim.book:
        raise ChainBookError(
            "the config has no book: a recorded backtest hedges [[backtest.book]] or, "
            "without it, [[sim.book]]"
        )
    return config.sim.book, config.sim.balances


def config_legs(config: Config) -> tuple[list[ChainLeg], dict[str, tuple[float, bool]]]:
    """The book's options as legs, and per underlying the other positions (size, counted
    in USD) that start as the hedge."""
    legs: list[ChainLeg] = []
    held: dict[str, tuple[float, bool]] = {}
    for pos in config_book(config)[0]:
        if pos.kind is InstrumentKind.OPTION:
            assert pos.option_type is not None and pos.strike_usd is not None
            assert pos.expiry is not None
            legs.append(
                ChainLeg(
                    pos.venue,
                    pos.underlying,
                    "call" if pos.option_type.value == "call" else "put",
                    pos.strike_usd,
                    round(pos.expiry.timestamp() * MS_PER_S),
                    pos.size,
                )
            )
        else:
            size = held.get(pos.underlying, (0.0, False))[0]
            held[pos.underlying] = (size + pos.size, pos.settlement is Settlement.INVERSE)
    return legs, held


def config_hedges(config: Config) -> list[HedgeSource]:
    """Per underlying, the ``[[hedges]]`` route with the largest weight."""
    best: dict[str, tuple[float, HedgeSource]] = {}
    for route in config.hedges:
        source = HedgeSource(route.underlying, route.venue, route.symbol)
        if route.underlying not in best or route.weight > best[route.underlying][0]:
            best[route.underlying] = (route.weight, source)
    return [source for _, source in best.values()]


def config_strategy(config: Config) -> StrategySpec:
    """``[strategy]`` as the backtester's spec, labelled as the config names it."""
    params = config.strategy.params.model_dump()
    return StrategySpec(config.strategy.name, params, label=f"[strategy] {config.strategy.name}")


def run_recorded(
    config: Config,
    history: Path,
    *,
    extra: Sequence[StrategySpec] = (),
    mark: MarkSource = "mark",
    fee_frac: float | None = None,
    slippage_frac: float = 0.0,
    from_ms: int | None = None,
    to_ms: int | None = None,
    lot_coin: Sequence[float] | None = None,
    option_hedge: ChainOptionHedge | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> ChainBacktest:
    """Hedge the config's book over ``history`` with its strategy and ``extra`` (see above);
    ``lot_coin`` per underlying rounds the trades as the daemon's orders are rounded. With
    ``option_hedge``, each limited underlying also hedges its vega with a listed call of the
    recorded chain on its options' venue, and the run without the loop comes beside it. The
    market is loaded here; each strategy's path runs as one task on ``runner``."""
    if not history.is_dir():
        raise ChainBookError(f"--history {history}: no such chain store directory")
    store = ChainStore(history)
    legs, held = config_legs(config)
    calls = [] if option_hedge is None else _hedge_calls(store, legs, option_hedge, from_ms, to_ms)
    legs = [*legs, *calls]
    market = load_market(
        store, legs, config_hedges(config), mark=mark, from_ms=from_ms, to_ms=to_ms
    )
    start = []
    for k, underlying in enumerate(market.underlyings):
        size, in_usd = held.get(underlying, (0.0, False))
        first_spot = market.spot_usd[:, k][np.isfinite(market.spot_usd[:, k])]
        start.append(size / first_spot[0] if in_usd and first_spot.size else size)
    fee = config.paper.taker_fee_rate if fee_frac is None else fee_frac
    coin = [0.0] * len(market.underlyings)
    if config.numeraire is Numeraire.USD:
        for balance in config_book(config)[1]:
            if balance.currency in market.underlyings:
                coin[market.underlyings.index(balance.currency)] += balance.amount
        for j, leg in enumerate(legs):  # the equity holds the options at mark: the cash is less
            u = market.underlyings.index(leg.underlying)
            coin[u] -= leg.size_coin * market.premium_usd[0, j] / market.spot_usd[0, u]
    return run_chain_backtest(
        legs,
        market,
        [config_strategy(config), *extra],
        ChainCosts(fee, slippage_frac),
        initial_hedge_coin=start,
        coin_held_coin=coin,
        lot_coin=lot_coin,
        mark=mark,
        option_hedge=option_hedge,
        hedge_calls=calls,
        runner=runner,
        progress=progress,
    )


def _hedge_calls(
    store: ChainStore,
    legs: Sequence[ChainLeg],
    settings: ChainOptionHedge,
    from_ms: int | None,
    to_ms: int | None,
) -> list[ChainLeg]:
    """Per limited underlying of the book, the call its vega is hedged with, from the chain
    of the venue its first option trades on."""
    calls = []
    for limit in settings.limits:
        venue = next((leg.venue for leg in legs if leg.underlying == limit.underlying), None)
        if venue is None:
            raise ChainBookError(f"the book holds no {limit.underlying} options to hedge vega of")
        calls.append(
            pick_hedge_call(
                store,
                venue,
                limit.underlying,
                min_tenor_days=settings.min_tenor_days,
                from_ms=from_ms,
                to_ms=to_ms,
            )
        )
    return calls


@dataclass(frozen=True, slots=True)
class ConfigBook:
    """A daemon config's book for a Monte Carlo backtest of one underlying, with the market
    and fee it describes (the realistic defaults of ``--book config.toml``)."""

    book: Book
    underlying: str
    spot_usd: float
    vol: float
    fee_frac: float


def config_vega_limit(config: Config, underlying: str | None) -> tuple[float, float | None]:
    """(hard, soft) standardised vega limits, USD per vol point, of the ``[greek_limits]``
    limit on bucket ``all`` with a hard vega limit for ``underlying`` (None: the only such
    limit): the Monte Carlo option-hedge loop's defaults."""
    found = {u: pair for u, pair in _vega_limits(config).items() if underlying in (None, u)}
    if len(found) != 1:
        which = "none" if not found else "several (give --underlying)"
        whose = "" if underlying is None else f" for {underlying}"
        raise ChainBookError(
            f"[greek_limits] limits on bucket all with hard_vega_usd_per_volpt{whose}: "
            f"found {which}"
        )
    (pair,) = found.values()
    return pair


def config_option_hedge(
    config: Config,
    *,
    limits: tuple[float, float] | None,
    lot_coin: float,
    min_tenor_days: float,
) -> ChainOptionHedge:
    """The recorded option-hedge loop's settings: ``limits`` (hard, soft) for every underlying
    of the book when given, else each one's ``[greek_limits]`` limit on bucket all (soft
    defaulting to hard); the fee is ``[options_hedge] fee_frac``."""
    underlyings = dict.fromkeys(leg.underlying for leg in config_legs(config)[0])
    configured = _vega_limits(config)
    pairs = {
        u: limits or (configured[u][0], configured[u][1] or configured[u][0])
        for u in underlyings
        if limits is not None or u in configured
    }
    if not pairs:
        raise ChainBookError(
            f"--option-hedge: no [greek_limits] limit on bucket all with "
            f"hard_vega_usd_per_volpt for {', '.join(underlyings) or 'the book'}; "
            "or give --hard-vega"
        )
    return ChainOptionHedge(
        tuple(VegaLimit(u, hard, soft) for u, (hard, soft) in pairs.items()),
        lot_coin=lot_coin,
        fee_frac=config.options_hedge.fee_frac,
        min_tenor_days=min_tenor_days,
    )


def _vega_limits(config: Config) -> dict[str, tuple[float, float | None]]:
    """Per underlying, the (hard, soft) vega limits of its ``[greek_limits]`` limit on bucket
    all, where it has a hard one."""
    return {
        lim.underlying: (lim.hard_vega_usd_per_volpt, lim.soft_vega_usd_per_volpt)
        for lim in config.greek_limits.limits
        if lim.bucket == ALL and lim.hard_vega_usd_per_volpt is not None
    }


def config_mc_book(config: Config, underlying: str | None = None) -> ConfigBook:
    """The book's options of ``underlying`` (default: the first one's) as legs whose expiries
    count from ``sim.start``; the other positions and, with numeraire usd, the coin
    collateral as the initial hedge; spot and vol from ``[[sim.underlyings]]``."""
    positions, balances = config_book(config)
    if config.sim is None:
        raise ChainBookError("a Monte Carlo run of the config's book needs [sim] (its start)")
    options = [p for p in positions if p.kind is InstrumentKind.OPTION]
    if not options:
        raise ChainBookError("the config's book holds no options")
    underlying = underlying or options[0].underlying
    market = next((u for u in config.sim.underlyings if u.name == underlying), None)
    if market is None:
        raise ChainBookError(f"{underlying} is not in [[sim.underlyings]]")
    legs = []
    hedge_coin = 0.0
    for pos in positions:
        if pos.underlying != underlying:
            continue
        if pos.kind is InstrumentKind.OPTION:
            assert pos.expiry is not None and pos.strike_usd is not None
            years = (pos.expiry - config.sim.start).total_seconds() / SECONDS_PER_YEAR
            is_call = pos.option_type is not None and pos.option_type.value == "call"
            coin = pos.settlement is Settlement.INVERSE
            legs.append(
                OptionLeg(is_call, pos.strike_usd, years, pos.size, "coin" if coin else "linear")
            )
        else:
            in_usd = pos.settlement is Settlement.INVERSE
            hedge_coin += pos.size / market.spot_usd if in_usd else pos.size
    if config.numeraire is Numeraire.USD:
        hedge_coin += sum(b.amount for b in balances if b.currency == underlying)
    return ConfigBook(
        Book(tuple(legs), hedge_coin),
        underlying,
        market.spot_usd,
        market.vol,
        config.paper.taker_fee_rate,
    )
