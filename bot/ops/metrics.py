"""Prometheus metrics of one daemon: exposure, hedges, orders, cycles, risk and margin.

Every metric lives on the daemon's own :class:`CollectorRegistry`, never the
process-global one, so two daemons (or two tests) in one process cannot
collide and a scrape shows exactly one daemon. Names carry their unit
(``_coin``, ``_usd``, ``_seconds``, ``_ratio``, ``_total``) because a gauge
without one is how a hedger confuses coin with USD at 3 a.m.

Label values that come from a closed set (order side and outcome, trading
mode, liquidation direction, alert event and severity) are checked: a typo would
otherwise open a new time series that no alert watches.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.domain.alerts import AlertKind, Severity
from bot.domain.trading_state import TradingMode

CYCLE_DURATION_BUCKETS_S: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Histogram buckets of the hedge-cycle latency, in seconds: a cycle is a few venue round trips."""

ORDER_SIDES: Final = frozenset({"buy", "sell"})
ORDER_OUTCOMES: Final = frozenset({"accepted", "canceled", "rejected", "ambiguous"})
LIQUIDATION_DIRECTIONS: Final = frozenset({"down", "up"})
CYCLE_RESULTS: Final = ("ok", "failed")
ALERT_EVENTS: Final = frozenset(k.value for k in AlertKind)
ALERT_SEVERITIES: Final = frozenset(s.value for s in Severity)
PNL_COMPONENTS: Final = frozenset(
    {
        "delta",
        "gamma",
        "theta",
        "vega",
        "slippage",
        "fees",
        "funding",
        "unexplained",
        "equity_change",
    }
)
"""The attribution's components (``bot.domain.pnl``, without ``_usd``) and the equity change."""


