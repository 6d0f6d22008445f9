"""The demo chart as a trader reads it: total delta against the band at the band's scale, one
time axis, events inside the run with one label per instant, a legend for every marker."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from bot.app.run_chart import PANEL_YLABELS, draw_chart, event_labels
from bot.app.run_report import CycleSample, HedgeOrderRow, RunReport
from bot.domain.timeunits import MS_PER_HOUR

T0_MS = int(datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp() * 1000)
STEP_MS = 300_000
BAND_COIN = 0.08


def _sample(k: int, underlying: str, *, book: float, total: float) -> CycleSample:
    """A big book (tens of coin) hedged to within ``total`` coin, against a ±0.08 coin band."""
    return CycleSample(
        ts_ms=T0_MS + k * STEP_MS,
        underlying=underlying,
        index_usd=60_000.0 - 100 * k,
        book_delta_coin=book,
        hedge_coin=total - book,
        target_delta_coin=0.0,
        band_lower_coin=-BAND_COIN,
        band_upper_coin=BAND_COIN,
        gamma_coin_per_pct=-0.08,
        vega_usd_per_volpt=-380.0,
        theta_usd_per_day=200.0,
        sigma=0.6 + 0.01 * k,
        equity_coin=20.0,
    )


TOTALS = (0.03, -0.05, 0.12, 0.0, 0.02, -0.01)  # one excursion beyond +0.08


def _report(**changes: Any) -> RunReport:
    samples = [_sample(k, "BTC", book=12.0 + k, total=t) for k, t in enumerate(TOTALS)]
    samples += [_sample(k, "ETH", book=130.0 - k, total=t / 2) for k, t in enumerate(TOTALS)]
    order = HedgeOrderRow(T0_MS + 2 * STEP_MS, "deribit-a", "BTC/USD:BTC", "BTC", "sell",
                          6000.0, "usd", 0.1, "canceled", 0.0, None)  # fmt: skip
    base = RunReport(
        started_ms=T0_MS,
        finished_ms=T0_MS + 5 * STEP_MS,
        wall_s=3.0,
        samples=tuple(samples),
        orders=(order,),
        transfers=(),
        accounts=(),
        hedge_pnl_usd=0.0,
        events=(
            "2026-12-01T08:10:00.000Z ETH vol spike x2.5",
            "2026-12-01T08:10:00.000Z ETH jump +5%",
            "2026-12-01T15:00:00.000Z BTC jump -8%",  # after the run's end
        ),
        denials=(),
        strategy="band(width_up=0.08, width_down=0.08), cost_frac 0.0007",
    )
    return dataclasses.replace(base, **changes)


def _panels(fig: Any, ylabel: str) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_ylabel() == ylabel]


class TestDemoChart:
    def test_total_delta_has_its_own_panel_at_the_bands_scale(self) -> None:
        """The total-vs-band panel spans about the band (tenths of a coin), not the book's
        tens of coin, so a total of 0.12 against a band of 0.08 is plain to see."""
        btc, eth = (ax.get_ylim() for ax in _panels(draw_chart(_report()), PANEL_YLABELS[1]))
        assert btc[0] < -BAND_COIN and btc[1] > 0.12 and btc[1] - btc[0] < 0.5
        assert eth[0] < -BAND_COIN < BAND_COIN < eth[1] and eth[1] - eth[0] < 0.5

    def test_every_column_shares_one_time_axis_ending_at_the_run(self) -> None:
        """Both columns run from 0 to the run's end in hours, whatever events lie beyond."""
        fig = draw_chart(_report())
        limits = {ax.get_xlim() for ax in fig.axes}
        assert limits == {(0.0, 5 * STEP_MS / MS_PER_HOUR)}

    def test_the_title_names_the_strategy_and_the_legend_every_marker(self) -> None:
        """The title carries the strategy and its parameters; the one legend explains the
        order markers (filled or not), the band and the excursion marker."""
        fig = draw_chart(_report())
        assert "band(width_up=0.08, width_down=0.08), cost_frac 0.0007" in fig.get_suptitle()
        labels = {t.get_text() for t in fig.legends[0].get_texts()}
        assert {"buy order (filled)", "sell order (filled)", "order, nothing filled"} <= labels
        assert {"no-trade band", "total outside the band (> 1%)"} <= labels

    def test_the_band_panel_counts_the_time_outside(self) -> None:
        """The panel says the band's half-width and the time the total spent outside it."""
        fig = draw_chart(_report())
        btc = _panels(fig, PANEL_YLABELS[1])[0]
        texts = [t.get_text() for t in btc.texts]
        assert "band ±0.08 coin; outside 0.08 h of 0.42 h (1 of 6 cycles)" in texts

    def test_every_panel_has_a_unit(self) -> None:
        """Each panel's y-label names its unit, and so does the implied vol axis."""
        fig = draw_chart(_report())
        ylabels = {ax.get_ylabel() for ax in fig.axes}
        assert ylabels == {*PANEL_YLABELS, "implied vol, %"}

    def test_the_pnl_counts_the_usdt_leg(self) -> None:
        """A hedge on a USDT-margined perp gains in USDT, not in coin: the P&L panel follows
        coin equity at the index plus the linear accounts' share."""
        samples = [
            dataclasses.replace(s, linear_usd=1_000.0 * k) for k, s in enumerate(_report().samples)
        ]
        fig = draw_chart(_report(samples=tuple(samples)))
        btc_pnl = _panels(fig, PANEL_YLABELS[-1])[0]
        [line] = btc_pnl.get_lines()[:1]
        coin_only = [20.0 * (60_000.0 - 100 * k) - 20.0 * 60_000.0 for k in range(len(TOTALS))]
        expected = [c + 1_000.0 * k for k, c in enumerate(coin_only)]
        assert list(line.get_ydata()) == expected


class TestEventLabels:
    def test_events_at_one_instant_share_one_label(self) -> None:
        """ETH's vol spike and jump at 08:10 are one label, without the time or the coin."""
        assert event_labels(_report(), "ETH") == {T0_MS + 2 * STEP_MS: "vol spike x2.5, jump +5%"}

    def test_events_after_the_run_are_left_out(self) -> None:
        """The BTC jump at 15:00 lies after the run's end: no line, no label."""
        assert event_labels(_report(), "BTC") == {}
