"""The hedge cycle's shell: read -> plan -> gate -> journal -> send -> verify (ARCHITECTURE §1, §5).

Everything that decides is pure (:func:`bot.engine.plan.plan_cycle`,
:func:`bot.domain.risk.evaluate`, :mod:`bot.domain.reconcile`); this module
only moves data between the venues, the journal and those functions, in an
order that keeps every send accountable:

1. the trading state and locks are read from the journal (an operator's
   ``deltabot halt`` from another process takes effect here);
2. open orders are reconciled, so in-flight amounts are current;
3. every venue is read; a failed or suspicious read (positions vanishing)
   fails the cycle: unknown is not flat, so there is no hedge;
4. the plan's decisions are journaled with their Greeks, the gate judges the
   intents, and each approved one is journaled PENDING -> SUBMITTED before
   it is sent; the outcome is journaled as it arrives;
5. after fills, positions are re-read: one that did not move as the fills
   say locks its underlying (persisted) and raises an alert.

A stop request (SIGTERM) is honoured between sends: nothing new goes out.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from bot.config import Config
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.orders import Accepted, Fill, OrderState, Rejected, SendOutcome
from bot.domain.reconcile import PositionCheck, position_mismatches
from bot.domain.risk import GateDecision, OrderIntent, evaluate
from bot.domain.snapshot import PortfolioSnapshot, VenueSnapshot
from bot.domain.surface import Surface
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.trading_state import (
    CycleFailures,
    SetBy,
    TradingState,
    after_cycle,
)
from bot.engine.plan import CyclePlan, PlanError, PlanInputs, plan_cycle
from bot.engine.reconciler import reconcile_open_orders
from bot.journal import Journal
from bot.ops.metrics import DaemonMetrics
from bot.venues.base import Venue
from strategies.base import Strategy

log = structlog.get_logger("deltabot.cycle")


class CycleError(RuntimeError):
    """The cycle could not act safely (a venue unreadable, inputs suspicious); no hedge."""


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one cycle did: its plan (None if it failed before planning) and sends."""

    started_ms: int
    plan: CyclePlan | None
    decision: GateDecision | None
    outcomes: tuple[tuple[OrderIntent, SendOutcome], ...]
    error: str | None
    trading_state: TradingState
    locks: Mapping[Currency, str]
    duration_s: float


@dataclass(slots=True)
class _Memory:
    """What the engine carries between cycles (all of it rebuildable after a restart)."""

    failures: CycleFailures = field(default_factory=CycleFailures)
    held: dict[VenueId, VenueSnapshot] = field(default_factory=dict)
    """Per venue, the last read that showed positions."""
    seen: set[VenueId] = field(default_factory=set)
    """Venues read at least once by this process."""
    fixed_vols: dict[Symbol, float] | None = None
    operator_ts_ms: int = -1
    cycle_seq: int = 0


