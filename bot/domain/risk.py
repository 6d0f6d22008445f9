"""The risk gate: which of a cycle's order intents may be sent (docs/architecture.md §5).

It runs before any network write and is a pure function of the intents, the
ledger of recent sends (from the journal), the limits, and the time. Checks, in
order: trading halted or inputs stale (deny the whole cycle); then per intent:
underlying locked, our delta disagreeing with the venue's, REDUCING but not
reducing, the per-order cap, the per-order option premium, the order count per
window, the rolling hour, the rolling day and the option premium of the UTC day. A
denied intent uses none of the budget.

Option premium (``OrderIntent.premium_usd``: amount × limit price in USD, paid or
received) has its own caps because an option's notional says little about the cash
it moves: a far out-of-the-money option of 1 BTC notional may cost 20 USD, an
in-the-money one 20,000. The day's premium is every send's ``premium_usd`` in the
ledger stamped since 00:00 UTC of ``now``: a day a desk can reconcile against the
venue's daily statement, unlike a rolling window.

Rolling windows are half-open, ``(now - W, now]``: a send at ``t`` stops
counting at ``t + W``. Checking the window that ends at each new send bounds
every window, because the busiest window always ends at a send. Sums use
:func:`math.fsum` (exactly rounded, order-independent), so a cap holds to the
cent rather than to float noise. A send stamped after ``now`` (a clock that
stepped back) keeps counting.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.domain.freshness import InputStamp, stale_problem
from bot.domain.ids import Currency, VenueId
from bot.domain.orders import OrderRequest
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR
from bot.domain.trading_state import TradingMode, TradingState

_REDUCE_TOLERANCE: Final = 1e-9
"""Relative slack when an order closes exactly the position it reduces."""


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The gate's caps and guards, in the core's units (built from ``[risk]`` at the edge)."""

    max_order_notional_usd: float
    max_hourly_notional_usd: float
    max_daily_notional_usd: float
    max_orders_per_window: int
    order_window_ms: int
    max_input_age_ms: int
    delta_tolerance_coin: float
    delta_tolerance_frac: float
    max_order_premium_usd: float
    max_daily_premium_usd: float


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order the engine wants to send, with what the gate needs to judge it.

    ``amount_coin`` is the order's unsigned size in coin; ``position_before_coin``
    the signed position of the same instrument before it (venue + in flight), coin;
    ``premium_usd`` the option premium the order moves at its limit (amount × limit
    price, USD, unsigned), 0 for an order that is no option.
    """

    order: OrderRequest
    underlying: Currency
    notional_usd: float
    amount_coin: float
    position_before_coin: float
    premium_usd: float = 0.0

    def __post_init__(self) -> None:
        owner = f"intent {self.order.client_id} on {self.order.symbol}"
        for name in ("notional_usd", "amount_coin"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{owner}: {name} must be a positive finite number, got {value}")
        if not math.isfinite(self.position_before_coin):
            raise ValueError(f"{owner}: position_before_coin must be finite")
        if not (math.isfinite(self.premium_usd) and self.premium_usd >= 0):
            raise ValueError(
                f"{owner}: premium_usd must be a finite number >= 0, got {self.premium_usd}"
            )

    @property
    def reduces_position(self) -> bool:
        """Whether it shrinks the position toward zero without crossing it (reduce-only)."""
        before = self.position_before_coin
        opposite = before * self.order.side.sign < 0
        return opposite and self.amount_coin <= abs(before) * (1 + _REDUCE_TOLERANCE)


@dataclass(frozen=True, slots=True)
class Send:
    """One order already sent (or journaled to be sent) at ``ts_ms``; ``premium_usd`` is the
    option premium it moved at its limit (0 for no option)."""

    ts_ms: int
    notional_usd: float
    premium_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class RiskLedger:
    """Recent sends, as the journal recorded them; the gate's memory between cycles."""

    sends: tuple[Send, ...] = ()

    def within(self, now_ms: int, window_ms: int) -> list[float]:
        """Notionals (USD) of the sends inside ``(now_ms - window_ms, now_ms]`` or later."""
        return [s.notional_usd for s in self.sends if s.ts_ms > now_ms - window_ms]

    def premium_of_day(self, now_ms: int) -> list[float]:
        """Option premiums (USD) of the sends since 00:00 UTC of ``now_ms``, or later."""
        day_start_ms = now_ms - now_ms % MS_PER_DAY
        return [s.premium_usd for s in self.sends if s.ts_ms >= day_start_ms and s.premium_usd]


