"""Event replay: one backtest path hedged by the real engine against the emulator (issue 6 §3).

The vectorised backtester and the daemon call the same strategy kernel, but
everything around it differs: the daemon reads positions over HTTP through
ccxt, values the book from the venue's marks, rounds orders to lots and sends
them. :func:`replay_path` runs one path of a backtest through all of that and
returns, per step, what each side decided, so a test can pin that the two make
the same hedge decisions.

The setup makes the two worlds the same where they can be:

- the market follows the path exactly (:class:`bot.sim.paths.ScriptedPath`,
  one price per hedge time) and quotes one flat implied vol, the backtest's
  pricing vol; rate, basis and perp premium are 0, so forwards equal spot and
  no funding is paid;
- the emulator lists only inverse (coin-settled) options, so the book's legs
  must be ``settlement = "coin"``. The account starts with no BTC and the
  emulator credits the written premium at its first mark, which is the
  backtest's coin balance ``−V₀/S₀`` to the float;
- the engine runs in the ``usd`` numeraire, where a coin-settled option's delta
  is its premium-adjusted delta plus the account's coin equity; that adds up
  to Σ q·Δ_BS + premium coin, the backtest's ``net_delta_coin``;
- the hedge is the USDC-margined linear perpetual (``BTC/USDC:USDC``): a
  position in coin whose P&L is paid in USDC, like the backtest's linear hedge.
  An inverse perp would not do: in the usd numeraire its coin P&L enters the
  collateral and so the book delta, which the backtest's hedge never does.
  Its fees are paid in USDC too, so they leave every delta alone.

What still differs, by construction: the engine rounds each order toward zero
to the perp's lot (0.001 BTC) and its hedge is what filled, while the
backtest holds the exact target. So the engine's current hedge, and with it the
target of a step that keeps the hedge, may be up to one lot off the backtest's;
for the band with ``hedge_ratio`` 1 a trade's target (edge or centre) depends
only on the book's delta, so the error is not carried on. Whether a step trades can differ
only when the deviation sits within a lot of a band edge; a test picks a path
where it does not and pins the steps exactly.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from bot.app.sim_world import SimVenue, SimWorldSetup, serve_sim_world
from bot.backtest.book import Book
from bot.backtest.engine import ChunkInputs, ChunkTask, simulate_chunk
from bot.backtest.paths import PathModel
from bot.backtest.spec import Costs, StrategySpec
from bot.clock import ManualClock
from bot.config import Config
from bot.domain.ids import VenueId
from bot.domain.timeunits import MS_PER_YEAR, iso_utc
from bot.engine.context import EngineContext
from bot.engine.cycle import HedgeEngine
from bot.journal import Journal
from bot.pricing.arrays import FloatArray
from bot.secrets import VenueCredentials
from bot.sim.contracts import LINEAR_LOT_COIN, expiry_code
from bot.sim.exchange import SimExchange
from bot.sim.faults import Faults
from bot.sim.market import MarketModel, UnderlyingSpec
from bot.sim.network import SimNetwork
from bot.sim.paths import ScriptedPath
from bot.sim.spec import AccountSpec, ExchangeSpec, PositionSpec
from bot.venues.factory import Runtime, build_venues

UNDERLYING: Final = "BTC"
VENUE: Final = VenueId("sim-replay")
HEDGE_SYMBOL: Final = "BTC/USDC:USDC"
"""The USDC linear perpetual: a coin position with USD P&L, the backtest's hedge."""
DEFAULT_START_MS: Final = 1_796_112_000_000
"""2026-12-01T08:00:00Z: Deribit expiries fall at 08:00 UTC, so whole days from here do too."""
_USDC_BALANCE: Final = 10_000_000.0
"""Margin for the linear perp; it never touches the BTC equity that is delta."""


class ReplayError(RuntimeError):
    """The replay cannot run as asked (an unsupported book, or an engine cycle failed)."""


