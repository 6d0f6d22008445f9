"""The risk gate: each check, its reason, and that denied intents use no budget."""

from __future__ import annotations

import pytest

from bot.config.risk import RiskConfig
from bot.domain.freshness import InputStamp
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.orders import OrderRequest, Side, client_order_id
from bot.domain.risk import (
    DeltaCrossCheck,
    DenyReason,
    GateDecision,
    OrderIntent,
    RiskLedger,
    Send,
    evaluate,
)
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR
from bot.domain.trading_state import SetBy, TradingMode, TradingState

NOW_MS = 1_800_000_000_000
BTC, ETH = Currency("BTC"), Currency("ETH")
LIMITS = RiskConfig(
    max_order_notional_usd=10_000,
    max_hourly_notional_usd=30_000,
    max_daily_notional_usd=50_000,
    max_orders_per_window=3,
    order_window_s=60,
    max_input_age_s=5,
    delta_tolerance_coin=0.1,
    max_order_premium_usd=2_000,
    max_daily_premium_usd=5_000,
).limits()
ACTIVE = TradingState(TradingMode.ACTIVE, "start", SetBy.OPERATOR, 0)
EMPTY = RiskLedger()


def intent(
    notional_usd: float = 1_000.0,
    *,
    seq: int = 0,
    side: Side = Side.BUY,
    underlying: Currency = BTC,
    position_before_coin: float = 0.0,
    premium_usd: float = 0.0,
) -> OrderIntent:
    symbol = Symbol(f"{underlying}/USD:{underlying}")
    venue = VenueId("deribit-a")
    order = OrderRequest(client_order_id("c1", venue, symbol, seq), venue, symbol, side, 10.0)
    return OrderIntent(order, underlying, notional_usd, 0.01, position_before_coin, premium_usd)


def gate(
    *intents: OrderIntent,
    ledger: RiskLedger = EMPTY,
    state: TradingState = ACTIVE,
    inputs_ts_ms: int = NOW_MS,
    delta_checks: dict[Currency, DeltaCrossCheck] | None = None,
    locked: frozenset[Currency] = frozenset(),
    reducing_venues: frozenset[VenueId] = frozenset(),
) -> GateDecision:
    return evaluate(
        intents,
        state=ledger,
        limits=LIMITS,
        now_ms=NOW_MS,
        inputs=InputStamp(
            VenueId("deribit-a"), "mark BTC/USD:BTC", inputs_ts_ms + 30_000, inputs_ts_ms
        ),
        trading_state=state,
        delta_checks=delta_checks,
        locked=locked,
        reducing_venues=reducing_venues,
    )


def reasons(decision: GateDecision) -> list[DenyReason]:
    return [d.reason for d in decision.denied]


def test_within_caps_everything_is_approved() -> None:
    """Two small intents on an empty ledger are both approved, in order."""
    a, b = intent(seq=0), intent(seq=1)
    assert gate(a, b) == GateDecision((a, b), ())


def test_halted_denies_everything_with_the_reason() -> None:
    """HALTED denies every intent and carries the halt reason."""
    halted = TradingState(TradingMode.HALTED, "5 consecutive cycle failures", SetBy.AUTOMATIC, 1)
    decision = gate(intent(seq=0), intent(seq=1), state=halted)
    assert decision.approved == ()
    assert reasons(decision) == [DenyReason.HALTED] * 2
    assert decision.denied[0].message == "trading halted: 5 consecutive cycle failures"


def test_stale_inputs_skip_the_cycle() -> None:
    """Inputs older than max_input_age_s deny all with reason 'stale inputs', naming the input,
    its venue, its age on our clock and its venue stamp; at the limit, fine."""
    stale = gate(intent(), inputs_ts_ms=NOW_MS - 5_001)
    assert stale.approved == () and reasons(stale) == [DenyReason.STALE_INPUTS]
    assert stale.denied[0].message == (
        "stale inputs: mark BTC/USD:BTC on deribit-a is 5.001 s old "
        "(venue stamp 1800000024999, max 5 s)"
    )
    assert len(gate(intent(), inputs_ts_ms=NOW_MS - 5_000).approved) == 1


def test_per_order_cap() -> None:
    """An order above max_order_notional_usd is denied; one at the cap passes."""
    decision = gate(intent(10_000.01, seq=0), intent(10_000.0, seq=1))
    assert reasons(decision) == [DenyReason.ORDER_CAP]
    assert [i.notional_usd for i in decision.approved] == [10_000.0]


