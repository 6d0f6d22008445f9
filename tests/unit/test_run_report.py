"""The demo run report: Greeks before/after, excursions, text, JSON and the PNG chart."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import run_chart
from bot.app.run_chart import write_chart
from bot.app.run_report import (
    AccountPnl,
    CycleSample,
    Excursion,
    HedgeOrderRow,
    RunReport,
    TransferRow,
    band_time,
    greeks_before_after,
    largest_excursion,
    outside_band,
    render_text,
    report_json,
)
from bot.domain.ids import Currency
from bot.domain.pnl import PnlComponents

T0_MS = int(datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp() * 1000)
STEP_MS = 15 * 60 * 1000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _sample(
    k: int,
    underlying: str,
    *,
    index_usd: float,
    book: float,
    hedge: float,
    band: tuple[float, float] | None,
) -> CycleSample:
    return CycleSample(
        ts_ms=T0_MS + k * STEP_MS,
        underlying=underlying,
        index_usd=index_usd,
        book_delta_coin=book,
        hedge_coin=hedge,
        target_delta_coin=0.0,
        band_lower_coin=None if band is None else band[0],
        band_upper_coin=None if band is None else band[1],
        gamma_coin_per_pct=0.0125 * (k + 1),
        vega_usd_per_volpt=-250.0 + k,
        theta_usd_per_day=80.0 - k,
    )


# BTC totals 0, 0.5, 0, 0.75, 0 against bands ±0.25 then ±1 (the band widens after the
# vol spike): 0.25 coin beyond the band at cycle 1, yet the largest miss of target is
# 0.75 at cycle 3, inside the wider band. ETH has no band: totals 0, -0.125, 0.5, -0.75, 0.25.
BTC = (
    _sample(0, "BTC", index_usd=60_000.0, book=1.0, hedge=-1.0, band=(-0.25, 0.25)),
    _sample(1, "BTC", index_usd=55_200.0, book=1.5, hedge=-1.0, band=(-0.25, 0.25)),
    _sample(2, "BTC", index_usd=55_000.0, book=1.5, hedge=-1.5, band=(-0.25, 0.25)),
    _sample(3, "BTC", index_usd=55_500.0, book=2.25, hedge=-1.5, band=(-1.0, 1.0)),
    _sample(4, "BTC", index_usd=56_000.0, book=2.0, hedge=-2.0, band=(-1.0, 1.0)),
)
ETH = (
    _sample(0, "ETH", index_usd=3_000.0, book=-2.0, hedge=2.0, band=None),
    _sample(1, "ETH", index_usd=2_900.0, book=-2.125, hedge=2.0, band=None),
    _sample(2, "ETH", index_usd=2_950.0, book=-1.5, hedge=2.0, band=None),
    _sample(3, "ETH", index_usd=3_100.0, book=-2.75, hedge=2.0, band=None),
    _sample(4, "ETH", index_usd=3_050.0, book=-1.75, hedge=2.0, band=None),
)


def _order(
    k: int, venue: str, symbol: str, side: str, amount: tuple[float, str, float], *, filled: float
) -> HedgeOrderRow:
    """amount = (amount, unit, coin); the fill is in the amount's unit, priced at the index."""
    underlying = symbol[:3]
    index_usd = (BTC if underlying == "BTC" else ETH)[k].index_usd
    return HedgeOrderRow(
        ts_ms=T0_MS + k * STEP_MS,
        venue=venue,
        symbol=symbol,
        underlying=underlying,
        side=side,
        amount=amount[0],
        amount_unit=amount[1],
        amount_coin=amount[2],
        state="FILLED" if filled == amount[0] else "PARTIAL",
        filled_amount=filled,
        average_price=index_usd,
    )


ORDERS = (
    # Deribit inverse perp: amount in USD, 27,600 USD at 55,200 = 0.5 coin, all filled.
    _order(1, "deribit", "BTC-PERPETUAL", "sell", (27_600.0, "USD", 0.5), filled=27_600.0),
    # Half filled: 13,875 of 27,750 USD is 0.25 of the 0.5 coin.
    _order(3, "deribit", "BTC-PERPETUAL", "sell", (27_750.0, "USD", 0.5), filled=13_875.0),
    _order(1, "bybit", "ETH/USDT:USDT", "buy", (2.0, "ETH", 2.0), filled=2.0),
)
EVENTS = ("2026-12-01 08:15 UTC BTC jump -8%", "2026-12-01 08:45 UTC vol spike x2")


