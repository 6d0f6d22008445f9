"""For any sequence of intents over time, approvals never break a cap in any window."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from bot.config.risk import RiskConfig
from bot.domain.freshness import InputStamp
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.orders import OrderRequest, Side, client_order_id
from bot.domain.risk import OrderIntent, RiskLedger, Send, evaluate
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR
from bot.domain.trading_state import SetBy, TradingMode, TradingState

VENUE, SYMBOL = VenueId("deribit-a"), Symbol("BTC/USD:BTC")
ACTIVE = TradingState(TradingMode.ACTIVE, "test", SetBy.OPERATOR, 0)


def fresh(now_ms: int) -> InputStamp:
    return InputStamp(VENUE, f"mark {SYMBOL}", now_ms, now_ms)


@dataclass(frozen=True)
class Step:
    dt_ms: int
    notionals_usd: tuple[float, ...]


@st.composite
def limits(draw: st.DrawFn) -> RiskConfig:
    order = draw(st.floats(1.0, 1_000.0))
    hourly = order * draw(st.floats(1.0, 5.0))
    daily = hourly * draw(st.floats(1.0, 2.5))
    return RiskConfig(
        max_order_notional_usd=order,
        max_hourly_notional_usd=hourly,
        max_daily_notional_usd=daily,
        max_orders_per_window=draw(st.integers(1, 5)),
        order_window_s=draw(st.sampled_from([0.5, 1.0, 30.0, 600.0])),
        max_input_age_s=10.0,
    )


STEPS = st.lists(
    st.builds(
        Step,
        dt_ms=st.one_of(
            st.integers(0, 2_000), st.integers(0, MS_PER_HOUR), st.integers(0, MS_PER_DAY // 3)
        ),
        notionals_usd=st.lists(st.floats(0.01, 1_500.0), max_size=6).map(tuple),
    ),
    max_size=40,
)


def window_max(sends: list[Send], window_ms: int, value: str) -> float:
    """Largest total ('notional' or 'count') over windows (t - W, t] ending at each send."""
    best = 0.0
    for end in sends:
        inside = [s.notional_usd for s in sends if end.ts_ms - window_ms < s.ts_ms <= end.ts_ms]
        best = max(best, math.fsum(inside) if value == "notional" else len(inside))
    return best


def approved_flow(
    cfg: RiskConfig, steps: list[Step], t0: int, *, premium: bool = False
) -> list[Send]:
    """Each step's orders through the gate against the ledger of what it approved before:
    what it approved, stamped. Each drawn amount is an order's notional, or with
    ``premium`` its option premium (at a notional of 1 USD)."""
    now_ms = t0
    sent: list[Send] = []
    for cycle, step in enumerate(steps):
        now_ms += step.dt_ms
        intents = [
            OrderIntent(
                OrderRequest(
                    client_order_id(str(cycle), VENUE, SYMBOL, i), VENUE, SYMBOL, Side.BUY, 10.0
                ),
                Currency("BTC"),
                1.0 if premium else amount,
                0.01,
                0.0,
                amount if premium else 0.0,
            )
            for i, amount in enumerate(step.notionals_usd)
        ]
        decision = evaluate(
            intents,
            state=RiskLedger(tuple(sent)),
            limits=cfg.limits(),
            now_ms=now_ms,
            inputs=fresh(now_ms),
            trading_state=ACTIVE,
        )
        assert len(decision.approved) + len(decision.denied) == len(intents)
        sent.extend(Send(now_ms, i.notional_usd, i.premium_usd) for i in decision.approved)
    return sent


@given(limits(), STEPS, st.integers(0, 2**40))
def test_approved_flow_never_exceeds_any_cap(cfg: RiskConfig, steps: list[Step], t0: int) -> None:
    """Per order, per rolling hour/day (notional) and per order window (count) caps all hold."""
    sent = approved_flow(cfg, steps, t0)
    assert all(s.notional_usd <= cfg.max_order_notional_usd for s in sent)
    assert window_max(sent, MS_PER_HOUR, "notional") <= cfg.max_hourly_notional_usd
    assert window_max(sent, MS_PER_DAY, "notional") <= cfg.max_daily_notional_usd
    assert window_max(sent, cfg.order_window_ms, "count") <= cfg.max_orders_per_window


@given(limits(), st.floats(0.01, 1_000.0))
def test_a_lone_order_within_the_cap_is_approved(cfg: RiskConfig, notional: float) -> None:
    """The caps are not vacuous: on an empty ledger, one order at or under the cap passes."""
    notional = min(notional, cfg.max_order_notional_usd)
    order = OrderRequest(client_order_id("c", VENUE, SYMBOL, 0), VENUE, SYMBOL, Side.SELL, 10.0)
    intent = OrderIntent(order, Currency("BTC"), notional, 0.01, 0.0)
    decision = evaluate(
        [intent],
        state=RiskLedger(),
        limits=cfg.limits(),
        now_ms=0,
        inputs=fresh(0),
        trading_state=ACTIVE,
    )
    assert decision.approved == (intent,)


@st.composite
def premium_limits(draw: st.DrawFn) -> RiskConfig:
    """Premium caps that bind; notional and count caps that never do."""
    order = draw(st.floats(1.0, 1_000.0))
    return RiskConfig(
        max_order_notional_usd=1e9,
        max_hourly_notional_usd=1e9,
        max_daily_notional_usd=1e9,
        max_orders_per_window=100_000,
        max_input_age_s=10.0,
        max_order_premium_usd=order,
        max_daily_premium_usd=order * draw(st.floats(1.0, 5.0)),
    )


@given(premium_limits(), STEPS, st.integers(0, 2**40))
def test_approved_premium_never_exceeds_its_caps(
    cfg: RiskConfig, steps: list[Step], t0: int
) -> None:
    """Per order and per UTC day, the option premium approved stays within its caps."""
    sent = approved_flow(cfg, steps, t0, premium=True)
    assert all(s.premium_usd <= cfg.max_order_premium_usd for s in sent)
    days: dict[int, list[float]] = {}
    for s in sent:
        days.setdefault(s.ts_ms // MS_PER_DAY, []).append(s.premium_usd)
    assert all(math.fsum(day) <= cfg.max_daily_premium_usd for day in days.values())