@dataclass(frozen=True, slots=True)
class DeltaCrossCheck:
    """Our delta and the venue's reported delta for one underlying, both in coin.

    ``gross_coin`` is the sum of the absolute position deltas compared: the
    tolerance grows with it, because two honest models of a large book differ
    by more coin than two of a small one.
    """

    ours_coin: float
    venue_coin: float
    gross_coin: float = 0.0


class DenyReason(StrEnum):
    HALTED = "trading halted"
    STALE_INPUTS = "stale inputs"
    LOCKED = "underlying locked"
    DELTA_MISMATCH = "delta mismatch"
    NOT_REDUCING = "not reducing"
    ORDER_CAP = "order notional cap"
    ORDER_COUNT = "order count cap"
    HOURLY_CAP = "hourly notional cap"
    DAILY_CAP = "daily notional cap"
    ORDER_PREMIUM_CAP = "order premium cap"
    DAILY_PREMIUM_CAP = "daily premium cap"


@dataclass(frozen=True, slots=True)
class Denial:
    intent: OrderIntent
    reason: DenyReason
    detail: str

    @property
    def message(self) -> str:
        return f"{self.reason.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class GateDecision:
    approved: tuple[OrderIntent, ...]
    denied: tuple[Denial, ...]


def _deny_all(intents: Iterable[OrderIntent], reason: DenyReason, detail: str) -> GateDecision:
    return GateDecision((), tuple(Denial(i, reason, detail) for i in intents))


def _delta_problem(check: DeltaCrossCheck | None, limits: RiskLimits) -> str | None:
    if check is None:
        return None
    tolerance_coin = max(
        limits.delta_tolerance_coin, limits.delta_tolerance_frac * abs(check.gross_coin)
    )
    gap = abs(check.ours_coin - check.venue_coin)
    if math.isfinite(gap) and gap <= tolerance_coin:
        return None
    return (
        f"ours {check.ours_coin:.6g} vs venue {check.venue_coin:.6g} coin "
        f"(tolerance {tolerance_coin:g})"
    )


def _reducing(intent: OrderIntent, state: TradingState, venues: Collection[VenueId]) -> str | None:
    """Why ``intent`` must reduce and does not (None: it may go)."""
    if intent.reduces_position:
        return None
    if state.mode is TradingMode.REDUCING:
        return state.reason
    if intent.order.venue in venues:
        return f"{intent.order.venue} may only reduce"
    return None