@dataclass(frozen=True, slots=True)
class ReplayStep:
    """Step ``k`` (hedge time ``ts_ms``) as both sides saw it; every delta and hedge in coin.

    ``*_book_delta_coin``: the book's delta before the hedge (the backtest's
    ``net_delta_coin``, the plan's ``book_delta_coin``); ``*_hedge_before_coin``
    the hedge held when deciding; ``*_target_coin`` the strategy's new hedge
    (the engine's before lot rounding); ``*_traded``: the strategy changed the
    hedge. ``orders`` are the engine's orders this step as (side, amount coin, filled coin).
    """

    k: int
    ts_ms: int
    spot_usd: float
    vector_book_delta_coin: float
    vector_hedge_before_coin: float
    vector_target_coin: float
    engine_book_delta_coin: float
    engine_hedge_before_coin: float
    engine_target_coin: float
    orders: tuple[tuple[str, float, float], ...]

    @property
    def vector_traded(self) -> bool:
        return self.vector_target_coin != self.vector_hedge_before_coin

    @property
    def engine_traded(self) -> bool:
        return self.engine_target_coin != self.engine_hedge_before_coin

    @property
    def target_gap_coin(self) -> float:
        """Engine target minus backtest target: within a lot when the replay holds."""
        return self.engine_target_coin - self.vector_target_coin


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Both runs of one path, step by step (steps 0 .. steps − 1: the decision times)."""

    steps: tuple[ReplayStep, ...]
    lot_coin: float
    """The hedge instrument's lot: the engine's hedge may differ by up to this."""

    @property
    def vector_trade_steps(self) -> tuple[int, ...]:
        return tuple(s.k for s in self.steps if s.vector_traded)

    @property
    def engine_trade_steps(self) -> tuple[int, ...]:
        return tuple(s.k for s in self.steps if s.engine_traded)

    @property
    def order_steps(self) -> tuple[int, ...]:
        """Steps at which the engine sent at least one order."""
        return tuple(s.k for s in self.steps if s.orders)

    @property
    def max_target_gap_coin(self) -> float:
        return max(abs(s.target_gap_coin) for s in self.steps)

    @property
    def max_book_delta_gap_coin(self) -> float:
        return max(abs(s.engine_book_delta_coin - s.vector_book_delta_coin) for s in self.steps)


@dataclass(frozen=True, slots=True)
class VectorPath:
    """One path of the vectorised run: spot (steps + 1), book delta and hedge after (steps)."""

    spot_usd: FloatArray
    book_delta_coin: FloatArray
    hedge_coin: FloatArray


def vector_path(
    book: Book,
    model: PathModel,
    strategy: StrategySpec,
    *,
    steps: int,
    seed: int,
    path: int = 0,
    pricing_vol: float | None = None,
    costs: Costs | None = None,
) -> VectorPath:
    """Path ``path`` of ``run_backtest(book, model, [strategy], paths > path, rate=0, ...)``.

    It is simulated in chunk 0 exactly as the runner does (rows of a chunk do
    not depend on its size), so ``path`` must be below the runner's chunk size.
    """
    vol = pricing_vol if pricing_vol is not None else model.natural_vol
    task = ChunkTask(
        model_index=0,
        specs=(strategy,),
        costs=costs or Costs(),
        carry="none",
        rate=0.0,
        pricing_vol=vol,
        steps=steps,
        dt_years=book.horizon_years / steps,
        seed=seed,
        chunk_index=0,
        first_path=0,
        n_paths=path + 1,
        n_samples=path + 1,
    )
    out = simulate_chunk(ChunkInputs(book, (model,)), task)
    return VectorPath(
        out.sample_spot_usd[path].copy(),
        out.sample_delta_coin[path].copy(),
        out.sample_hedge_coin[0, path].copy(),
    )


def _check_book(book: Book) -> None:
    if book.initial_hedge_coin != 0.0:
        raise ReplayError("replay starts unhedged: give a book with initial_hedge_coin = 0")
    for leg in book.legs:
        if leg.settlement != "coin":
            raise ReplayError(
                "the emulator lists inverse (coin-settled) options only: "
                f"give every leg settlement 'coin' (got {leg})"
            )
        if leg.strike_usd != round(leg.strike_usd):
            raise ReplayError(f"Deribit names strikes in whole USD (got {leg})")
    contracts = [(leg.is_call, leg.strike_usd, leg.expiry_years) for leg in book.legs]
    if len(set(contracts)) != len(contracts):
        raise ReplayError("give each option contract once (net the quantities of repeated legs)")


def _step_ms(book: Book, steps: int) -> int:
    """The hedge interval in whole ms (the ManualClock and the option expiries need ints)."""
    horizon_ms = book.horizon_years * MS_PER_YEAR
    dt_ms = horizon_ms / steps
    if abs(dt_ms - round(dt_ms)) > 1e-6 * max(1.0, dt_ms):
        raise ReplayError(f"the horizon ({horizon_ms} ms) is not {steps} whole-ms steps")
    return round(dt_ms)


def _expiry_ms(start_ms: int, expiry_years: float) -> int:
    return start_ms + round(expiry_years * MS_PER_YEAR)


def _option_name(start_ms: int, is_call: bool, strike_usd: float, expiry_years: float) -> str:
    code = expiry_code(_expiry_ms(start_ms, expiry_years))
    return f"{UNDERLYING}-{code}-{strike_usd:.0f}-{'C' if is_call else 'P'}"


def _exchange_config(book: Book, start_ms: int, key: str, secret: str) -> ExchangeSpec:
    """One account: no BTC (the premium arrives with the book), USDC margin for the perp."""
    account = AccountSpec(
        id=1,
        username="sim_replay",
        client_id=key,
        client_secret=secret,
        balances={"USDC": _USDC_BALANCE},
        positions=tuple(
            PositionSpec(
                _option_name(start_ms, leg.is_call, leg.strike_usd, leg.expiry_years),
                leg.quantity_coin,
            )
            for leg in book.legs
        ),
    )
    return ExchangeSpec(
        name=VENUE,
        start_ms=start_ms,
        underlyings=(UNDERLYING,),
        option_expiries_ms=tuple(
            sorted({_expiry_ms(start_ms, leg.expiry_years) for leg in book.legs})
        ),
        future_expiries_ms=(),
        strikes_usd={UNDERLYING: tuple(sorted({leg.strike_usd for leg in book.legs}))},
        accounts=(account,),
        liquidation=False,  # the BTC side holds only the premium against a short option
    )


def _config(strategy: StrategySpec, costs: Costs, journal_path: Path, start_ms: int) -> Config:
    return Config.model_validate(
        {
            "mode": "sim",
            "numeraire": "usd",
            "venues": [{"name": VENUE, "exchange": "deribit", "role": ["options", "hedge"]}],
            "hedges": [{"underlying": UNDERLYING, "venue": VENUE, "symbol": HEDGE_SYMBOL}],
            "strategy": {
                "name": strategy.name,
                "params": dict(strategy.params),
                "cost_frac": costs.cost_frac,
                "rate": 0.0,
            },
            "risk": {
                "max_order_notional_usd": 1e9,
                "max_hourly_notional_usd": 1e10,
                "max_daily_notional_usd": 1e11,
            },
            "daemon": {"journal_path": str(journal_path)},
            "metrics": {"enabled": False},
            # mode sim needs a [sim] table; the world itself is built here, from the path.
            "sim": {
                "start": iso_utc(start_ms),
                "underlyings": [{"name": UNDERLYING, "spot_usd": 1.0, "vol": 0.5}],
            },
        }
    )


async def replay_path_async(
    book: Book,
    model: PathModel,
    strategy: StrategySpec,
    *,
    steps: int,
    seed: int,
    work_dir: Path,
    path: int = 0,
    pricing_vol: float | None = None,
    costs: Costs | None = None,
    start_ms: int = DEFAULT_START_MS,
) -> ReplayResult:
    """Hedge path ``path`` of the backtest with :class:`HedgeEngine` and compare (module doc).

    ``work_dir`` holds the engine's journal. Rate is 0 on both sides. Raises
    :class:`ReplayError` for a book the emulator cannot hold or a failed cycle.
    """
    _check_book(book)
    costs = costs or Costs()
    vol = pricing_vol if pricing_vol is not None else model.natural_vol
    if vol is None:
        raise ReplayError("no pricing vol: give one")
    dt_ms = _step_ms(book, steps)
    vec = vector_path(
        book, model, strategy, steps=steps, seed=seed, path=path, pricing_vol=vol, costs=costs
    )
    times = [start_ms + k * dt_ms for k in range(steps + 1)]
    scripted = ScriptedPath(tuple(times), tuple(float(s) for s in vec.spot_usd))
    market = MarketModel(
        {UNDERLYING: UnderlyingSpec.replay(scripted, vol)}, seed=0, start_ms=start_ms
    )
    clock = ManualClock(start_ms)
    key, secret = "sim-replay", secrets.token_hex(16)
    exchange = SimExchange(
        market, clock, _exchange_config(book, start_ms, key, secret), SimNetwork()
    )
    creds = VenueCredentials(SecretStr(key), SecretStr(secret))
    world = SimWorldSetup(clock, market, {VENUE: SimVenue(exchange, Faults(seed=0), creds)})
    config = _config(strategy, costs, work_dir / "replay-journal.sqlite", start_ms)
    engine_steps: list[ReplayStep] = []
    async with serve_sim_world(world) as (endpoints, _running):
        venues = build_venues(config, {}, Runtime(clock_ms=clock.now_ms), sim_endpoints=endpoints)
        journal = Journal.open(config.daemon.journal_path)
        ctx = EngineContext(config, journal, venues, clock.now_ms)
        engine = HedgeEngine(ctx, strategy.build())
        try:
            for k in range(steps):
                clock.set(times[k])
                result = await engine.run_cycle()
                if result.error is not None or result.plan is None:
                    raise ReplayError(f"engine cycle {k} failed: {result.error}")
                [decision] = [d for d in result.plan.decisions if d.underlying == UNDERLYING]
                before = float(vec.hedge_coin[k - 1]) if k else book.initial_hedge_coin
                orders = tuple(
                    (
                        intent.order.side.value,
                        intent.amount_coin,
                        math.fsum(f.amount for f in getattr(outcome, "fills", ())),
                    )
                    for intent, outcome in result.outcomes
                )
                engine_steps.append(
                    ReplayStep(
                        k=k,
                        ts_ms=times[k],
                        spot_usd=float(vec.spot_usd[k]),
                        vector_book_delta_coin=float(vec.book_delta_coin[k]),
                        vector_hedge_before_coin=before,
                        vector_target_coin=float(vec.hedge_coin[k]),
                        engine_book_delta_coin=decision.book_delta_coin,
                        engine_hedge_before_coin=decision.hedge_coin,
                        engine_target_coin=decision.new_hedge_coin,
                        orders=orders,
                    )
                )
        finally:
            for venue in venues.values():
                await venue.close()
            journal.close()
    return ReplayResult(tuple(engine_steps), LINEAR_LOT_COIN[UNDERLYING])


def replay_path(
    book: Book,
    model: PathModel,
    strategy: StrategySpec,
    *,
    steps: int,
    seed: int,
    work_dir: Path,
    path: int = 0,
    pricing_vol: float | None = None,
    costs: Costs | None = None,
    start_ms: int = DEFAULT_START_MS,
) -> ReplayResult:
    """:func:`replay_path_async` in a fresh event loop (not from inside a running one)."""
    return asyncio.run(
        replay_path_async(
            book,
            model,
            strategy,
            steps=steps,
            seed=seed,
            work_dir=work_dir,
            path=path,
            pricing_vol=pricing_vol,
            costs=costs,
            start_ms=start_ms,
        )
    )