def _report(**changes: object) -> RunReport:
    base = RunReport(
        started_ms=T0_MS,
        finished_ms=T0_MS + 4 * STEP_MS,
        wall_s=12.34,
        samples=(*BTC, *ETH),
        orders=ORDERS,
        transfers=(),
        accounts=(
            AccountPnl("deribit", 100_000.0, 101_234.5),
            AccountPnl("bybit", 50_000.0, 49_500.0),
        ),
        hedge_pnl_usd=812.34,
        events=EVENTS,
        denials=(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_greeks_before_after_picks_first_and_last_per_underlying() -> None:
    """Each underlying maps to its earliest and latest sample, even when samples arrive shuffled."""
    shuffled = _report(samples=(ETH[3], BTC[4], *BTC[1:4], ETH[0], BTC[0], *ETH[1:3], ETH[4]))
    pairs = greeks_before_after(shuffled)
    assert set(pairs) == {"BTC", "ETH"}
    assert pairs["BTC"] == (BTC[0], BTC[4])
    assert pairs["ETH"] == (ETH[0], ETH[4])


def test_total_delta_is_book_plus_hedge() -> None:
    """Total delta is book + hedge in coin, and that times the index in USD."""
    assert BTC[3].total_delta_coin == 0.75
    assert BTC[3].total_delta_usd == 0.75 * 55_500.0


def test_largest_excursion_against_a_band() -> None:
    """With a band, beyond-band coin and the largest |total - target| are found independently."""
    exc = largest_excursion(_report())["BTC"]
    assert exc == Excursion(ts_ms=BTC[1].ts_ms, beyond_band_coin=0.25, max_abs_deviation_coin=0.75)


def test_largest_excursion_without_a_band_uses_distance_from_target() -> None:
    """With no band, beyond-band equals the largest |total - target| (here -0.75 at cycle 3)."""
    exc = largest_excursion(_report())["ETH"]
    assert exc == Excursion(ts_ms=ETH[3].ts_ms, beyond_band_coin=0.75, max_abs_deviation_coin=0.75)


def test_largest_excursion_inside_band_is_zero_at_worst_deviation() -> None:
    """A run that never leaves its band reports 0 beyond, timed at the largest miss of target."""
    inside = tuple(dataclasses.replace(s, band_lower_coin=-1.0, band_upper_coin=1.0) for s in BTC)
    exc = largest_excursion(_report(samples=inside))["BTC"]
    assert exc == Excursion(ts_ms=BTC[3].ts_ms, beyond_band_coin=0.0, max_abs_deviation_coin=0.75)
    assert "never outside the band; max |total - target| 0.7500 coin" in render_text(
        _report(samples=inside)
    )


def test_filled_coin_scales_usd_fills_and_signs_by_side() -> None:
    """Fills in USD convert through the order's coin size; a sell is negative coin."""
    assert [o.filled_coin for o in ORDERS] == [-0.5, -0.25, 2.0]


def test_render_text_shows_the_key_figures() -> None:
    """The text report carries span, cycles, Greeks, fills, P&L, excursion and the none lines."""
    text = render_text(_report())
    assert "(1.00 h simulated), wall 12.3 s, 5 cycles" in text
    assert "60,000.00" in text and "56,000.00" in text  # BTC index before -> after
    assert "+0.0625" in text  # BTC gamma after, coin/1%
    assert "+762" in text  # ETH total delta after: 0.25 coin x 3,050 USD
    assert "Hedges sent: 3 orders, 2.7500 coin filled (gross)" in text
    assert "-0.7500 coin net" in text  # two BTC-PERPETUAL sells
    assert "+812.34" in text  # hedge P&L
    assert "+1,234.50" in text and "-500.00" in text  # per-account P&L
    assert "+734.50" in text  # accounts total
    assert "BTC        0.2500 coin beyond the band at 2026-12-01T08:15:00.000Z" in text
    assert (
        "ETH        no band; max |total - target| 0.7500 coin at 2026-12-01T08:45:00.000Z" in text
    )
    assert "Collateral moves: none" in text
    assert "Risk-gate denials: none" in text
    assert "2026-12-01 08:15 UTC BTC jump -8%" in text
    assert "PARTIAL 1" in text


def test_hedge_lines_sum_each_instruments_fees_in_the_venues_currency() -> None:
    """Fees are summed per venue, symbol and fee currency, in text and JSON: a USDT perp's in
    USDT, an inverse perp's in BTC, an order without fills adds nothing."""
    fees = ({"BTC": 2e-4}, {"BTC": 1e-4})
    deribit = [dataclasses.replace(o, fees=f) for o, f in zip(ORDERS[:2], fees, strict=True)]
    usdt = dataclasses.replace(ORDERS[2], fees={"USDT": 1.25})
    report = _report(orders=(*deribit, usdt, dataclasses.replace(usdt, fees={})))
    text = render_text(report)
    (btc_line,) = [line for line in text.splitlines() if "BTC-PERPETUAL" in line]
    (eth_line,) = [line for line in text.splitlines() if "ETH/USDT:USDT" in line]
    assert btc_line.endswith("gross, fees 0.0003 BTC")
    assert eth_line.endswith("gross, fees 1.25 USDT")
    by_instrument = report_json(report)["hedges"]["by_instrument"]  # type: ignore[index]
    assert [h["fees"] for h in by_instrument] == [{"BTC": pytest.approx(3e-4)}, {"USDT": 1.25}]


def test_render_text_lists_transfers_and_denials() -> None:
    """Collateral moves and denials are listed one per line when there are some."""
    transfer = TransferRow(T0_MS + STEP_MS, "deribit", "BTC", 0.5, "main -> hedge", "COMPLETED")
    text = render_text(_report(transfers=(transfer,), denials=("BTC: hourly notional cap",)))
    assert "deribit  0.5 BTC -> main -> hedge (COMPLETED)" in text
    assert "  BTC: hourly notional cap" in text
    assert "none" not in text


def test_the_attribution_follows_the_accounts_in_text_and_json() -> None:
    """The journal's attribution per underlying is in the P&L block and in the JSON, in USD."""
    pnl = PnlComponents(delta_usd=-120.0, theta_usd=45.5, equity_change_usd=-70.0)
    report = _report(attribution={Currency("BTC"): pnl})
    text = render_text(report)
    assert "attribution (deltabot pnl; unexplained = equity change minus the rest):" in text
    assert "    P&L BTC: -70 USD (delta -120, gamma +0, theta +46," in text
    encoded = json.loads(json.dumps(report_json(report)))
    assert encoded["attribution_usd"]["BTC"]["delta_usd"] == -120.0


def test_nan_values_show_as_na() -> None:
    """A NaN index or P&L prints as n/a instead of nan or a crash."""
    bad = dataclasses.replace(BTC[4], index_usd=math.nan)
    text = render_text(_report(samples=(*BTC[:4], bad), hedge_pnl_usd=math.nan))
    assert "nan" not in text.lower().replace("n/a", "")
    assert "hedge trades                     n/a" in text


def test_empty_samples_report_no_cycles() -> None:
    """A run with no samples says so in text and JSON and still draws a chart."""
    empty = _report(samples=(), orders=())
    text = render_text(empty)
    assert "no cycles ran" in text and "0 cycles" in text
    assert largest_excursion(empty) == {} and greeks_before_after(empty) == {}
    assert report_json(empty)["underlyings"] == {}


def test_report_json_round_trips_without_nan() -> None:
    """The JSON document survives strict json.dumps/loads, NaN becoming null."""
    payload = report_json(_report(hedge_pnl_usd=math.nan))
    back = json.loads(json.dumps(payload, allow_nan=False))
    assert back == payload
    assert back["pnl"]["hedge_usd"] is None
    assert back["pnl"]["accounts"][0]["pnl_usd"] == 1_234.5
    assert back["underlyings"]["BTC"]["excursion"]["beyond_band_coin"] == 0.25
    assert back["underlyings"]["ETH"]["after"]["total_delta_usd"] == 762.5
    assert back["hedges"]["by_instrument"][0] == {
        "venue": "deribit",
        "symbol": "BTC-PERPETUAL",
        "orders": 2,
        "filled_net_coin": -0.75,
        "filled_gross_coin": 0.75,
        "fees": {},
    }
    assert back["cycles"] == 5 and back["simulated_span_h"] == 1.0


def test_write_chart_writes_a_png_and_no_temp_file(tmp_path: Path) -> None:
    """The chart is a real PNG of some size, and only the target file is left behind."""
    out = tmp_path / "demo.png"
    write_chart(_report(), out)
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 20_000
    assert os.listdir(tmp_path) == ["demo.png"]


def test_write_chart_of_empty_run(tmp_path: Path) -> None:
    """An empty run still yields a PNG (a "no cycles ran" panel)."""
    out = tmp_path / "empty.png"
    write_chart(_report(samples=(), orders=()), str(out))
    assert out.read_bytes()[:8] == PNG_SIGNATURE


def test_write_chart_failure_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the final rename fails, the previous PNG is untouched and the temp file is removed."""
    out = tmp_path / "demo.png"
    out.write_bytes(b"old")

    def boom(src: object, dst: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk gone"):
        run_chart.write_chart(_report(), out)
    assert out.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["demo.png"]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("2026-12-01 09:00 UTC BTC jump -8%", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-12-01T09:30:15Z vol spike", datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)),
        ("2026-12-01T09:30:15.000Z BTC jump", datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)),
        ("vol spike at some point", None),
        ("2026-13-01 09:00 UTC bad month", None),
    ],
)
def test_event_time_parses_a_leading_utc_time(event: str, expected: datetime | None) -> None:
    """Events starting with a UTC time get a chart marker; others are left unmarked."""
    want = None if expected is None else int(expected.timestamp() * 1000)
    assert run_chart.event_time_ms(event) == want


class TestBandTime:
    def test_time_outside_counts_each_sample_until_the_next(self) -> None:
        """BTC leaves its band at one of five 15-minute samples: 0.25 h of 1 h outside."""
        btc = band_time(_report())["BTC"]
        assert (btc.outside_ms, btc.span_ms, btc.outside_cycles, btc.cycles) == (
            STEP_MS,
            4 * STEP_MS,
            1,
            5,
        )
        assert btc.half_width_range() == (0.25, 0.25, 1.0)

    def test_text_reports_the_band_half_width_and_time_outside(self) -> None:
        """The report says the band's half-width over the run (what a cost-aware strategy's
        parameters mean in coin) and the time outside it; a strategy without one says so."""
        text = render_text(_report(strategy="band(width_up=0.25), cost_frac 0.0007"))
        assert "strategy: band(width_up=0.25), cost_frac 0.0007" in text
        assert (
            "band ±0.2500..1.0000 coin (median 0.2500); outside it (by > 1% of it) 1 of 5 cycles, "
            "0.25 h of 1.00 h" in text
        )
        assert band_time(_report())["ETH"].half_width_range() is None

    def test_a_hair_outside_is_lot_rounding_not_an_excursion(self) -> None:
        """A total beyond its ±0.25 band by 0.002 coin (under 1% of it, what rounding a
        hedge-to-edge order to the lot leaves) is not counted outside; 0.003 is."""
        hair = dataclasses.replace(BTC[1], hedge_coin=-1.248)  # total 0.252
        over = dataclasses.replace(BTC[1], hedge_coin=-1.247)  # total 0.253
        assert (outside_band(hair), outside_band(over)) == (False, True)
        samples = (BTC[0], hair, *BTC[2:])
        assert band_time(_report(samples=samples))["BTC"].outside_cycles == 0

    def test_json_carries_the_band_figures(self) -> None:
        """JSON has the band's half-width range and the time outside it per underlying."""
        btc = report_json(_report())["underlyings"]["BTC"]  # type: ignore[index]
        assert btc["band_half_width_coin"] == {"min": 0.25, "median": 0.25, "max": 1.0}
        assert btc["excursion"]["outside_band_ms"] == STEP_MS
