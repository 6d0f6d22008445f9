"""DaemonMetrics: every setter reaches the exposition with its labels, units and values."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.metrics import CYCLE_DURATION_BUCKETS_S, DaemonMetrics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(metrics: DaemonMetrics) -> Samples:
    """Every sample of the text exposition, keyed by (sample name, label set)."""
    body, _ = metrics.exposition()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def help_texts(metrics: DaemonMetrics) -> dict[str, str]:
    body, _ = metrics.exposition()
    families = text_string_to_metric_families(body.decode())
    # prometheus_client adds a *_created gauge per counter/histogram; those are its own.
    return {f.name: f.documentation for f in families if not f.name.endswith("_created")}


def test_greeks_are_exposed_per_underlying_with_units_in_the_names() -> None:
    """set_greeks writes five gauges labelled by underlying, one per Greek, unit in the name."""
    metrics = DaemonMetrics()
    metrics.set_greeks(
        "BTC",
        delta_coin=-1.5,
        delta_usd=-90_000.0,
        gamma_coin_per_pct=0.25,
        vega_usd_per_volpt=1_200.0,
        theta_usd_per_day=-350.0,
    )
    samples = scrape(metrics)
    assert value(samples, "deltabot_delta_coin", underlying="BTC") == -1.5
    assert value(samples, "deltabot_delta_usd", underlying="BTC") == -90_000.0
    assert value(samples, "deltabot_gamma_coin_per_pct", underlying="BTC") == 0.25
    assert value(samples, "deltabot_vega_usd_per_volpt", underlying="BTC") == 1_200.0
    assert value(samples, "deltabot_theta_usd_per_day", underlying="BTC") == -350.0


def test_pnl_today_is_a_signed_gauge_per_underlying_and_component() -> None:
    """set_pnl_today writes one gauge per component, negative values kept, latest wins."""
    metrics = DaemonMetrics()
    metrics.set_pnl_today("BTC", {"gamma": 5.0, "fees": -1.0})
    metrics.set_pnl_today("BTC", {"gamma": 7.5})
    samples = scrape(metrics)
    assert value(samples, "deltabot_pnl_today_usd", underlying="BTC", component="gamma") == 7.5
    assert value(samples, "deltabot_pnl_today_usd", underlying="BTC", component="fees") == -1.0


def test_ioc_amounts_accumulate_requested_and_filled_coin() -> None:
    """ioc_answered adds the requested and filled coin per venue and underlying."""
    metrics = DaemonMetrics()
    metrics.ioc_answered("deribit-b", "BTC", requested_coin=1.0, filled_coin=0.25)
    metrics.ioc_answered("deribit-b", "BTC", requested_coin=0.5, filled_coin=0.0)
    samples = scrape(metrics)
    labels = {"venue": "deribit-b", "underlying": "BTC"}
    assert value(samples, "deltabot_ioc_requested_coin_total", **labels) == 1.5
    assert value(samples, "deltabot_ioc_filled_coin_total", **labels) == 0.25


def test_setting_again_overwrites_not_accumulates() -> None:
    """A gauge shows the latest value, not a sum of updates."""
    metrics = DaemonMetrics()
    metrics.set_hedge_position("ETH", "deribit-b", "ETH-PERPETUAL", 3.0)
    metrics.set_hedge_position("ETH", "deribit-b", "ETH-PERPETUAL", -2.0)
    labels = {"underlying": "ETH", "venue": "deribit-b", "symbol": "ETH-PERPETUAL"}
    assert value(scrape(metrics), "deltabot_hedge_position_coin", **labels) == -2.0


def test_order_counters_count_per_label_set() -> None:
    """Sent orders, outcomes and denials are counters labelled as specified."""
    metrics = DaemonMetrics()
    metrics.order_sent("deribit-b", "BTC-PERPETUAL", "buy")
    metrics.order_sent("deribit-b", "BTC-PERPETUAL", "buy")
    metrics.order_sent("deribit-b", "BTC-PERPETUAL", "sell")
    metrics.order_outcome("deribit-b", "accepted")
    metrics.order_outcome("deribit-b", "ambiguous")
    metrics.order_outcome("deribit-b", "accepted")
    metrics.order_denied("max_hourly_notional")
    samples = scrape(metrics)
    sent = {"venue": "deribit-b", "symbol": "BTC-PERPETUAL"}
    assert value(samples, "deltabot_orders_sent_total", **sent, side="buy") == 2.0
    assert value(samples, "deltabot_orders_sent_total", **sent, side="sell") == 1.0
    outcomes = "deltabot_order_outcomes_total"
    assert value(samples, outcomes, venue="deribit-b", outcome="accepted") == 2.0
    assert value(samples, outcomes, venue="deribit-b", outcome="ambiguous") == 1.0
    assert (outcomes, frozenset({("venue", "deribit-b"), ("outcome", "rejected")})) not in samples
    assert value(samples, "deltabot_orders_denied_total", reason="max_hourly_notional") == 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.order_sent("v", "S", "long"),
        lambda m: m.order_outcome("v", "timeout"),
        lambda m: m.set_liquidation_distance("v", "sideways", 0.1),
        lambda m: m.set_trading_state("paused"),
        lambda m: m.set_pnl_today("BTC", {"delta_usd": 1.0}),
    ],
    ids=["side", "outcome", "direction", "mode", "pnl component"],
)
def test_labels_from_a_closed_set_refuse_other_values(
    call: Callable[[DaemonMetrics], None],
) -> None:
    """A misspelt side, outcome, direction or mode raises instead of opening a new series."""
    metrics = DaemonMetrics()
    series_before = set(scrape(metrics))
    with pytest.raises(ValueError):
        call(metrics)
    assert set(scrape(metrics)) == series_before


def test_cycle_finished_feeds_histogram_result_counters_and_timestamps() -> None:
    """Cycle latency lands in its bucket, ok/failed count apart, and the stamps track wall time."""
    now_s = [1_700_000_000.0]
    metrics = DaemonMetrics(wall_clock_s=lambda: now_s[0])
    samples = scrape(metrics)
    assert value(samples, "deltabot_cycles_total", result="ok") == 0.0  # exists before any cycle
    assert value(samples, "deltabot_cycles_total", result="failed") == 0.0

    metrics.cycle_finished(duration_s=0.3, ok=True)
    now_s[0] += 5.0
    metrics.cycle_finished(duration_s=12.0, ok=False)
    samples = scrape(metrics)
    assert value(samples, "deltabot_cycles_total", result="ok") == 1.0
    assert value(samples, "deltabot_cycles_total", result="failed") == 1.0
    assert value(samples, "deltabot_cycle_duration_seconds_count") == 2.0
    assert value(samples, "deltabot_cycle_duration_seconds_sum") == pytest.approx(12.3)
    assert value(samples, "deltabot_cycle_duration_seconds_bucket", le="0.25") == 0.0
    assert value(samples, "deltabot_cycle_duration_seconds_bucket", le="0.5") == 1.0
    assert value(samples, "deltabot_cycle_duration_seconds_bucket", le="10.0") == 1.0
    assert value(samples, "deltabot_cycle_duration_seconds_bucket", le="30.0") == 2.0
    assert value(samples, "deltabot_last_cycle_timestamp_seconds") == 1_700_000_005.0
    assert value(samples, "deltabot_last_successful_cycle_timestamp_seconds") == 1_700_000_000.0
    assert max(CYCLE_DURATION_BUCKETS_S) == 60.0


def test_last_cycle_stamp_defaults_to_the_wall_clock() -> None:
    """Without an injected clock the stamp is time.time(), what Prometheus compares it with."""
    metrics = DaemonMetrics()
    before = time.time()
    metrics.cycle_finished(duration_s=0.1, ok=True)
    stamp = value(scrape(metrics), "deltabot_last_cycle_timestamp_seconds")
    assert before <= stamp <= time.time()


def test_trading_state_is_one_hot_over_the_three_modes() -> None:
    """The current mode reads 1 and the other two 0, also after a change."""
    metrics = DaemonMetrics()
    metrics.set_trading_state("active")
    metrics.set_trading_state("halted")
    samples = scrape(metrics)
    modes = {
        m: value(samples, "deltabot_trading_state", mode=m)
        for m in ("active", "reducing", "halted")
    }
    assert modes == {"active": 0.0, "reducing": 0.0, "halted": 1.0}


def test_risk_and_margin_gauges_carry_their_labels() -> None:
    """Input age, clock skew, margin ratio, liquidation distance, stress loss and collateral
    are exposed."""
    metrics = DaemonMetrics()
    metrics.set_input_age("deribit-a", 1.25)
    metrics.set_clock_skew("deribit-a", -30.0)
    metrics.set_margin_ratio("deribit-a", "main", 0.42)
    metrics.set_liquidation_distance("deribit-a", "down", 0.31)
    metrics.set_liquidation_distance("deribit-a", "up", 0.55)
    metrics.set_worst_stress_loss(250_000.0)
    metrics.set_collateral_usd("deribit-a", 1_000_000.0)
    samples = scrape(metrics)
    assert value(samples, "deltabot_input_age_seconds", venue="deribit-a") == 1.25
    assert value(samples, "deltabot_clock_skew_seconds", venue="deribit-a") == -30.0
    assert value(samples, "deltabot_margin_ratio", venue="deribit-a", account="main") == 0.42
    liq = "deltabot_liquidation_distance_ratio"
    assert value(samples, liq, venue="deribit-a", direction="down") == 0.31
    assert value(samples, liq, venue="deribit-a", direction="up") == 0.55
    assert value(samples, "deltabot_worst_stress_loss_usd") == 250_000.0
    assert value(samples, "deltabot_collateral_equity_usd", venue="deribit-a") == 1_000_000.0


def test_a_nan_greek_is_exposed_as_nan() -> None:
    """A Greek the pricer could not compute shows as NaN rather than a stale or made-up number."""
    metrics = DaemonMetrics()
    metrics.set_greeks(
        "BTC",
        delta_coin=math.nan,
        delta_usd=0.0,
        gamma_coin_per_pct=0.0,
        vega_usd_per_volpt=0.0,
        theta_usd_per_day=0.0,
    )
    assert math.isnan(value(scrape(metrics), "deltabot_delta_coin", underlying="BTC"))


def test_forget_underlying_removes_its_series_and_keeps_the_others() -> None:
    """Greeks and hedge positions of a departed underlying vanish; other underlyings stay."""
    metrics = DaemonMetrics()
    for underlying in ("BTC", "ETH"):
        metrics.set_greeks(
            underlying,
            delta_coin=1.0,
            delta_usd=2.0,
            gamma_coin_per_pct=3.0,
            vega_usd_per_volpt=4.0,
            theta_usd_per_day=5.0,
        )
        metrics.set_hedge_position(underlying, "deribit-b", f"{underlying}-PERPETUAL", -1.0)
        metrics.set_hedge_position(underlying, "okx-a", f"{underlying}-USDT-SWAP", -0.5)

    metrics.forget_underlying("ETH")
    metrics.forget_underlying("ETH")  # twice, or one never seen, is harmless
    metrics.forget_underlying("SOL")

    underlyings = {
        dict(labels).get("underlying")
        for name, labels in scrape(metrics)
        if name.startswith(("deltabot_delta", "deltabot_gamma", "deltabot_vega", "deltabot_theta"))
        or name == "deltabot_hedge_position_coin"
    }
    assert underlyings == {"BTC"}
    hedge = "deltabot_hedge_position_coin"
    samples = scrape(metrics)
    assert value(samples, hedge, underlying="BTC", venue="okx-a", symbol="BTC-USDT-SWAP") == -0.5

    metrics.set_hedge_position("ETH", "deribit-b", "ETH-PERPETUAL", 4.0)  # it may come back
    assert (
        value(scrape(metrics), hedge, underlying="ETH", venue="deribit-b", symbol="ETH-PERPETUAL")
        == 4.0
    )


def test_values_not_yet_known_are_not_shown_as_zero_risk() -> None:
    """Before any update the stress loss reads NaN and the cycle stamps 0, i.e. never."""
    samples = scrape(DaemonMetrics())
    assert math.isnan(value(samples, "deltabot_worst_stress_loss_usd"))
    assert value(samples, "deltabot_last_cycle_timestamp_seconds") == 0.0
    assert value(samples, "deltabot_last_successful_cycle_timestamp_seconds") == 0.0


def test_separate_daemons_have_separate_registries() -> None:
    """Two instances in one process neither collide on registration nor share values."""
    first, second = DaemonMetrics(), DaemonMetrics()
    first.set_worst_stress_loss(1.0)
    second.set_worst_stress_loss(2.0)
    assert first.registry is not second.registry
    assert value(scrape(first), "deltabot_worst_stress_loss_usd") == 1.0
    assert value(scrape(second), "deltabot_worst_stress_loss_usd") == 2.0


def test_uses_a_given_registry_and_never_the_global_one() -> None:
    """A passed registry receives the metrics; the process-global registry gets none."""
    from prometheus_client import REGISTRY

    registry = CollectorRegistry()
    metrics = DaemonMetrics(registry)
    metrics.set_worst_stress_loss(7.0)
    assert metrics.registry is registry
    assert registry.get_sample_value("deltabot_worst_stress_loss_usd") == 7.0
    assert REGISTRY.get_sample_value("deltabot_worst_stress_loss_usd") is None


def test_every_metric_is_prefixed_and_its_help_states_a_unit() -> None:
    """Names start with deltabot_ and every help text names its unit, a count or a ratio."""
    metrics = DaemonMetrics()
    metrics.set_trading_state("active")
    helps = help_texts(metrics)
    assert len(helps) == 31
    unit_words = ("coin", "USD", "seconds", "a count", "ratio", "fraction", "unitless")
    for name, text in helps.items():
        assert name.startswith("deltabot_"), name
        assert any(word in text for word in unit_words), (name, text)


def test_exposition_is_prometheus_text_with_its_content_type() -> None:
    """exposition() returns the text format body and prometheus_client's latest content type."""
    metrics = DaemonMetrics()
    metrics.set_collateral_usd("deribit-a", 12.5)
    body, content_type = metrics.exposition()
    assert content_type == CONTENT_TYPE_LATEST
    assert b'deltabot_collateral_equity_usd{venue="deribit-a"} 12.5\n' in body
    assert b"# TYPE deltabot_orders_sent_total counter\n" in body