def test_order_count_per_window_counts_ledger_and_this_cycle() -> None:
    """Two sends 59 s ago plus one now fill the window of 3; a send 60 s ago has expired."""
    ledger = RiskLedger(
        (Send(NOW_MS - 60_000, 1.0), Send(NOW_MS - 59_000, 1.0), Send(NOW_MS - 59_000, 1.0))
    )
    decision = gate(intent(seq=0), intent(seq=1), ledger=ledger)
    assert len(decision.approved) == 1
    assert reasons(decision) == [DenyReason.ORDER_COUNT]


def test_hourly_cap_includes_already_sent() -> None:
    """25k sent within the hour leaves room for 5k, not 5k + 1 cent; the oldest send expires."""
    ledger = RiskLedger(
        (Send(NOW_MS - MS_PER_HOUR, 9_000.0), Send(NOW_MS - MS_PER_HOUR + 1, 25_000.0))
    )
    decision = gate(intent(5_000.01, seq=0), intent(5_000.0, seq=1), ledger=ledger)
    assert reasons(decision) == [DenyReason.HOURLY_CAP]
    assert [i.notional_usd for i in decision.approved] == [5_000.0]


def test_daily_cap_includes_already_sent() -> None:
    """45k sent earlier today leaves 5k for the rolling day."""
    ledger = RiskLedger((Send(NOW_MS - MS_PER_DAY + 1, 45_000.0),))
    decision = gate(intent(6_000.0, seq=0), intent(5_000.0, seq=1), ledger=ledger)
    assert reasons(decision) == [DenyReason.DAILY_CAP]
    assert [i.notional_usd for i in decision.approved] == [5_000.0]


def test_denied_intents_use_no_budget() -> None:
    """A capped intent does not count toward the order window: later ones still fit."""
    decision = gate(intent(20_000.0, seq=0), *(intent(seq=i) for i in range(1, 4)))
    assert reasons(decision) == [DenyReason.ORDER_CAP]
    assert len(decision.approved) == 3


def test_delta_tolerance_grows_with_the_gross_delta_of_the_book() -> None:
    """0.2 coin apart passes on a book of 20 gross coin (2% = 0.4) and fails on 5 (0.1)."""
    big = {BTC: DeltaCrossCheck(1.0, 0.8, gross_coin=20.0)}
    small = {BTC: DeltaCrossCheck(1.0, 0.8, gross_coin=5.0)}
    assert gate(intent(), delta_checks=big).denied == ()
    assert reasons(gate(intent(), delta_checks=small)) == [DenyReason.DELTA_MISMATCH]


def test_delta_mismatch_refuses_that_underlying_only() -> None:
    """Our delta 0.2 coin off the venue's refuses BTC hedges; ETH, within 0.1, passes."""
    checks = {BTC: DeltaCrossCheck(1.0, 0.8), ETH: DeltaCrossCheck(-3.0, -3.05)}
    eth = intent(seq=1, underlying=ETH)
    decision = gate(intent(seq=0), eth, delta_checks=checks)
    assert decision.approved == (eth,)
    assert reasons(decision) == [DenyReason.DELTA_MISMATCH]
    assert "ours 1 vs venue 0.8" in decision.denied[0].detail


def test_non_finite_delta_counts_as_mismatch() -> None:
    """A NaN delta on either side cannot be trusted: refuse."""
    decision = gate(intent(), delta_checks={BTC: DeltaCrossCheck(float("nan"), 0.0)})
    assert reasons(decision) == [DenyReason.DELTA_MISMATCH]


def test_locked_underlying_is_refused() -> None:
    """An underlying the engine locked (position mismatch) gets no orders."""
    assert reasons(gate(intent(), locked=frozenset({BTC}))) == [DenyReason.LOCKED]


def test_reducing_allows_only_position_reducing_orders() -> None:
    """REDUCING: sell 0.01 of a 0.5 long passes; buying more, flat opening or crossing do not."""
    reducing = TradingState(TradingMode.REDUCING, "venue degraded", SetBy.OPERATOR, 1)
    shrink = intent(seq=0, side=Side.SELL, position_before_coin=0.5)
    grow = intent(seq=1, side=Side.BUY, position_before_coin=0.5)
    open_new = intent(seq=2, side=Side.BUY, position_before_coin=0.0)
    cross = intent(seq=3, side=Side.BUY, position_before_coin=-0.005)
    decision = gate(shrink, grow, open_new, cross, state=reducing)
    assert decision.approved == (shrink,)
    assert reasons(decision) == [DenyReason.NOT_REDUCING] * 3


