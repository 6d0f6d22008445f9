"""Which changes become alerts: health transitions, trading-state changes, IOC streaks, the
daily summary, and the escalation and text rules of the throttle."""

from __future__ import annotations

from bot.domain.alert_rules import (
    DailySummary,
    HealthWatch,
    component_kind,
    ioc_streaks,
    summary_day,
    summary_event,
    trading_event,
)
from bot.domain.alerts import Alert, AlertEvent, AlertKind, Severity, Throttle
from bot.domain.health import Component, Health, Level
from bot.domain.ids import Currency
from bot.domain.timeunits import MS_PER_DAY, MS_PER_HOUR
from bot.domain.trading_state import SetBy, TradingMode, TradingState

T0 = 1_796_112_000_000  # 2026-12-01T08:00:00Z
BTC = Currency("BTC")


def health(*components: tuple[str, Level]) -> Health:
    return Health(
        tuple(Component(n, lv, f"{n} is {lv.value}") for n, lv in components), "active", 1
    )


class TestHealthWatch:
    def test_a_component_alerts_when_it_degrades_and_resolves_when_ok(self) -> None:
        """ok -> failing is one critical event keyed on the name; back to ok resolves it once."""
        watch, first = HealthWatch().watch(health(("inputs", Level.OK)), T0)
        watch, bad = watch.watch(health(("inputs", Level.FAILING)), T0 + 1)
        watch, same = watch.watch(health(("inputs", Level.FAILING)), T0 + 2)
        watch, good = watch.watch(health(("inputs", Level.OK)), T0 + 3)
        assert first == () and same == ()
        [b] = bad
        assert (b.kind, b.severity, b.key, b.resolved) == (
            AlertKind.STALE_INPUTS,
            Severity.CRITICAL,
            "health:inputs",
            False,
        )
        [g] = good
        assert (g.key, g.resolved, g.severity) == ("health:inputs", True, Severity.INFO)

    def test_a_band_alerts_only_after_n_cycles_outside(self) -> None:
        """band:BTC degraded for band_cycles=3 evaluations in a row alerts on the third."""
        watch = HealthWatch(band_cycles=3)
        seen = []
        for i in range(4):
            watch, events = watch.watch(health(("band:BTC", Level.DEGRADED)), T0 + i)
            seen.append(len(events))
        assert seen == [0, 0, 1, 0]

    def test_a_vanished_component_resolves_and_trading_is_left_to_its_own_event(self) -> None:
        """A failing margin:x that disappears resolves; the trading component never alerts."""
        watch, events = HealthWatch().watch(
            health(("margin:x", Level.FAILING), ("trading", Level.FAILING)), T0
        )
        assert [e.kind for e in events] == [AlertKind.MARGIN]
        _, gone = watch.watch(health(), T0 + 1)
        assert [(e.key, e.resolved) for e in gone] == [("health:margin:x", True)]

    def test_every_component_name_maps_to_its_class(self) -> None:
        """The stable component names map to their alert classes; an unknown one to HEALTH."""
        assert {n: component_kind(n) for n in ("venues", "locks", "unknown_orders")} == {
            "venues": AlertKind.VENUE_UNREACHABLE,
            "locks": AlertKind.LOCK,
            "unknown_orders": AlertKind.UNKNOWN_ORDER,
        }
        assert component_kind("risk_gate") is AlertKind.CAPS_DENYING
        assert component_kind("band:ETH") is AlertKind.HEDGE_FAILING
        assert component_kind("new_thing") is AlertKind.HEALTH


class TestTradingEvent:
    def test_a_halt_says_who_and_why(self) -> None:
        """active -> halted by the operator is critical with from, to, by and the reason."""
        before = TradingState(TradingMode.ACTIVE, "start", SetBy.AUTOMATIC, T0)
        after = TradingState(TradingMode.HALTED, "fat finger", SetBy.OPERATOR, T0 + 5)
        e = trading_event(before, after)
        assert e is not None and e.severity is Severity.CRITICAL
        assert e.message == "trading active -> halted by operator: fat finger"
        assert dict(e.fields) == {
            "from": "active",
            "to": "halted",
            "by": "operator",
            "reason": "fat finger",
        }

    def test_the_same_mode_again_is_no_event(self) -> None:
        """A new record of the same mode (a new reason) is logged by the engine, not alerted."""
        a = TradingState(TradingMode.HALTED, "one", SetBy.OPERATOR, T0)
        assert (
            trading_event(a, TradingState(TradingMode.HALTED, "two", SetBy.OPERATOR, T0 + 1))
            is None
        )


def test_ioc_streaks_count_unfilled_in_a_row_and_reset_on_a_fill() -> None:
    """Three unfilled BTC IOCs make 3; a fill resets; other underlyings keep their count."""
    eth = Currency("ETH")
    streak = ioc_streaks({eth: 2}, [(BTC, False), (BTC, False), (BTC, False)])
    assert streak == {eth: 2, BTC: 3}
    assert ioc_streaks(streak, [(BTC, True)]) == {eth: 2, BTC: 0}


def test_the_summary_day_moves_on_at_the_configured_utc_time() -> None:
    """At 08:00 UTC: 07:59 still belongs to the day before, 08:00 starts the new one."""
    midnight = T0 - 8 * MS_PER_HOUR
    at = 8 * 60
    assert summary_day(midnight + 8 * MS_PER_HOUR - 60_000, at) == midnight // MS_PER_DAY - 1
    assert summary_day(midnight + 8 * MS_PER_HOUR, at) == midnight // MS_PER_DAY


def test_the_daily_summary_tells_state_delta_orders_alerts_and_extra_lines() -> None:
    """The summary text has its ISO time, trading state, delta per underlying, order counts,
    alerts per severity and the hook's extra line (P&L)."""
    summary = DailySummary(
        ts_ms=T0,
        trading=TradingState(TradingMode.ACTIVE, "ok", SetBy.OPERATOR, T0),
        total_delta_coin={BTC: -0.01},
        orders={"filled": 4, "canceled": 1},
        alerts={"warning": 2},
        extra_lines=("pnl: +12.00 USD",),
    )
    lines = summary_event(summary).message.splitlines()
    assert lines == [
        "daily summary to 2026-12-01T08:00:00.000Z",
        "trading active (set by operator: ok)",
        "total delta: BTC -0.0100 coin",
        "orders: 5 sent, 4 filled, 1 canceled",
        "alerts: 2 warning",
        "pnl: +12.00 USD",
    ]


def test_an_escalation_is_never_held_back_by_the_window() -> None:
    """A critical event of a key opened by a warning goes out at once, counting the warnings
    held back since (a warning repeat inside the window is held)."""
    warn = AlertEvent(AlertKind.MARGIN, Severity.WARNING, "m", "near", T0)
    crit = AlertEvent(AlertKind.MARGIN, Severity.CRITICAL, "m", "at floor", T0 + 2_000)
    throttle, _ = Throttle(60_000).offer(warn)
    throttle, held = throttle.offer(warn)
    _, [out] = throttle.offer(crit)
    assert held == () and out.event is crit and out.count == 2


def test_alert_text_has_the_iso_utc_time_and_the_count() -> None:
    """An alert reads ``<ISO time> msg (×5 in the last 10 min)``; its title: severity, class."""
    e = AlertEvent(AlertKind.RATE_LIMITED, Severity.WARNING, "r", "deribit slow", T0)
    alert = Alert(e, count=5, span_ms=600_000)
    assert alert.text == "2026-12-01T08:00:00.000Z deribit slow (×5 in the last 10 min)"
    assert alert.title == "deltabot warning: rate_limited"
