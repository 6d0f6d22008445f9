"""The hedge cycle's shell: read -> plan -> gate -> journal -> send -> verify.

Everything that decides is pure (:func:`bot.engine.plan.plan_cycle`,
:func:`bot.domain.risk.evaluate`, :mod:`bot.domain.reconcile`); this module
only moves data between the venues, the journal and those functions, in an
order that keeps every send accountable:

1. the trading state and locks are read from the journal (an operator's
   ``deltabot halt`` from another process takes effect here);
2. open orders are reconciled, so in-flight amounts are current;
3. every venue is read (:mod:`bot.engine.reader`); a failed or suspicious
   read (positions vanishing) fails the cycle: unknown is not flat, so there
   is no hedge; a position that moved with no order of ours is journaled as
   external (:mod:`bot.engine.drift`) and hedged as the venue shows it;
4. the plan's decisions are journaled with their Greeks, the gate judges the
   intents, and the executor (:mod:`bot.engine.executor`) sends the approved
   ones journal-first and verifies the positions after fills.

Repeated failures halt trading (:func:`bot.domain.trading_state.after_cycle`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import structlog

from bot.domain.greek_limits import LEVEL_CODES
from bot.domain.ids import Currency, Symbol
from bot.domain.orders import SendOutcome
from bot.domain.pnl import ValuationPoint
from bot.domain.risk import DenyReason, GateDecision, OrderIntent, RiskLimits, evaluate
from bot.domain.snapshot import PortfolioSnapshot
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.trading_state import CycleFailures, SetBy, TradingState, after_cycle
from bot.engine.context import EngineContext, Surfaces
from bot.engine.cycle_result import CycleResult
from bot.engine.drift import note_external_changes
from bot.engine.executor import send_orders
from bot.engine.greek_limits import plan_checks, plan_views
from bot.engine.health import band_views
from bot.engine.plan import CyclePlan, PlanError, PlanInputs, plan_cycle
from bot.engine.pnl_meter import PnlMeter
from bot.engine.reader import PortfolioReader, ReadError
from bot.engine.reconciler import reconcile_journal
from bot.engine.state_changes import note_changes, note_trading_state
from bot.ops.heap import frozen_heap
from strategies.base import Strategy

log = structlog.get_logger("deltabot.cycle")

_NO_SURFACES: Surfaces = MappingProxyType({})
CAPS = frozenset(
    {
        DenyReason.ORDER_CAP,
        DenyReason.ORDER_COUNT,
        DenyReason.HOURLY_CAP,
        DenyReason.DAILY_CAP,
        DenyReason.ORDER_PREMIUM_CAP,
        DenyReason.DAILY_PREMIUM_CAP,
    }
)
"""Denials that are a cap hit (a state change worth a log line), not a per-order verdict."""


def report_denials(ctx: EngineContext, decision: GateDecision) -> None:
    """Log and count each of the gate's denials: every caller of the gate shows them alike."""
    for denial in decision.denied:
        log.warning(
            "order_denied",
            client_id=denial.intent.order.client_id,
            reason=denial.reason.value,
            detail=denial.detail,
        )
        ctx.metrics.order_denied(denial.reason.value)


@dataclass(slots=True)
class _Memory:
    """What the cycle carries from one run to the next (all of it rebuildable)."""

    failures: CycleFailures = field(default_factory=CycleFailures)
    fixed_vols: dict[Symbol, float] | None = None
    """Implied vols of the options at the last hedge (for vol-only moves)."""
    operator_ts_ms: int = -1
    cycle_seq: int = 0
    last_read: PortfolioSnapshot | None = None
    """The previous successful read, to see positions that moved outside deltabot."""
    state: TradingState | None = None
    """The trading state last seen, to log (and alert) each change whoever made it."""
    locks: Mapping[Currency, str] = field(default_factory=dict)
    caps: Mapping[str, str] = field(default_factory=dict)
    """Caps that denied orders in the last cycle, with a denial's detail."""


