"""One full venue poll through ccxt against the loopback Deribit emulator.

A poll is what the hedge cycle does every time: positions, balances and the
marks of 500 instruments (``CcxtVenue.snapshot``). The bot's own share is the
time its normalisers take over the same ccxt answers, replayed without I/O;
the rest is HTTP, the emulator and ccxt's parsing. Both ends share one
process (and the machine's cores with other jobs), so the figures are noisy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import SecretStr

from bench._util import report
from bot.clock import ManualClock
from bot.config import Mode, VenueConfig
from bot.domain.ids import ClientOrderId
from bot.domain.orders import OrderRequest, Side
from bot.domain.snapshot import VenueSnapshot
from bot.secrets import VenueCredentials
from bot.sim.exchange import SimExchange
from bot.sim.market import MarketModel
from bot.sim.server import run_emulator
from bot.sim.spec import ExchangeSpec, default_main_account
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.factory import Runtime, SimEndpoint, build_venue
from bot.venues.normalise.common import info
from bot.venues.normalise.deribit import DeribitNormaliser

START_MS = 1_736_150_400_000
N_MARKS = 500
POLLS = 40
TARGET_SHARE = 0.10


def _recording(client: Any, name: str, sink: dict[str, list[Any]]) -> None:
    """Keep every answer of ``client.<name>`` so the normalising can be replayed offline."""
    original = getattr(client, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = await original(*args, **kwargs)
        sink.setdefault(name, []).append(answer)
        return answer

    setattr(client, name, wrapper)


def _normalise_once(venue: CcxtVenue, answers: dict[str, Any]) -> VenueSnapshot:
    """Everything the bot does with one poll's ccxt answers, without the I/O."""
    norm = venue.normaliser
    assert isinstance(norm, DeribitNormaliser)
    markets = venue.markets
    by_id = {vm.market_id: vm for vm in markets.values()}
    positions = tuple(
        p
        for payload in answers["fetch_positions"]
        if (p := norm.position(markets[payload["symbol"]], payload)).size != 0
    )
    marks = {}
    for ticker in answers["fetch_tickers"]:
        raw = info(ticker, "ticker")
        vm = by_id.get(raw["instrument_name"])
        if vm is not None:
            marks[vm.symbol] = norm.mark(vm, raw)
    return VenueSnapshot(
        venue.venue_id,
        START_MS,
        {s: vm.instrument for s, vm in markets.items()},
        positions,
        tuple(norm.balances(answers["fetch_balance"], "main")),
        marks,
    )


async def _poll_bench() -> tuple[np.ndarray, float, int]:
    main = default_main_account()
    clock = ManualClock(START_MS)
    config = ExchangeSpec.default("bench", START_MS, accounts=(main,))
    market = MarketModel.default(START_MS, seed=3, underlyings=config.underlyings)
    async with run_emulator(SimExchange(market, clock, config)) as emulator:
        keys = VenueCredentials(SecretStr(main.client_id), SecretStr(main.client_secret))
        settings = VenueConfig.model_validate(
            {"name": "bench", "exchange": "deribit", "role": ["hedge"]}
        )
        venue = build_venue(
            settings, Mode.SIM, {}, Runtime(clock_ms=clock.now_ms),
            sim=SimEndpoint(emulator.base_url, keys),
        )  # fmt: skip
        assert isinstance(venue, CcxtVenue)
        venue.budget.rate_per_s = venue.budget.capacity = 1e6  # measure the poll, not the budget
        instruments = await venue.load_instruments()
        watch = sorted(instruments, key=lambda s: (not instruments[s].is_option, s))[:N_MARKS]
        for i, symbol in enumerate(watch[:5]):
            amount = instruments[symbol].lot_size
            await venue.create_order(
                OrderRequest(ClientOrderId(f"bench{i}"), venue.venue_id, symbol, Side.BUY, amount)
            )
        answers: dict[str, list[Any]] = {}
        for name in ("fetch_positions", "fetch_balance", "fetch_tickers"):
            _recording(venue.client, name, answers)
        polls = np.empty(POLLS)
        for i in range(POLLS):
            answers.clear()
            t0 = time.perf_counter()
            snapshot = await venue.snapshot(watch=watch)
            polls[i] = time.perf_counter() - t0
        assert len(snapshot.marks) >= N_MARKS
        replay = {
            "fetch_positions": [p for batch in answers["fetch_positions"] for p in batch],
            "fetch_balance": answers["fetch_balance"][0],
            "fetch_tickers": [t for batch in answers["fetch_tickers"] for t in batch.values()],
        }
        own = _median_s(lambda: _normalise_once(venue, replay))
        await venue.close()
        return polls, own, len(snapshot.marks)


def _median_s(fn: Callable[[], object], repeat: int = 21) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def run() -> None:
    polls, own_s, n_marks = asyncio.run(_poll_bench())
    median_ms = float(np.median(polls)) * 1e3
    report(f"full poll, {n_marks} marks + positions + balances: median", median_ms, "ms")
    report("full poll: p99", float(np.percentile(polls, 99)) * 1e3, "ms")
    share = own_s * 1e3 / median_ms
    report("bot's normalising time per poll (no I/O)", own_s * 1e3, "ms")
    report(
        "bot's share of the median poll",
        100.0 * share,
        "%",
        target=f"< {100 * TARGET_SHARE:.0f} %",
        ok=share < TARGET_SHARE,
    )