def test_alerts_are_counted_per_event_and_severity_with_closed_labels() -> None:
    """alert_raised adds the burst's count to deltabot_alerts_total{event,severity}; an unknown
    event or severity is refused, not a new series."""
    metrics = DaemonMetrics()
    metrics.alert_raised("rate_limited", "warning", 3)
    metrics.alert_raised("rate_limited", "warning")
    metrics.alert_dropped()
    samples = scrape(metrics)
    total = value(samples, "deltabot_alerts_total", event="rate_limited", severity="warning")
    assert total == 4.0
    assert value(samples, "deltabot_alerts_dropped_total") == 1.0
    with pytest.raises(ValueError, match="event must be one of"):
        metrics.alert_raised("rate_limit", "warning")
    with pytest.raises(ValueError, match="severity must be one of"):
        metrics.alert_raised("rate_limited", "urgent")


def test_greek_buckets_replace_the_last_cycles_and_drop_vanished_ones() -> None:
    """Each call sets every bucket's standardised vega, USD gamma and limit level; a bucket
    missing from the next call loses its series."""
    metrics = DaemonMetrics()
    metrics.set_greek_buckets(
        {("BTC", "0-7d"): (-900.0, 12_000.0), ("BTC", "all"): (-1_500.0, 15_000.0)},
        {("BTC", "all"): 2},
    )
    samples = scrape(metrics)
    assert (
        value(samples, "deltabot_bucket_vega_std_usd_per_volpt", underlying="BTC", bucket="0-7d")
        == -900.0
    )
    assert value(samples, "deltabot_greek_limit_level", underlying="BTC", bucket="all") == 2
    metrics.set_greek_buckets({("BTC", "all"): (-100.0, 50.0)}, {})
    buckets = {
        dict(labels)["bucket"]
        for name, labels in scrape(metrics)
        if name.startswith(("deltabot_bucket", "deltabot_greek_limit"))
    }
    assert buckets == {"all"}


def test_forget_underlying_drops_its_vanna_and_volga() -> None:
    """Vanna and volga of a departed underlying vanish with its other Greeks."""
    metrics = DaemonMetrics()
    metrics.set_vanna_volga("ETH", vanna_coin_per_vol=-0.3, volga_usd_per_volpt2=2.0)
    assert value(scrape(metrics), "deltabot_vanna_coin_per_vol", underlying="ETH") == -0.3
    metrics.forget_underlying("ETH")
    assert not [n for n, _ in scrape(metrics) if n.startswith(("deltabot_vanna", "deltabot_volga"))]