def test_exact_close_counts_as_reducing() -> None:
    """Closing exactly the whole position is reducing."""
    assert intent(side=Side.BUY, position_before_coin=-0.01).reduces_position


def test_duplicate_client_ids_are_a_bug() -> None:
    """Two intents with one client id raise rather than risk a double send."""
    with pytest.raises(ValueError, match="duplicate client ids"):
        gate(intent(seq=0), intent(seq=0))


def test_intent_validates_its_numbers() -> None:
    """A non-positive notional is refused with the field's name."""
    with pytest.raises(ValueError, match="notional_usd must be a positive"):
        intent(0.0)


def test_a_reducing_venue_takes_only_reducing_orders_the_others_trade_on() -> None:
    """With venue deribit-a restricted, growing the position there is denied and says why;
    shrinking it passes, and the same growing order to another venue passes."""
    grow = intent(seq=0, side=Side.BUY, position_before_coin=0.5)
    shrink = intent(seq=1, side=Side.SELL, position_before_coin=0.5)
    other = VenueId("deribit-b")
    order = grow.order
    elsewhere = OrderIntent(
        OrderRequest(client_order_id("c1", other, order.symbol, 2), other, order.symbol,
                     order.side, order.amount),
        grow.underlying, grow.notional_usd, grow.amount_coin, grow.position_before_coin,
    )  # fmt: skip
    decision = gate(grow, shrink, elsewhere, reducing_venues=frozenset({order.venue}))
    assert decision.approved == (shrink, elsewhere)
    [denied] = decision.denied
    assert denied.intent is grow and denied.reason is DenyReason.NOT_REDUCING
    assert f"{order.venue} may only reduce" in denied.detail


class TestPremiumCaps:
    """The option premium caps: per order, and per UTC day over the ledger and this batch."""

    DAY_START_MS = NOW_MS - NOW_MS % MS_PER_DAY

    def test_an_order_at_the_premium_cap_passes(self) -> None:
        """2,000 USD of premium against a 2,000 per-order cap is approved."""
        assert gate(intent(premium_usd=2_000.0)).denied == ()

    def test_an_order_above_the_premium_cap_is_denied_naming_the_figures(self) -> None:
        """2,000.01 USD is denied by the per-order premium cap; the message names the option
        and both figures."""
        (denial,) = gate(intent(premium_usd=2_000.01)).denied
        assert denial.reason is DenyReason.ORDER_PREMIUM_CAP
        assert denial.message == "order premium cap: BTC/USD:BTC: premium 2000.01 USD > 2000.00 USD"

    def test_the_day_cap_sums_the_ledger_and_this_batch(self) -> None:
        """2,000 sent since 00:00 UTC plus 2,000 now leaves 1,000: a third order of 1,000.01
        is denied, and the send before midnight does not count."""
        ledger = RiskLedger(
            (
                Send(self.DAY_START_MS - 1, 100.0, 2_000.0),
                Send(self.DAY_START_MS, 100.0, 2_000.0),
            )
        )
        first, second = intent(seq=0, premium_usd=2_000.0), intent(seq=1, premium_usd=1_000.01)
        decision = gate(first, second, ledger=ledger)
        assert decision.approved == (first,)
        (denial,) = decision.denied
        assert denial.reason is DenyReason.DAILY_PREMIUM_CAP
        assert denial.detail == "4000.00 USD of premium today (UTC) + 1000.01 USD > 5000.00 USD"

    def test_an_order_without_premium_passes_a_spent_day(self) -> None:
        """The day's premium exhausted, a perp hedge (no premium) still goes."""
        ledger = RiskLedger((Send(NOW_MS - 1, 100.0, 5_000.0),))
        assert gate(intent(), ledger=ledger).denied == ()

    def test_a_negative_premium_is_refused(self) -> None:
        """An intent's premium is unsigned: a negative one is a bug, named."""
        with pytest.raises(ValueError, match="premium_usd must be a finite number >= 0"):
            intent(premium_usd=-1.0)