class HedgeEngine:
    """One account set's hedging: owns no I/O resources, only uses the ones it is given."""

    def __init__(
        self,
        config: Config,
        venues: Mapping[VenueId, Venue],
        journal: Journal,
        strategy: Strategy,
        *,
        clock_ms: Callable[[], int],
        metrics: DaemonMetrics | None = None,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._venues = venues
        self._journal = journal
        self._strategy = strategy
        self._clock_ms = clock_ms
        self._metrics = metrics
        self._monotonic_s = monotonic_s
        self._memory = _Memory(operator_ts_ms=journal.state.trading_state().ts_ms)
        # Cycle ids (and so client ids) must never repeat across restarts, even when a
        # simulated clock starts again at the same instant: a per-process nonce sees to it.
        self._run_nonce = secrets.token_hex(4)
        self._stopping = asyncio.Event()
        self.last_result: CycleResult | None = None
        self.last_portfolio: PortfolioSnapshot | None = None
        self.surfaces: Mapping[VenueId, Mapping[Currency, Surface]] = {}
        """Fitted smiles per venue and underlying (set by the surface job)."""

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def config(self) -> Config:
        return self._config

    @property
    def venues(self) -> Mapping[VenueId, Venue]:
        return self._venues

    def clock_ms(self) -> int:
        return self._clock_ms()

    def request_stop(self) -> None:
        """No new network writes from now on; the cycle in flight finishes its bookkeeping."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _watch(self) -> dict[VenueId, list[Symbol]]:
        watch: dict[VenueId, list[Symbol]] = {v: [] for v in self._venues}
        for route in self._config.hedges:
            watch.setdefault(route.venue, []).append(route.symbol)
        return watch

    async def reconcile(self, recheck_not_found: bool = True) -> None:
        """Reconcile open orders now; the start-up and scheduled runs also recheck NOT_FOUND."""
        summary = await reconcile_open_orders(
            self._journal,
            self._venues,
            now_ms=self._clock_ms,
            unknown_grace_ms=self._config.risk.unknown_grace_ms,
            recheck_not_found=recheck_not_found,
        )
        if summary.checked:
            log.info(
                "reconciled",
                checked=summary.checked,
                moved=summary.moved,
                failed_lookups=summary.failed_lookups,
                new_fills=summary.new_fills,
            )

    async def read_portfolio(self) -> PortfolioSnapshot:
        """Every venue read concurrently; any failure or vanished book raises CycleError."""
        watch = self._watch()
        ids = list(self._venues)
        results = await asyncio.gather(
            *(self._venues[v].snapshot(watch.get(v, [])) for v in ids), return_exceptions=True
        )
        snaps: list[VenueSnapshot] = []
        for venue_id, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                raise CycleError(f"venue {venue_id} unreadable: {type(result).__name__}: {result}")
            held = self._memory.held.get(venue_id)
            if not result.positions and held is None and venue_id not in self._memory.seen:
                unexplained = self._journaled_holdings(result)
            elif not result.positions and held is not None:
                unexplained = self._unexplained(held, result.ts_ms)
            else:
                unexplained = []
            if unexplained:
                raise CycleError(
                    f"venue {venue_id} reported no positions, yet {', '.join(unexplained)} "
                    "neither expired nor was closed by our fills: treated as unknown, not "
                    "flat (an operator's resume accepts a flat book)"
                )
            snaps.append(result)
        for snap in snaps:
            self._memory.seen.add(snap.venue)
            if snap.positions:
                self._memory.held[snap.venue] = snap
            else:
                self._memory.held.pop(snap.venue, None)
            if self._metrics is not None:
                self._metrics.set_input_age(snap.venue, (self._clock_ms() - snap.ts_ms) / 1000)
        portfolio = PortfolioSnapshot(self._clock_ms(), tuple(snaps))
        self.last_portfolio = portfolio
        return portfolio

    def _journaled_holdings(self, snap: VenueSnapshot) -> list[Symbol]:
        """On a first read: symbols our journaled fills say this venue still holds.

        After a restart nothing in memory says what the venue held, but the
        journal does: if our own trades there do not net to zero, an empty read
        is suspect (it could also be trades made outside the bot; an operator's
        resume accepts the book as read).
        """
        net: dict[Symbol, float] = {}
        for f in self._journal.orders.fills(snap.venue, since_ms=0):
            net[f.symbol] = net.get(f.symbol, 0.0) + f.side.sign * f.amount
        return [
            sym
            for sym, size in sorted(net.items())
            if (ins := snap.instruments.get(sym)) is not None
            and not (ins.expiry_ms is not None and ins.expiry_ms <= snap.ts_ms)
            and abs(size) > 0.5 * ins.lot_size
        ]

    def _unexplained(self, held: VenueSnapshot, now_ms: int) -> list[Symbol]:
        """Symbols of ``held`` whose disappearance neither expiry nor our fills explain."""
        fills = self._journal.orders.fills(held.venue, since_ms=held.ts_ms)
        out = []
        for pos in held.positions:
            ins = pos.instrument
            if ins.expiry_ms is not None and ins.expiry_ms <= now_ms:
                continue
            traded = sum(f.side.sign * f.amount for f in fills if f.symbol == ins.symbol)
            if abs(pos.size + traded) > 0.5 * ins.lot_size:
                out.append(ins.symbol)
        return out

    def _plan_inputs(self) -> PlanInputs:
        cfg = self._config
        return PlanInputs(
            strategy=self._strategy,
            routes=cfg.hedges,
            numeraire=cfg.numeraire,
            targets_coin=cfg.strategy.target_delta_coin,
            cost_frac=cfg.strategy.cost_frac,
            max_slippage_frac=cfg.risk.max_slippage_frac,
            max_order_notional_usd=cfg.risk.max_order_notional_usd,
            in_flight=self._journal.orders.in_flight(),
            last_hedge_ms=self._journal.orders.last_send_ms(),
            fixed_vols=self._memory.fixed_vols,
            rate=cfg.strategy.rate,
            surfaces=self.surfaces,
        )

    def _observe_operator(self, state: TradingState) -> None:
        """An operator's new state (e.g. resume) also accepts the books as the venues show them."""
        if state.set_by is SetBy.OPERATOR and state.ts_ms != self._memory.operator_ts_ms:
            self._memory.operator_ts_ms = state.ts_ms
            self._memory.held.clear()
            self._memory.seen = set(self._venues)  # the operator accepts the books as read
            self._memory.failures = CycleFailures()

    async def run_cycle(self) -> CycleResult:
        """One full cycle; never raises for venue trouble (it is counted and may halt)."""
        t0 = self._monotonic_s()
        started = self._clock_ms()
        state = self._journal.state.trading_state()
        self._observe_operator(state)
        plan: CyclePlan | None = None
        decision: GateDecision | None = None
        outcomes: list[tuple[OrderIntent, SendOutcome]] = []
        error: str | None = None
        try:
            await self.reconcile(recheck_not_found=False)
            portfolio = await self.read_portfolio()
            self._memory.cycle_seq += 1
            cycle_id = f"{started}-{self._run_nonce}-{self._memory.cycle_seq}"
            plan = plan_cycle(portfolio, self._plan_inputs(), cycle_id)
            decision = self._judge(plan, state)
            outcomes = await self._send(plan, decision, portfolio)
        except (CycleError, PlanError) as exc:
            error = str(exc)
        except Exception as exc:  # an unforeseen failure must count toward the halt too
            error = f"{type(exc).__name__}: {exc}"
            log.exception("cycle_crashed")
        failures, new_state = after_cycle(
            self._memory.failures,
            state,
            error=error,
            max_consecutive_failures=self._config.risk.max_consecutive_failures,
            ts_ms=self._clock_ms(),
        )
        self._memory.failures = failures
        if new_state is not state:
            self._journal.state.set_trading_state(new_state)
            log.error("trading_halted", reason=new_state.reason)
        if error is not None:
            log.warning("cycle_failed", error=error, consecutive=failures.consecutive)
        result = CycleResult(
            started_ms=started,
            plan=plan,
            decision=decision,
            outcomes=tuple(outcomes),
            error=error,
            trading_state=new_state,
            locks=self._journal.state.locks(),
            duration_s=self._monotonic_s() - t0,
        )
        self.last_result = result
        self._export(result)
        return result

    def _judge(self, plan: CyclePlan, state: TradingState) -> GateDecision:
        """Journal each underlying's decision, then let the risk gate judge the intents."""
        for d in plan.decisions:
            self._journal.orders.record_decision(
                plan.cycle_id,
                d.underlying,
                plan.valuation_ts_ms,
                greeks=d.greeks,
                inputs={"problems": list(plan.problems), "strategy": self._strategy.name},
                target_coin=d.new_hedge_coin,
                reason=d.reason,
            )
        for problem in plan.problems:
            log.warning("route_unusable", problem=problem)
        now = self._clock_ms()
        decision = evaluate(
            plan.intents,
            state=self._journal.orders.recent_sends(now - MS_PER_DAY),
            limits=self._config.risk,
            now_ms=now,
            inputs_ts_ms=plan.inputs_ts_ms,
            trading_state=state,
            delta_checks=plan.delta_checks,
            locked=frozenset(self._journal.state.locks()),
        )
        for denial in decision.denied:
            log.warning(
                "order_denied",
                client_id=denial.intent.order.client_id,
                reason=denial.reason.value,
                detail=denial.detail,
            )
            if self._metrics is not None:
                self._metrics.order_denied(denial.reason.value)
        return decision

    async def _send(
        self, plan: CyclePlan, decision: GateDecision, portfolio: PortfolioSnapshot
    ) -> list[tuple[OrderIntent, SendOutcome]]:
        """Journal-first sends of the approved intents, then the post-trade check."""
        outcomes: list[tuple[OrderIntent, SendOutcome]] = []
        fills: list[Fill] = []
        for intent in decision.approved:
            if self.stopping:
                log.info("send_skipped_stopping", client_id=intent.order.client_id)
                break
            outcome = await self._send_one(intent, f"{plan.cycle_id}/{intent.underlying}")
            outcomes.append((intent, outcome))
            if isinstance(outcome, Accepted):
                fills.extend(outcome.fills)
        if outcomes:
            self._memory.fixed_vols = dict(plan.vols_by_symbol)
        if fills:
            await self._verify(portfolio, [i for i, _ in outcomes], fills)
        return outcomes

    async def _send_one(self, intent: OrderIntent, decision_id: str) -> SendOutcome:
        req = intent.order
        venue = self._venues[req.venue]
        self._journal.orders.record_intent(intent, decision_id, self._clock_ms())
        self._journal.orders.mark(req.client_id, OrderState.SUBMITTED, self._clock_ms())
        if self._metrics is not None:
            self._metrics.order_sent(req.venue, req.symbol, req.side.value)
        outcome = await venue.create_order(req)
        now = self._clock_ms()
        if isinstance(outcome, Accepted):
            self._journal.orders.mark(
                req.client_id, outcome.report.state, now, outcome.report, outcome.reason
            )
            for fill in outcome.fills:
                self._journal.orders.record_fill(fill, req.venue)
            kind = "accepted"
        elif isinstance(outcome, Rejected):
            self._journal.orders.mark(
                req.client_id, OrderState.REJECTED, now, detail=outcome.reason
            )
            kind = "rejected"
        else:
            self._journal.orders.mark(req.client_id, OrderState.UNKNOWN, now, detail=outcome.reason)
            kind = "ambiguous"
        log.info(
            "order_sent",
            client_id=req.client_id,
            venue=req.venue,
            symbol=req.symbol,
            side=req.side.value,
            amount=req.amount,
            limit=req.limit_price,
            outcome=kind,
            reason=outcome.reason,
        )
        if self._metrics is not None:
            self._metrics.order_outcome(req.venue, kind)
        return outcome

    async def _verify(
        self, portfolio: PortfolioSnapshot, sent: Sequence[OrderIntent], fills: Sequence[Fill]
    ) -> None:
        """Re-read the traded venues: a position that did not move as filled locks its coin."""
        snaps = {s.venue: s for s in portfolio.venues}
        checks: list[PositionCheck] = []
        for venue_id in sorted({i.order.venue for i in sent}):
            symbols = {i.order.symbol for i in sent if i.order.venue == venue_id}
            try:
                after = await self._venues[venue_id].fetch_positions()
            except Exception as exc:
                log.warning("post_trade_read_failed", venue=venue_id, error=str(exc))
                after = None
            snap = snaps[venue_id]
            for symbol in sorted(symbols):
                instrument = snap.instruments[symbol]
                before = sum(p.size for p in snap.positions if p.instrument.symbol == symbol)
                now_size = (
                    None
                    if after is None
                    else sum(p.size for p in after if p.instrument.symbol == symbol)
                )
                mine = tuple(f for f in fills if f.symbol == symbol and _ours(f, sent, venue_id))
                checks.append(PositionCheck(instrument, before, now_size, mine))
        for mismatch in position_mismatches(checks):
            if mismatch.observed_change is None:
                log.warning("post_trade_unverified", detail=mismatch.detail)
                continue
            self._journal.state.lock_underlying(
                mismatch.underlying, mismatch.detail, self._clock_ms()
            )
            log.error(
                "position_mismatch_locked", underlying=mismatch.underlying, detail=mismatch.detail
            )

    def _export(self, result: CycleResult) -> None:
        m = self._metrics
        if m is None:
            return
        m.cycle_finished(duration_s=result.duration_s, ok=result.error is None)
        m.set_trading_state(result.trading_state.mode.value)
        if result.plan is None:
            return
        for underlying, venue, symbol, coin in result.plan.hedge_positions:
            m.set_hedge_position(underlying, venue, symbol, coin)
        for d in result.plan.decisions:
            m.set_greeks(
                d.underlying,
                delta_coin=d.book_delta_coin + d.hedge_coin,
                delta_usd=(d.book_delta_coin + d.hedge_coin) * d.index_usd,
                gamma_coin_per_pct=d.gamma_coin_per_pct,
                vega_usd_per_volpt=d.vega_usd_per_volpt,
                theta_usd_per_day=d.theta_usd_per_day,
            )


def _ours(fill: Fill, sent: Sequence[OrderIntent], venue: VenueId) -> bool:
    ids = {i.order.client_id for i in sent if i.order.venue == venue}
    return fill.client_id in ids
