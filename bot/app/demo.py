"""The demo run: the real daemon on the embedded simulator through a scripted bad day.

Everything the product does in production runs here unchanged: two emulated
Deribit venues on loopback, ccxt over HTTP, the journal, the risk gate, the
scheduler. Only the world is scripted: an accelerated clock, a BTC crash and
an ETH vol spike. The observer below records one :class:`CycleSample` per
underlying per cycle and, at the end, reads the journal and the venues'
equity to build the :class:`RunReport`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from bot.app.daemon import Daemon, DaemonHooks, run_daemon
from bot.app.demo_progress import DemoProgress
from bot.app.run_report import AccountPnl, CycleSample, HedgeOrderRow, RunReport, TransferRow
from bot.app.trade_report import fees_by_currency
from bot.app.when import NO_END_MS
from bot.backtest.spec import StrategySpec
from bot.config import Config
from bot.domain.ids import Currency
from bot.domain.orders import Accepted, Side
from bot.domain.pnl import totals
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.timeunits import MS_PER_HOUR, iso_utc
from bot.domain.units import position_coin
from bot.engine.cycle_result import CycleResult
from bot.journal import Journal
from bot.sim.market import JumpEvent, MarketEvent, VolSpikeEvent

_DOLLARS = frozenset({"USD", "USDC", "USDT"})


@dataclass(frozen=True, slots=True)
class DemoScript:
    """How long the simulated stretch is, how fast it runs, and what happens in it."""

    hours: float = 12.0
    speed: float = 1440.0
    hedge_interval_s: float = 300.0
    events: tuple[MarketEvent, ...] = ()


def default_script(start_ms: int, underlyings: Sequence[str]) -> DemoScript:
    """A BTC crash of −8% after 3 hours and an ETH vol spike (×2.5) after 7 hours."""
    events: list[MarketEvent] = []
    if "BTC" in underlyings:
        events.append(JumpEvent(start_ms + 3 * MS_PER_HOUR, "BTC", -0.08))
    if "ETH" in underlyings:
        events.append(VolSpikeEvent(start_ms + 7 * MS_PER_HOUR, "ETH", 2.5))
        events.append(JumpEvent(start_ms + 7 * MS_PER_HOUR, "ETH", 0.05))
    return DemoScript(events=tuple(events))


def describe(event: MarketEvent) -> str:
    when = iso_utc(event.ts_ms)
    if isinstance(event, JumpEvent):
        return f"{when} {event.underlying} jump {event.jump_pct:+.0%}"
    return f"{when} {event.underlying} vol spike x{event.multiplier:g}"


def strategy_text(config: Config) -> str:
    """The strategy with the parameters the config sets, and its cost: the chart's title."""
    strategy = config.strategy
    spec = StrategySpec(strategy.name, strategy.params.model_dump(exclude_unset=True))
    return f"{spec.display}, cost_frac {strategy.cost_frac:g}"


def equity_usd(portfolio: PortfolioSnapshot) -> dict[str, float]:
    """Each venue's equity over all currencies in USD at the portfolio's index prices."""
    index = {c: px for s in portfolio.venues for c, px in s.index_usd.items()}
    return {
        s.venue: math.fsum(
            b.equity * (1.0 if b.currency in _DOLLARS else index.get(b.currency, math.nan))
            for b in s.balances
            if b.equity != 0
        )
        for s in portfolio.venues
    }


@dataclass(slots=True)
class Recorder:
    """Observes each cycle of the daemon and keeps what the report needs."""

    samples: list[CycleSample] = field(default_factory=list)
    denials: list[str] = field(default_factory=list)
    first: PortfolioSnapshot | None = None
    last: PortfolioSnapshot | None = None

    def on_cycle(self, result: CycleResult) -> None:
        portfolio = result.portfolio
        if portfolio is not None:
            self.first = self.first or portfolio
            self.last = portfolio
        if result.decision is not None:
            self.denials += [f"{d.intent.underlying}: {d.message}" for d in result.decision.denied]
        if result.plan is None:
            return
        filled: dict[Currency, float] = {}
        for intent, outcome in result.outcomes:
            if isinstance(outcome, Accepted) and outcome.report.filled_amount > 0:
                share = outcome.report.filled_amount / intent.order.amount
                sign = 1.0 if intent.order.side is Side.BUY else -1.0
                filled[intent.underlying] = (
                    filled.get(intent.underlying, 0.0) + sign * share * intent.amount_coin
                )
        for d in result.plan.decisions:
            if not d.routed:
                continue
            self.samples.append(
                CycleSample(
                    ts_ms=result.plan.valuation_ts_ms,
                    underlying=d.underlying,
                    index_usd=d.index_usd,
                    book_delta_coin=d.book_delta_coin,
                    hedge_coin=d.hedge_coin + filled.get(d.underlying, 0.0),
                    target_delta_coin=d.target_delta_coin,
                    band_lower_coin=d.band_lower_coin,
                    band_upper_coin=d.band_upper_coin,
                    gamma_coin_per_pct=d.gamma_coin_per_pct,
                    vega_usd_per_volpt=d.vega_usd_per_volpt,
                    theta_usd_per_day=d.theta_usd_per_day,
                    sigma=d.sigma,
                    equity_coin=d.equity_coin,
                    linear_usd=d.linear_usd,
                )
            )