def evaluate(  # noqa: C901, PLR0912 - the checks run as one chain in the documented order, so the first failing one is the reason given
    intents: Iterable[OrderIntent],
    *,
    state: RiskLedger,
    limits: RiskLimits,
    now_ms: int,
    inputs: InputStamp,
    trading_state: TradingState,
    delta_checks: Mapping[Currency, DeltaCrossCheck] | None = None,
    locked: Collection[Currency] = frozenset(),
    reducing_venues: Collection[VenueId] = frozenset(),
) -> GateDecision:
    """Approve or deny each intent, in order; approvals are assumed sent at ``now_ms``.

    ``inputs`` is the oldest input the intents were computed from, its venue
    time already on our clock (see :mod:`bot.domain.freshness`);
    ``delta_checks`` holds, per underlying, our delta and the venue's (an
    underlying without an entry is not cross-checked); ``locked`` lists
    underlyings the engine has locked (e.g. after a position mismatch);
    ``reducing_venues`` the venues where only reducing orders may go, whatever the
    (global) trading state.
    """
    intents = tuple(intents)
    ids = [i.order.client_id for i in intents]
    if len(set(ids)) != len(ids):
        raise ValueError(f"risk gate: duplicate client ids among intents: {ids}")
    if trading_state.mode is TradingMode.HALTED:
        return _deny_all(intents, DenyReason.HALTED, trading_state.reason)
    stale = stale_problem(inputs, now_ms, limits.max_input_age_ms)
    if stale is not None:
        return _deny_all(intents, DenyReason.STALE_INPUTS, stale)

    checks = delta_checks or {}
    count_used = len(state.within(now_ms, limits.order_window_ms))
    hour_used = state.within(now_ms, MS_PER_HOUR)
    day_used = state.within(now_ms, MS_PER_DAY)
    premium_used = state.premium_of_day(now_ms)
    approved: list[OrderIntent] = []
    denied: list[Denial] = []
    for intent in intents:
        notional = intent.notional_usd
        delta_problem = _delta_problem(checks.get(intent.underlying), limits)
        premium = intent.premium_usd
        problem: tuple[DenyReason, str] | None = None
        if intent.underlying in locked:
            problem = (DenyReason.LOCKED, f"{intent.underlying} is locked")
        elif delta_problem is not None:
            problem = (DenyReason.DELTA_MISMATCH, f"{intent.underlying}: {delta_problem}")
        elif (reducing := _reducing(intent, trading_state, reducing_venues)) is not None:
            problem = (
                DenyReason.NOT_REDUCING,
                f"{intent.order.side.value} {intent.amount_coin:g} coin against a position "
                f"of {intent.position_before_coin:g} coin ({reducing})",
            )
        elif notional > limits.max_order_notional_usd:
            problem = (
                DenyReason.ORDER_CAP,
                f"{notional:.2f} USD > {limits.max_order_notional_usd:.2f} USD",
            )
        elif premium > limits.max_order_premium_usd:
            problem = (
                DenyReason.ORDER_PREMIUM_CAP,
                f"{intent.order.symbol}: premium {premium:.2f} USD > "
                f"{limits.max_order_premium_usd:.2f} USD",
            )
        elif count_used + 1 > limits.max_orders_per_window:
            problem = (
                DenyReason.ORDER_COUNT,
                f"{count_used} orders in {limits.order_window_ms / 1000:g} s "
                f"(max {limits.max_orders_per_window})",
            )
        elif math.fsum([*hour_used, notional]) > limits.max_hourly_notional_usd:
            problem = (
                DenyReason.HOURLY_CAP,
                f"{math.fsum(hour_used):.2f} USD sent in the last hour + {notional:.2f} USD "
                f"> {limits.max_hourly_notional_usd:.2f} USD",
            )
        elif math.fsum([*day_used, notional]) > limits.max_daily_notional_usd:
            problem = (
                DenyReason.DAILY_CAP,
                f"{math.fsum(day_used):.2f} USD sent in the last day + {notional:.2f} USD "
                f"> {limits.max_daily_notional_usd:.2f} USD",
            )
        elif premium and math.fsum([*premium_used, premium]) > limits.max_daily_premium_usd:
            problem = (
                DenyReason.DAILY_PREMIUM_CAP,
                f"{math.fsum(premium_used):.2f} USD of premium today (UTC) + {premium:.2f} USD "
                f"> {limits.max_daily_premium_usd:.2f} USD",
            )
        if problem is None:
            approved.append(intent)
            count_used += 1
            hour_used.append(notional)
            day_used.append(notional)
            premium_used.append(premium)
        else:
            denied.append(Denial(intent, *problem))
    return GateDecision(tuple(approved), tuple(denied))