class HedgeEngine:
    """One account set's hedge cycle: uses the context's resources, owns none of them."""

    def __init__(
        self,
        ctx: EngineContext,
        strategy: Strategy,
        *,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        config = ctx.config
        self._ctx = ctx
        self._strategy = strategy
        self._monotonic_s = monotonic_s
        self._reader = PortfolioReader(ctx)
        self._limits: RiskLimits = config.risk.limits()
        self._routes = tuple(h.route() for h in config.hedges)
        self._routed = tuple(dict.fromkeys(Currency(r.underlying) for r in self._routes))
        state = ctx.journal.state.trading_state()
        self._memory = _Memory(
            operator_ts_ms=state.ts_ms, state=state, locks=dict(ctx.journal.state.locks())
        )
        self._pnl = PnlMeter(ctx.journal.pnl, ctx.metrics)
        # Cycle ids (and so client ids) must never repeat across restarts, even when a
        # simulated clock starts again at the same instant: a per-process nonce sees to it.
        self._run_nonce = secrets.token_hex(4)

    def _plan_inputs(self, surfaces: Surfaces) -> PlanInputs:
        cfg = self._ctx.config
        return PlanInputs(
            strategy=self._strategy,
            routes=self._routes,
            numeraire=cfg.numeraire,
            targets_coin=cfg.strategy.target_delta_coin,
            cost_frac=cfg.strategy.cost_frac,
            max_slippage_frac=cfg.risk.max_slippage_frac,
            max_order_notional_usd=cfg.risk.max_order_notional_usd,
            in_flight=self._ctx.journal.orders.in_flight(),
            last_hedge_ms=self._ctx.journal.orders.last_send_ms(),
            fixed_vols=self._memory.fixed_vols,
            rate=cfg.strategy.rate,
            surfaces=surfaces,
            settlement=cfg.strategy.settlement_policy(),
        )

    def _observe_operator(self, state: TradingState) -> None:
        """An operator's new state (e.g. resume) also accepts the books as the venues show them."""
        if state.set_by is SetBy.OPERATOR and state.ts_ms != self._memory.operator_ts_ms:
            self._memory.operator_ts_ms = state.ts_ms
            self._reader.accept_books()
            self._memory.failures = CycleFailures()
            self._memory.last_read = None

    async def run_cycle(self, surfaces: Surfaces = _NO_SURFACES) -> CycleResult:
        """One full cycle, pricing held options whose mark has no IV off ``surfaces``;
        never raises for venue trouble (it is counted and may halt)."""
        ctx = self._ctx
        t0 = self._monotonic_s()
        started = ctx.clock_ms()
        state = ctx.journal.state.trading_state()
        self._note_state(state)
        self._observe_operator(state)
        portfolio: PortfolioSnapshot | None = None
        plan: CyclePlan | None = None
        decision: GateDecision | None = None
        outcomes: list[tuple[OrderIntent, SendOutcome]] = []
        error: str | None = None
        read_error: str | None = None
        try:
            await reconcile_journal(ctx, recheck_not_found=False)
            try:
                portfolio = await self._reader.read()
            except ReadError as exc:
                read_error = str(exc)
                raise
            if self._memory.last_read is not None:
                note_external_changes(ctx, self._memory.last_read, portfolio)
            self._memory.last_read = portfolio
            self._memory.cycle_seq += 1
            cycle_id = f"{started}-{self._run_nonce}-{self._memory.cycle_seq}"
            with frozen_heap():  # the snapshot's objects stay out of the collector's passes
                plan = plan_cycle(portfolio, self._plan_inputs(surfaces), cycle_id)
                decision = self._judge(plan, state)
            outcomes = await send_orders(ctx, plan.cycle_id, decision, portfolio)
            if outcomes:
                self._memory.fixed_vols = dict(plan.vols_by_symbol)
            self._meter_pnl(plan)
        except (ReadError, PlanError) as exc:
            error = str(exc)
        except Exception as exc:  # an unforeseen failure must count toward the halt too
            error = f"{type(exc).__name__}: {exc}"
            log.exception("cycle_crashed")
        failures, new_state = after_cycle(
            self._memory.failures,
            state,
            error=error,
            max_consecutive_failures=ctx.config.risk.max_consecutive_failures,
            ts_ms=ctx.clock_ms(),
        )
        self._memory.failures = failures
        if new_state is not state:
            ctx.journal.state.set_trading_state(new_state)
            self._note_state(new_state)
        if error is not None:
            log.warning("cycle_failed", error=error, consecutive=failures.consecutive)
        result = CycleResult(
            started_ms=started,
            portfolio=portfolio,
            plan=plan,
            decision=decision,
            outcomes=tuple(outcomes),
            error=error,
            trading_state=new_state,
            locks=ctx.journal.state.locks(),
            duration_s=self._monotonic_s() - t0,
            bands=() if plan is None else band_views(self._routed, plan, decision, outcomes),
            read_error=read_error,
        )
        note_changes("lock_set", "lock_cleared", self._memory.locks, result.locks)
        self._memory.locks = dict(result.locks)
        self._export(result)
        log.info("cycle", **heartbeat(result))
        return result

    def _note_state(self, state: TradingState) -> None:
        before = self._memory.state
        if before is not None:
            note_trading_state(self._ctx, before, state)
        self._memory.state = state

    def _judge(self, plan: CyclePlan, state: TradingState) -> GateDecision:
        """Journal each underlying's decision, then let the risk gate judge the intents."""
        journal = self._ctx.journal
        for d in plan.decisions:
            journal.orders.record_decision(
                plan.cycle_id,
                d.underlying,
                plan.valuation_ts_ms,
                greeks=d.greeks,
                inputs={"problems": list(plan.problems), "strategy": self._strategy.name},
                target_coin=d.new_hedge_coin,
                reason=d.reason,
            )
        journal.pnl.record_equities(
            plan.cycle_id,
            {d.underlying: d.equity_coin for d in plan.decisions},
            {d.underlying: d.linear_usd for d in plan.decisions},
        )
        for problem in plan.problems:
            log.warning("route_unusable", problem=problem)
        now = self._ctx.clock_ms()
        decision = evaluate(
            plan.intents,
            state=journal.orders.recent_sends(now - MS_PER_DAY),
            limits=self._limits,
            now_ms=now,
            inputs=plan.inputs,
            trading_state=state,
            delta_checks=plan.delta_checks,
            locked=frozenset(journal.state.locks()),
            reducing_venues=frozenset(journal.state.reducing_venues()),
        )
        caps = {d.reason.value: d.detail for d in decision.denied if d.reason in CAPS}
        note_changes("cap_hit", "cap_cleared", self._memory.caps, caps)
        self._memory.caps = caps
        report_denials(self._ctx, decision)
        return decision

    def _meter_pnl(self, plan: CyclePlan) -> None:
        """Today's attribution into the metrics; a failure there is logged, never a failed
        cycle: hedging must not depend on a P&L gauge."""
        points = {
            d.underlying: ValuationPoint.of(
                plan.valuation_ts_ms, d.greeks, d.equity_coin, d.linear_usd
            )
            for d in plan.decisions
        }
        try:
            self._pnl.observe(plan.valuation_ts_ms, points)
        except Exception:
            log.exception("pnl_meter_failed")

    def _export(self, result: CycleResult) -> None:
        m = self._ctx.metrics
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
            m.set_vanna_volga(
                d.underlying,
                vanna_coin_per_vol=d.vanna_coin_per_vol,
                volga_usd_per_volpt2=d.volga_usd_per_volpt2,
            )
        limits = self._ctx.config.greek_limits
        m.set_greek_buckets(
            {
                (v.underlying, v.bucket): (v.vega_std_usd_per_volpt, v.gamma_usd_per_pct)
                for v in plan_views(result.plan, limits)
            },
            {
                (c.limit.underlying, c.limit.bucket): LEVEL_CODES[c.level]
                for c in plan_checks(result.plan, limits)
            },
        )


def heartbeat(result: CycleResult) -> dict[str, object]:
    """The fields of the one info line each cycle logs: every routed underlying's total
    delta against its band (coin, rounded for reading), the orders sent and denied, how long
    the cycle took, and its error if it failed."""
    fields: dict[str, object] = {
        "underlyings": {
            b.underlying: {
                "delta_coin": round(b.total_delta_coin, 4),
                "target_coin": b.target_delta_coin,
                "band": b.state.value,
            }
            for b in result.bands
        },
        "sent": len(result.outcomes),
        "denied": 0 if result.decision is None else len(result.decision.denied),
        "duration_s": round(result.duration_s, 3),
    }
    if result.error is not None:
        fields["error"] = result.error
    return fields