def _orders(
    journal: Journal, last: PortfolioSnapshot | None, since_ms: int
) -> tuple[HedgeOrderRow, ...]:
    rows = []
    for record, underlying, avg in journal.orders.since(since_ms):
        req = record.request
        instrument = None
        if last is not None:
            snap = next((s for s in last.venues if s.venue == req.venue), None)
            instrument = snap.instruments.get(req.symbol) if snap else None
        price = avg or req.limit_price or math.nan
        coin = position_coin(instrument, req.amount, price) if instrument else math.nan
        rows.append(
            HedgeOrderRow(
                ts_ms=record.created_ts_ms,
                venue=req.venue,
                symbol=req.symbol,
                underlying=underlying,
                side=req.side.value,
                amount=req.amount,
                amount_unit=instrument.amount_unit.value if instrument else "?",
                amount_coin=coin,
                state=record.state.value,
                filled_amount=record.filled_amount,
                average_price=avg,
                fees=fees_by_currency(journal.orders.fills_of(req.venue, req.client_id)),
            )
        )
    return tuple(rows)


def hedge_pnl_usd(journal: Journal, last: PortfolioSnapshot | None, since_ms: int) -> float:
    """P&L of the hedge fills marked to the last marks, in USD at the last index.

    Inverse contract fill of ``a`` USD at ``p``, mark ``m``: coin P&L
    a·(1/p − 1/m) for a buy (the sign flips for a sell); linear: a·(m − p) USD.
    """
    if last is None:
        return 0.0
    total = []
    for snap in last.venues:
        index = snap.index_usd
        for fill in journal.orders.fills(snap.venue, since_ms=since_ms):
            inst = snap.instruments.get(fill.symbol)
            mark = snap.marks.get(fill.symbol)
            if inst is None or mark is None:
                continue
            sign = fill.side.sign
            if inst.is_inverse and inst.amount_unit.value == "usd":
                coin = sign * fill.amount * (1 / fill.price - 1 / mark.mark_price)
                total.append(coin * index.get(inst.underlying, mark.mark_price))
            else:
                total.append(sign * fill.amount * (mark.mark_price - fill.price))
    return math.fsum(total)


def reaction_text(daemon: Daemon) -> str:
    """The stream's reaction time per hedge (wall ms from the event to the cycle's end, for
    each triggered cycle that sent orders), or why there is none."""
    if daemon.stream is None:
        return "streaming: off (REST polling only)"
    hedges = [r for r in daemon.stream.reactions if r.orders]
    if not hedges:
        return f"streaming: {daemon.stream.triggers} trigger(s), no triggered cycle hedged"
    ms = sorted(r.reaction_s * 1000 for r in hedges)
    each = " ".join(f"{r.reaction_s * 1000:.0f}" for r in hedges)
    return (
        f"streaming: {len(hedges)} triggered hedge(s), reaction median {ms[len(ms) // 2]:.0f} ms, "
        f"max {ms[-1]:.0f} ms (event to orders answered); per hedge, ms: {each}"
    )


async def run_demo(
    config: Config, environ: dict[str, str], script: DemoScript, progress: TextIO | None = None
) -> RunReport:
    """Run the daemon through ``script``, writing its progress to ``progress`` (stderr, say);
    returns the report once the stretch is over."""
    assert config.sim is not None
    start_ms = int(config.sim.start.timestamp() * 1000)
    end_ms = start_ms + int(script.hours * MS_PER_HOUR)
    stop = asyncio.Event()
    recorder = Recorder()
    shown = None if progress is None else DemoProgress(start_ms, end_ms, progress)
    holder: list[Daemon] = []

    def on_cycle(result: CycleResult) -> None:
        recorder.on_cycle(result)
        if shown is not None:
            shown.on_cycle(result)
        if holder and holder[0].clock.now_ms() >= end_ms:
            stop.set()

    wall0 = time.monotonic()

    def on_ready(daemon: Daemon) -> None:
        holder.append(daemon)
        server = daemon.status_server
        if shown is not None and server is not None:
            shown.note(f"demo: the dashboard is at {server.base_url}/ while the demo runs")

    hooks = DaemonHooks(on_cycle=on_cycle, on_ready=on_ready, events=script.events)
    try:
        await run_daemon(config, environ, stop, hooks)
    finally:
        if shown is not None:
            shown.finish(holder[0].clock.now_ms() if holder else None)
    daemon = holder[0]
    if shown is not None:
        shown.note(reaction_text(daemon))
    first, last = recorder.first, recorder.last
    start_eq = equity_usd(first) if first else {}
    end_eq = equity_usd(last) if last else {}
    with Journal.open_control(config.daemon.journal_path) as journal:
        orders = _orders(journal, last, start_ms)
        pnl = hedge_pnl_usd(journal, last, start_ms)
        attribution = totals(journal.pnl.daily(start_ms, NO_END_MS))
        transfers = tuple(
            TransferRow(
                ts_ms=t.created_ts_ms,
                venue=t.request.venue,
                currency=t.request.currency,
                amount=t.request.amount,
                destination=t.request.destination,
                state=t.state.value,
            )
            for t in journal.transfers.since(start_ms)
        )
    return RunReport(
        started_ms=start_ms,
        finished_ms=daemon.clock.now_ms(),
        wall_s=time.monotonic() - wall0,
        samples=tuple(recorder.samples),
        orders=orders,
        transfers=transfers,
        accounts=tuple(
            AccountPnl(v, start_eq[v], end_eq.get(v, math.nan)) for v in sorted(start_eq)
        ),
        hedge_pnl_usd=pnl,
        events=tuple(describe(e) for e in script.events),
        denials=tuple(recorder.denials),
        attribution=attribution,
        strategy=strategy_text(config),
    )