def _check(kind: str, value: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{kind} must be one of {sorted(allowed)}, got {value!r}")
    return value


class DaemonMetrics:
    """Prometheus metrics of one daemon, on its own CollectorRegistry (never the global one).

    ``wall_clock_s`` (UTC epoch seconds) stamps the last cycle; it is the wall
    clock even in an accelerated simulation, because Prometheus compares the
    stamp with its own ``time()``.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        wall_clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.registry: CollectorRegistry = (
            registry if registry is not None else CollectorRegistry(auto_describe=True)
        )
        self._wall_clock_s = wall_clock_s
        self._lock = threading.Lock()
        self._underlyings: set[str] = set()
        self._hedge_labels: set[tuple[str, str, str]] = set()
        self._vanna_volga: set[str] = set()
        reg = self.registry
        by_underlying = ["underlying"]

        self._delta_coin = Gauge(
            "deltabot_delta_coin",
            "Delta of the book per underlying, in coin of the underlying.",
            by_underlying,
            registry=reg,
        )
        self._delta_usd = Gauge(
            "deltabot_delta_usd",
            "Delta of the book per underlying, in USD (coin delta times spot).",
            by_underlying,
            registry=reg,
        )
        self._gamma = Gauge(
            "deltabot_gamma_coin_per_pct",
            "Gamma per underlying: change of delta, in coin, for a 1% move of the underlying.",
            by_underlying,
            registry=reg,
        )
        self._vega = Gauge(
            "deltabot_vega_usd_per_volpt",
            "Vega per underlying: change of value, in USD, for one implied-volatility point.",
            by_underlying,
            registry=reg,
        )
        self._theta = Gauge(
            "deltabot_theta_usd_per_day",
            "Theta per underlying: change of value, in USD, over one day.",
            by_underlying,
            registry=reg,
        )
        self._vanna = Gauge(
            "deltabot_vanna_coin_per_vol",
            "Vanna per underlying: change of delta, in coin, for +1.00 (100 points) of vol.",
            by_underlying,
            registry=reg,
        )
        self._volga = Gauge(
            "deltabot_volga_usd_per_volpt2",
            "Volga per underlying: change of vega, in USD per vol point, for +1 vol point.",
            by_underlying,
            registry=reg,
        )
        by_bucket = ["underlying", "bucket"]
        self._bucket_labels: set[tuple[str, str]] = set()
        self._bucket_vega_std = Gauge(
            "deltabot_bucket_vega_std_usd_per_volpt",
            "Vega per underlying and expiry bucket, standardised to 30 days (vega x "
            "sqrt(30/days)), in USD per vol point.",
            by_bucket,
            registry=reg,
        )
        self._bucket_gamma_usd = Gauge(
            "deltabot_bucket_gamma_usd_per_pct",
            "Gamma per underlying and expiry bucket: change of delta, in USD, for a 1% move.",
            by_bucket,
            registry=reg,
        )
        self._greek_limit = Gauge(
            "deltabot_greek_limit_level",
            "Where a [greek_limits] bucket stands, unitless: 0 inside, 1 past soft, 2 past hard.",
            by_bucket,
            registry=reg,
        )
        self._limit_labels: set[tuple[str, str]] = set()
        self._hedge_position = Gauge(
            "deltabot_hedge_position_coin",
            "Hedge position per underlying, venue and instrument, in coin (negative: short).",
            ["underlying", "venue", "symbol"],
            registry=reg,
        )
        self._orders_sent = Counter(
            "deltabot_orders_sent_total",
            "Orders sent to a venue, a count, per venue, instrument and side (buy|sell).",
            ["venue", "symbol", "side"],
            registry=reg,
        )
        self._order_outcomes = Counter(
            "deltabot_order_outcomes_total",
            "Outcomes of sent orders, a count, per venue: accepted, canceled (an IOC the venue "
            "took and canceled with nothing filled), rejected, or ambiguous (timeout or lost "
            "reply: journalled UNKNOWN until the venue says more).",
            ["venue", "outcome"],
            registry=reg,
        )
        self._ioc_requested = Counter(
            "deltabot_ioc_requested_coin_total",
            "Amount of IOC orders the venue answered, in coin of the underlying, per venue and "
            "underlying (the fill ratio is rate of filled over rate of this).",
            ["venue", "underlying"],
            registry=reg,
        )
        self._ioc_filled = Counter(
            "deltabot_ioc_filled_coin_total",
            "Amount of those IOC orders that filled, in coin of the underlying, per venue and "
            "underlying.",
            ["venue", "underlying"],
            registry=reg,
        )
        self._pnl_today = Gauge(
            "deltabot_pnl_today_usd",
            "Today's (UTC) P&L attribution per underlying, in USD, per component (delta, "
            "gamma, theta, vega, slippage, fees, funding, unexplained) and the equity change "
            "they sum to; signed (a gauge: P&L goes down as well as up), restored from the "
            "journal at start.",
            ["underlying", "component"],
            registry=reg,
        )
        self._orders_denied = Counter(
            "deltabot_orders_denied_total",
            "Orders the risk gate denied before sending, a count, per reason code.",
            ["reason"],
            registry=reg,
        )
        self._cycle_duration = Histogram(
            "deltabot_cycle_duration_seconds",
            "Wall time of one hedge cycle, in seconds, successful or not.",
            buckets=CYCLE_DURATION_BUCKETS_S,
            registry=reg,
        )
        self._cycles = Counter(
            "deltabot_cycles_total",
            "Hedge cycles finished, a count, per result (ok|failed).",
            ["result"],
            registry=reg,
        )
        for result in CYCLE_RESULTS:  # both series exist from the start, so rate() sees a 0
            self._cycles.labels(result=result)
        self._last_cycle = Gauge(
            "deltabot_last_cycle_timestamp_seconds",
            "When the last hedge cycle finished, successful or not, in UTC epoch seconds "
            "(0: none yet).",
            registry=reg,
        )
        self._last_ok_cycle = Gauge(
            "deltabot_last_successful_cycle_timestamp_seconds",
            "When the last successful hedge cycle finished, in UTC epoch seconds (0: none yet).",
            registry=reg,
        )
        self._input_age = Gauge(
            "deltabot_input_age_seconds",
            "Age of the oldest input of a venue's read when it returned, in seconds: a mark "
            "or index by the venue's own timestamp (corrected for clock skew), positions by "
            "when the read started.",
            ["venue"],
            registry=reg,
        )
        self._clock_skew = Gauge(
            "deltabot_clock_skew_seconds",
            "A venue's clock minus ours, in seconds, measured at its last read "
            "(positive: the venue is ahead).",
            ["venue"],
            registry=reg,
        )
        self._trading_state = Gauge(
            "deltabot_trading_state",
            "Trading state, unitless: 1 for the current mode (active|reducing|halted), 0 others.",
            ["mode"],
            registry=reg,
        )
        self._margin_ratio = Gauge(
            "deltabot_margin_ratio",
            "Maintenance margin over equity per venue account, a ratio (1 = liquidation).",
            ["venue", "account"],
            registry=reg,
        )
        self._liquidation_distance = Gauge(
            "deltabot_liquidation_distance_ratio",
            "Move of the underlying that would liquidate a venue account, as a fraction of "
            "its price, per direction (down|up).",
            ["venue", "direction"],
            registry=reg,
        )
        self._worst_stress_loss = Gauge(
            "deltabot_worst_stress_loss_usd",
            "Loss of the book in the worst stress scenario, in USD (positive: a loss; "
            "NaN until first computed).",
            registry=reg,
        )
        self._worst_stress_loss.set(math.nan)  # not 0: no scenario run yet is not "no risk"
        self._collateral = Gauge(
            "deltabot_collateral_equity_usd",
            "Equity of the collateral held on a venue, in USD.",
            ["venue"],
            registry=reg,
        )
        self._journal_ok = Gauge(
            "deltabot_journal_ok",
            "Whether the journal passed its last integrity check (same file, SQLite header, "
            "PRAGMA quick_check), unitless: 1 yes, 0 no (trading is halted); 1 until checked.",
            registry=reg,
        )
        self._journal_ok.set(1.0)
        self._alerts = Counter(
            "deltabot_alerts_total",
            "Alerts raised, a count of occurrences (a throttled burst counts each), per event "
            "class and severity (info|warning|critical).",
            ["event", "severity"],
            registry=reg,
        )
        self._alerts_dropped = Counter(
            "deltabot_alerts_dropped_total",
            "Alerts dropped undelivered because the delivery queue was full, a count.",
            registry=reg,
        )

    def set_greeks(
        self,
        underlying: str,
        *,
        delta_coin: float,
        delta_usd: float,
        gamma_coin_per_pct: float,
        vega_usd_per_volpt: float,
        theta_usd_per_day: float,
    ) -> None:
        """Record the book's Greeks for one underlying."""
        with self._lock:
            self._underlyings.add(underlying)
            self._delta_coin.labels(underlying).set(delta_coin)
            self._delta_usd.labels(underlying).set(delta_usd)
            self._gamma.labels(underlying).set(gamma_coin_per_pct)
            self._vega.labels(underlying).set(vega_usd_per_volpt)
            self._theta.labels(underlying).set(theta_usd_per_day)

    def set_vanna_volga(
        self, underlying: str, *, vanna_coin_per_vol: float, volga_usd_per_volpt2: float
    ) -> None:
        """Record the book's vanna and volga for one underlying."""
        with self._lock:
            self._vanna_volga.add(underlying)
            self._vanna.labels(underlying).set(vanna_coin_per_vol)
            self._volga.labels(underlying).set(volga_usd_per_volpt2)

    def set_greek_buckets(
        self,
        buckets: Mapping[tuple[str, str], tuple[float, float]],
        limit_levels: Mapping[tuple[str, str], int],
    ) -> None:
        """Replace every bucket series: (standardised vega USD/volpt, gamma USD/%) per
        (underlying, bucket), and the level of each judged limit (0 inside, 1 soft, 2 hard);
        a bucket the book no longer holds drops out."""
        with self._lock:
            for labels in self._bucket_labels - buckets.keys():
                self._bucket_vega_std.remove(*labels)
                self._bucket_gamma_usd.remove(*labels)
            for labels in self._limit_labels - limit_levels.keys():
                self._greek_limit.remove(*labels)
            for labels, (vega_std, gamma_usd) in buckets.items():
                self._bucket_vega_std.labels(*labels).set(vega_std)
                self._bucket_gamma_usd.labels(*labels).set(gamma_usd)
            for labels, level in limit_levels.items():
                self._greek_limit.labels(*labels).set(level)
            self._bucket_labels = set(buckets)
            self._limit_labels = set(limit_levels)

    def set_hedge_position(
        self, underlying: str, venue: str, symbol: str, position_coin: float
    ) -> None:
        """Record one hedge instrument's position, in coin."""
        with self._lock:
            self._hedge_labels.add((underlying, venue, symbol))
            self._hedge_position.labels(underlying, venue, symbol).set(position_coin)

    def forget_underlying(self, underlying: str) -> None:
        """Drop every series of an underlying that left the book, so no stale Greeks linger."""
        with self._lock:
            if underlying in self._underlyings:
                self._underlyings.discard(underlying)
                for gauge in (
                    self._delta_coin,
                    self._delta_usd,
                    self._gamma,
                    self._vega,
                    self._theta,
                ):
                    gauge.remove(underlying)
            if underlying in self._vanna_volga:
                self._vanna_volga.discard(underlying)
                self._vanna.remove(underlying)
                self._volga.remove(underlying)
            for labels in [k for k in self._hedge_labels if k[0] == underlying]:
                self._hedge_labels.discard(labels)
                self._hedge_position.remove(*labels)

    def order_sent(self, venue: str, symbol: str, side: str) -> None:
        """Count one order sent (``side``: buy|sell)."""
        self._orders_sent.labels(venue, symbol, _check("side", side, ORDER_SIDES)).inc()

    def order_outcome(self, venue: str, outcome: str) -> None:
        """Count one sent order's outcome: accepted|canceled|rejected|ambiguous."""
        self._order_outcomes.labels(venue, _check("outcome", outcome, ORDER_OUTCOMES)).inc()

    def ioc_answered(
        self, venue: str, underlying: str, *, requested_coin: float, filled_coin: float
    ) -> None:
        """Count one answered IOC order's requested and filled amounts, in coin."""
        self._ioc_requested.labels(venue, underlying).inc(requested_coin)
        self._ioc_filled.labels(venue, underlying).inc(filled_coin)

    def set_pnl_today(self, underlying: str, components_usd: dict[str, float]) -> None:
        """Set today's attribution of one underlying (``component: USD``, a closed set)."""
        with self._lock:
            for component, usd in components_usd.items():
                name = _check("component", component, PNL_COMPONENTS)
                self._pnl_today.labels(underlying, name).set(usd)

    def order_denied(self, reason: str) -> None:
        """Count one risk-gate denial; ``reason`` is a short code, not a message (cardinality)."""
        self._orders_denied.labels(reason).inc()

    def cycle_finished(self, *, duration_s: float, ok: bool) -> None:
        """Record one finished cycle: its latency, its result and when it ended."""
        now_s = self._wall_clock_s()
        self._cycle_duration.observe(duration_s)
        self._cycles.labels(CYCLE_RESULTS[0] if ok else CYCLE_RESULTS[1]).inc()
        self._last_cycle.set(now_s)
        if ok:
            self._last_ok_cycle.set(now_s)

    def set_input_age(self, venue: str, age_s: float) -> None:
        """Record how old a venue's inputs were, in seconds."""
        self._input_age.labels(venue).set(age_s)

    def set_clock_skew(self, venue: str, skew_s: float) -> None:
        """Record a venue's clock minus ours, in seconds."""
        self._clock_skew.labels(venue).set(skew_s)

    def set_trading_state(self, mode: str) -> None:
        """Set the current mode's series to 1 and the others to 0."""
        current = TradingMode(mode)
        for each in TradingMode:
            self._trading_state.labels(each.value).set(1.0 if each is current else 0.0)

    def set_margin_ratio(self, venue: str, account: str, ratio: float) -> None:
        """Record maintenance margin / equity of one venue account."""
        self._margin_ratio.labels(venue, account).set(ratio)

    def set_liquidation_distance(self, venue: str, direction: str, move_frac: float) -> None:
        """Record the fractional price move (``direction``: down|up) that liquidates ``venue``."""
        direction = _check("direction", direction, LIQUIDATION_DIRECTIONS)
        self._liquidation_distance.labels(venue, direction).set(move_frac)

    def set_worst_stress_loss(self, loss_usd: float) -> None:
        """Record the worst stress-scenario loss, in USD."""
        self._worst_stress_loss.set(loss_usd)

    def set_collateral_usd(self, venue: str, equity_usd: float) -> None:
        """Record a venue's collateral equity, in USD."""
        self._collateral.labels(venue).set(equity_usd)

    def set_journal_ok(self, ok: bool) -> None:
        """Record the outcome of the journal's integrity check."""
        self._journal_ok.set(1.0 if ok else 0.0)

    def alert_raised(self, event: str, severity: str, count: int = 1) -> None:
        """Count ``count`` occurrences of one alert class at one severity."""
        event = _check("event", event, ALERT_EVENTS)
        self._alerts.labels(event, _check("severity", severity, ALERT_SEVERITIES)).inc(count)

    def alert_dropped(self) -> None:
        """Count one alert dropped from a full delivery queue."""
        self._alerts_dropped.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus text format, and the content type to serve it with."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
