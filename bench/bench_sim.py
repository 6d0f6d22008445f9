"""Simulated exchange: cost of a 500-ticker poll, grid repricing, path generation, orders."""

from __future__ import annotations

from bench._util import pin_one_core, report, times
from bot.clock import ManualClock
from bot.domain.timeunits import MS_PER_DAY
from bot.sim.exchange import SimExchange
from bot.sim.market import MarketModel
from bot.sim.marks import MarkTable
from bot.sim.spec import ExchangeSpec

T0 = 1_767_254_400_000


def run() -> None:
    pin_one_core()
    clk = ManualClock(T0)
    market = MarketModel.default(T0, seed=1)
    ex = SimExchange(market, clk, ExchangeSpec.default("bench", T0))
    names = [i.instrument_name for i in ex.instruments("any")][:500]
    n_options = sum(1 for i in ex.instruments("any", "option"))

    def poll_same_step() -> None:
        for name in names:
            ex.ticker(name)

    t = times(poll_same_step, repeat=5)
    report(f"poll of {len(names)} tickers, one time step (cached marks)", t.min() * 1e3, "ms")

    def poll_advancing() -> None:
        for name in names:
            clk.advance(1000)
            ex.ticker(name)

    t = times(poll_advancing, repeat=3)
    report(f"poll of {len(names)} tickers, clock +1 s before each", t.min() * 1e3, "ms")

    contracts = [c for c in ex._w.contracts.values() if c.expiry_ms > market.now_ms]

    def reprice_all() -> None:
        table = MarkTable(market, contracts)
        for name in table:
            table[name]

    t = times(reprice_all, repeat=20)
    report(f"reprice the whole grid ({n_options} options) once", t.min() * 1e3, "ms")

    fresh = MarketModel.default(T0, seed=2)
    day = [T0]

    def one_day() -> None:
        day[0] += MS_PER_DAY
        fresh.advance_to(day[0])

    t = times(one_day, repeat=5, warmup=0)
    report("market path: advance 1 sim day (86,400 1 s steps, 2 underlyings)", t.min() * 1e3, "ms")

    def ioc_roundtrip() -> None:
        ex.place_order(
            1, direction="buy", instrument_name="BTC-PERPETUAL", amount=100.0, type="market"
        )
        ex.place_order(
            1, direction="sell", instrument_name="BTC-PERPETUAL", amount=100.0, type="market"
        )

    t = times(ioc_roundtrip, repeat=20)
    report("market buy + sell on BTC-PERPETUAL (2 orders)", t.min() * 1e3, "ms")
