"""Bucket views (raw and standardised vega, gamma in coin and USD) and the soft/hard limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.domain import health_rules
from bot.domain.alert_rules import component_kind
from bot.domain.alerts import AlertKind
from bot.domain.exposure import value_book
from bot.domain.greek_limits import (
    GreekLimit,
    LimitLevel,
    bucket_labels,
    bucket_views,
    check_limits,
)
from bot.domain.health import Component, Level
from bot.domain.ids import Currency
from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000
BTC = Currency("BTC")
EDGES = (7.0, 30.0, 90.0)


def _views(days: list[float], sizes: list[float], *, numeraire: str = "usd") -> dict[str, object]:
    """BTC calls F = K = 60,000, 60 % vol, one per entry of ``days`` (NaN: an inverse perp)."""
    n = len(days)
    dated = [not math.isnan(d) for d in days]
    table = PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=[0] * n,
        kind=[KindCode.OPTION if d else KindCode.PERPETUAL for d in dated],
        size=sizes,
        is_inverse=[not d for d in dated],
        amount_is_usd=[not d for d in dated],
        expiry_ms=[
            T0_MS + int(x * MS_PER_DAY) if d else NO_EXPIRY_MS
            for x, d in zip(days, dated, strict=True)
        ],
        strike_usd=[60_000.0 if d else np.nan for d in dated],
        is_call=dated,
        mark_iv=[0.6 if d else np.nan for d in dated],
        symbols=[f"X{i}" for i in range(n)],
    )
    e = value_book(
        table, forward_usd=np.full(n, 60_000.0), valuation_ts_ms=T0_MS, numeraire=numeraire,
        collateral_coin=[0.0],
    ).exposure  # fmt: skip
    views = bucket_views(
        e.buckets, e.underlyings, [60_000.0], valuation_ts_ms=T0_MS, edges_days=EDGES
    )
    return {v.bucket: v for v in views}


class TestBucketViews:
    def test_labels_name_each_bucket_between_edges(self) -> None:
        """Edges (7, 30, 90) give 0-7d, 7-30d, 30-90d, 90d+ and undated."""
        assert bucket_labels(EDGES) == ("0-7d", "7-30d", "30-90d", "90d+", "undated")

    def test_worked_example_of_the_module_docstring(self) -> None:
        """7-day ATM call: vega 33.12, standardised 68.56; 90-day: 117.55 and 67.87 USD/volpt."""
        v = _views([7.0, 90.0], [1.0, 1.0])
        assert v["0-7d"].vega_usd_per_volpt == pytest.approx(33.12, abs=0.005)
        assert v["0-7d"].vega_std_usd_per_volpt == pytest.approx(68.56, abs=0.005)
        assert v["30-90d"].vega_usd_per_volpt == pytest.approx(117.55, abs=0.005)
        assert v["30-90d"].vega_std_usd_per_volpt == pytest.approx(67.87, abs=0.005)
        assert v["0-7d"].gamma_usd_per_pct == pytest.approx(2878.28, abs=0.01)

    def test_all_is_the_sum_of_the_buckets(self) -> None:
        """The underlying's ``all`` view adds up every bucket, raw and standardised."""
        v = _views([3.0, 20.0, 45.0, 200.0], [2.0, -5.0, 1.5, 4.0])
        parts = [v[b] for b in ("0-7d", "7-30d", "30-90d", "90d+")]
        for field in ("vega_usd_per_volpt", "vega_std_usd_per_volpt", "gamma_usd_per_pct"):
            assert getattr(v["all"], field) == pytest.approx(sum(getattr(p, field) for p in parts))

    def test_an_expiry_on_an_edge_falls_in_the_shorter_bucket(self) -> None:
        """Exactly 30 days to expiry is in 7-30d, where its weight is 1."""
        v = _views([30.0], [1.0])
        assert set(v) == {"7-30d", "all"}
        assert v["7-30d"].vega_std_usd_per_volpt == pytest.approx(v["7-30d"].vega_usd_per_volpt)

    def test_undated_positions_carry_gamma_only_in_the_coin_numeraire(self) -> None:
        """An inverse perp has no vega; its coin-numeraire gamma is in ``undated``."""
        v = _views([math.nan], [-30_000.0], numeraire="coin")
        assert v["undated"].vega_std_usd_per_volpt == 0.0
        assert v["undated"].gamma_coin_per_pct == pytest.approx(0.005)


class TestCheckLimits:
    def _check(self, **limits: float) -> LimitLevel:
        views = tuple(_views([20.0], [-10.0]).values())  # short vega about -700 USD/volpt
        return check_limits(views, [GreekLimit(BTC, "7-30d", **limits)])[0].level

    def test_inside_below_both_limits(self) -> None:
        """|vega| under soft and hard is inside."""
        assert self._check(soft_vega_usd_per_volpt=5e3, hard_vega_usd_per_volpt=1e4) == "inside"

    def test_soft_between_the_limits_and_hard_beyond(self) -> None:
        """Past soft only is SOFT (alert); past hard is HARD (propose), the sign ignored."""
        assert self._check(soft_vega_usd_per_volpt=100.0, hard_vega_usd_per_volpt=1e4) == "soft"
        assert self._check(soft_vega_usd_per_volpt=50.0, hard_vega_usd_per_volpt=100.0) == "hard"
        assert self._check(hard_gamma_usd_per_pct=10.0) == "hard"

    def test_the_reason_names_the_figure_and_the_limit(self) -> None:
        """``why`` says which figure passed which limit."""
        views = tuple(_views([20.0], [-10.0]).values())
        check = check_limits(views, [GreekLimit(BTC, "all", hard_vega_usd_per_volpt=100.0)])[0]
        assert check.why.startswith("standardised vega") and "hard limit 100" in check.why

    def test_a_bucket_the_book_does_not_hold_is_not_judged(self) -> None:
        """No position in 90d+: nothing to judge there."""
        views = tuple(_views([20.0], [-10.0]).values())
        assert check_limits(views, [GreekLimit(BTC, "90d+", hard_vega_usd_per_volpt=1.0)]) == ()


class TestHealthComponent:
    def _component(self, **limits: float) -> Component:
        views = tuple(_views([20.0], [-10.0]).values())
        return health_rules.greeks(BTC, check_limits(views, [GreekLimit(BTC, "all", **limits)]))

    def test_inside_every_limit_is_ok(self) -> None:
        """greeks:BTC is ok while each of its limits holds."""
        assert self._component(soft_vega_usd_per_volpt=1e4).level is Level.OK

    def test_a_breach_degrades_and_names_the_bucket(self) -> None:
        """Past a soft limit degrades (an alert of class greek_limit) with the bucket named."""
        c = self._component(soft_vega_usd_per_volpt=10.0)
        assert (c.name, c.level) == ("greeks:BTC", Level.DEGRADED)
        assert c.reason.startswith("all: standardised vega")
        assert component_kind(c.name) is AlertKind.GREEK_LIMIT

    def test_a_hard_breach_says_an_option_hedge_is_due_and_still_only_degrades(self) -> None:
        """Hard is not failing: /health judges the delta hedger, which still works."""
        c = self._component(hard_vega_usd_per_volpt=10.0)
        assert c.level is Level.DEGRADED and c.reason.startswith("option hedge due: all:")
