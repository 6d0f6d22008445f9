"""P&L attribution (domain/pnl.py): the worked example, the trade windows, the days."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, Settlement
from bot.domain.pnl import (
    FundingPayment,
    PnlComponents,
    Trade,
    ValuationPoint,
    attribute_interval,
    daily,
    fee_usd,
    index_factors,
    linear_equity_usd,
    pnl_line,
    totals,
)
from bot.domain.snapshot import Balance, Mark, Position, VenueSnapshot
from bot.domain.timeunits import MS_PER_HOUR

T0 = 1_796_112_000_000  # 2026-12-01T08:00:00Z
BTC = Currency("BTC")


def point(ts_ms: int = T0, *, index: float = 60_000.0, **kw: float) -> ValuationPoint:
    values = {
        "book_delta_coin": -1.0,
        "hedge_coin": 0.8,
        "gamma_coin_per_pct": 0.5,
        "vega_usd_per_volpt": 300.0,
        "theta_usd_per_day": -1_200.0,
        "sigma": 0.60,
        "equity_coin": 10.0,
    } | kw
    return ValuationPoint(ts_ms=ts_ms, index_usd=index, **values)


def trade(ts_ms: int = T0, coin: float = 0.1, price: float = 60_030.0) -> Trade:
    return Trade(ts_ms, coin, price, index_at_send_usd=60_000.0, fee_usd=3.0)


class TestInterval:
    def test_the_docstring_example(self) -> None:
        """Hull's expansion by hand: delta −60, gamma 150, theta −600, vega 300, slip −3."""
        end = point(T0 + 12 * MS_PER_HOUR, index=60_600.0, sigma=0.61, equity_coin=10.0)
        pnl = attribute_interval(point(), end, [trade()])
        assert pnl.delta_usd == pytest.approx(-60.0)
        assert pnl.gamma_usd == pytest.approx(150.0)
        assert pnl.theta_usd == pytest.approx(-600.0)
        assert pnl.vega_usd == pytest.approx(300.0)
        assert pnl.slippage_usd == pytest.approx(-3.0)
        assert pnl.fees_usd == pytest.approx(-3.0)

    def test_the_residual_closes_to_the_usd_equity_change(self) -> None:
        """Equity 10 coin at 60,000 -> 10.1 at 60,600 is +12,060 USD; the rest is unexplained."""
        end = point(T0 + MS_PER_HOUR, index=60_600.0, equity_coin=10.1)
        pnl = attribute_interval(point(), end)
        assert pnl.equity_change_usd == pytest.approx(12_060.0)
        assert pnl.explained_usd + pnl.unexplained_usd == pytest.approx(12_060.0)

    def test_a_maker_rebate_is_a_gain(self) -> None:
        """A negative fee (a rebate) is a positive fees component."""
        rebate = Trade(T0, 0.1, 60_000.0, 60_000.0, fee_usd=-1.5)
        assert attribute_interval(point(), point(T0 + 1), [rebate]).fees_usd == 1.5


class TestFees:
    @pytest.mark.parametrize(
        ("currency", "expected"),
        [("BTC", 18.0), ("USDC", 0.0003), ("USDT", 0.0003), ("USD", 0.0003), ("ETH", math.nan)],
    )
    def test_fee_currencies(self, currency: str, expected: float) -> None:
        """A coin fee at the index, a USD-like one at par, any other unknown (NaN)."""
        got = fee_usd(0.0003, currency, "BTC", 60_000.0)
        assert got == pytest.approx(expected, nan_ok=True)


class TestWindows:
    def test_a_trade_counts_in_the_interval_from_its_cycles_valuation(self) -> None:
        """A fill at a valuation's own ts belongs to the interval that starts there."""
        midnight = T0 + 16 * MS_PER_HOUR  # the two intervals end on two UTC days
        points = {BTC: [point(midnight - 2_000), point(midnight - 1_000), point(midnight + 1)]}
        first, second = daily(points, {BTC: [trade(midnight - 1_000)]})
        assert first.pnl.fees_usd == 0.0
        assert second.pnl.fees_usd == -3.0

    def test_trades_outside_the_points_count_nowhere(self) -> None:
        """A fill before the first valuation or at the last is in no interval yet."""
        points = {BTC: [point(T0), point(T0 + 1_000)]}
        [only] = daily(points, {BTC: [trade(T0 - 1), trade(T0 + 1_000)]})
        assert only.intervals == 1 and only.pnl.fees_usd == 0.0

    def test_intervals_go_to_the_utc_day_they_end_in(self) -> None:
        """Three points across midnight UTC make one interval on each day."""
        midnight = T0 + 16 * MS_PER_HOUR
        points = {BTC: [point(midnight - 2_000), point(midnight - 1_000), point(midnight + 1)]}
        rows = daily(points, {})
        assert [(r.day, r.intervals) for r in rows] == [("2026-12-01", 1), ("2026-12-02", 1)]

    def test_components_add_field_by_field(self) -> None:
        """Summing two attributions sums every component and the equity change."""
        a = PnlComponents(delta_usd=1.0, equity_change_usd=2.0)
        b = PnlComponents(delta_usd=3.0, fees_usd=-1.0, equity_change_usd=1.0)
        assert a + b == PnlComponents(4.0, fees_usd=-1.0, equity_change_usd=3.0)

    def test_totals_sum_each_underlyings_days(self) -> None:
        """totals adds an underlying's rows across days and keeps underlyings apart."""
        midnight = T0 + 16 * MS_PER_HOUR
        eth = Currency("ETH")
        points = {
            BTC: [point(midnight - 2_000), point(midnight - 1_000), point(midnight + 1)],
            eth: [point(midnight - 2_000, index=3_000.0), point(midnight - 1_000, index=3_030.0)],
        }
        rows = daily(points, {})
        by_underlying = totals(rows)
        assert set(by_underlying) == {BTC, eth}
        btc_rows = [r.pnl for r in rows if r.underlying == BTC]
        assert by_underlying[BTC] == btc_rows[0] + btc_rows[1]

    def test_pnl_line_names_every_component_in_whole_usd(self) -> None:
        """The daily summary's line: the equity change, then each component, signed."""
        line = pnl_line(
            BTC, PnlComponents(delta_usd=1_234.4, fees_usd=-12.6, equity_change_usd=1_221.8)
        )
        assert line.startswith("P&L BTC: +1,222 USD (delta +1,234, gamma +0,")
        assert "fees -13" in line and line.endswith("unexplained +0)")


def _funding(ts_ms: int, amount: float, currency: str = "USDT") -> FundingPayment:
    return FundingPayment(
        VenueId("binance-a"), f"F{ts_ms}", Symbol("BTC/USDT:USDT"), BTC, ts_ms, amount,
        Currency(currency),
    )  # fmt: skip


class TestFunding:
    def test_funding_counts_in_its_interval_and_leaves_the_rest(self) -> None:
        """A 12 USDT payment received is +12 funding and 12 less unexplained in its interval."""
        end = point(T0 + MS_PER_HOUR, equity_coin=10.0, linear_usd=12.0)
        pnl = attribute_interval(point(), end, funding=[_funding(T0 + 1, 12.0)])
        assert pnl.funding_usd == pytest.approx(12.0)
        assert pnl.unexplained_usd == pytest.approx(pnl.equity_change_usd - pnl.explained_usd)
        assert pnl.equity_change_usd == pytest.approx(12.0)

    def test_a_coin_payment_is_valued_at_the_index_before_it(self) -> None:
        """−0.001 BTC paid at index 60,000 is −60 USD of funding in the daily rows."""
        points = [point(T0), point(T0 + MS_PER_HOUR, index=61_000.0)]
        [row] = daily({BTC: points}, {}, {BTC: [_funding(T0 + 5, -0.001, "BTC")]})
        assert row.pnl.funding_usd == pytest.approx(-60.0)


def _linear_snapshot(
    size_coin: float,
    entry: float,
    mark: float,
    usdt: float,
    *,
    unrealised: float | None = None,
    index: float | None = None,
) -> VenueSnapshot:
    perp = Instrument(
        VenueId("binance-a"), Symbol("BTC/USDT:USDT"), BTC, Currency("USDT"), Currency("USDT"),
        InstrumentKind.PERPETUAL, Settlement.LINEAR, AmountUnit.COIN, Currency("USDT"),
        0.1, 0.001, 0.001,
    )  # fmt: skip
    eth = replace(perp, symbol=Symbol("ETH/USDT:USDT"), underlying=Currency("ETH"))
    return VenueSnapshot(
        VenueId("binance-a"), T0, {perp.symbol: perp, eth.symbol: eth},
        (Position(perp, size_coin, entry), Position(eth, 10.0, 3_000.0)),
        (Balance(Currency("USDT"), usdt, usdt, 0.0, 0.0, unrealised_pnl=unrealised),),
        {
            perp.symbol: Mark(perp.symbol, mark, mark, T0),
            eth.symbol: Mark(eth.symbol, 3_000.0, 3_000.0, T0),
        },
        {} if index is None else {BTC: index},
    )  # fmt: skip


class TestLinearEquity:
    def test_a_position_gain_goes_to_its_underlying_and_cash_is_shared(self) -> None:
        """Short 2 BTC from 60,000 marked 57,000 (+6,000) on 106,000 USDT of equity: BTC gets
        6,000 + half the 100,000 cash, ETH (flat at its entry) the other half."""
        snap = _linear_snapshot(-2.0, 60_000.0, 57_000.0, 106_000.0)
        got = linear_equity_usd([snap], [BTC, Currency("ETH")])
        assert got == pytest.approx({BTC: 56_000.0, "ETH": 50_000.0})

    def test_a_btc_move_changes_btc_only(self) -> None:
        """The mark moving 1,000 against the short moves BTC's figure by −2,000, ETH's not."""
        before = linear_equity_usd([_linear_snapshot(-2.0, 60_000.0, 60_000.0, 100_000.0)], [BTC])
        after = linear_equity_usd([_linear_snapshot(-2.0, 60_000.0, 61_000.0, 98_000.0)], [BTC])
        assert after[BTC] - before[BTC] == pytest.approx(-2_000.0)

    def test_candidates_limit_the_walk_to_the_positions_named(self) -> None:
        """Naming only the BTC perp leaves ETH's gain out; naming both matches the full walk."""
        snap = _linear_snapshot(-2.0, 60_000.0, 57_000.0, 106_000.0)
        eth = Currency("ETH")
        assert linear_equity_usd([snap], [BTC, eth], [[0, 1]]) == linear_equity_usd(
            [snap], [BTC, eth]
        )
        assert linear_equity_usd([snap], [BTC, eth], [[0]]) == pytest.approx(
            {BTC: 106_000.0, eth: 0.0}
        )

    def test_coin_accounts_add_nothing(self) -> None:
        """A venue with no USD-like balance and no linear position contributes 0."""
        snap = VenueSnapshot(VenueId("deribit-a"), T0, {}, (), (), {})
        assert linear_equity_usd([snap], [BTC]) == {BTC: 0.0}

    def test_the_docstring_example_wallet_from_the_read_gain_at_the_cycles_index(self) -> None:
        """Equity 105,800 holding +5,800 read with it, mark 57,000 at a venue index of 56,950,
        cycle index 57,000: cash 100,000 (half to ETH), BTC's gain at the moved mark."""
        snap = _linear_snapshot(
            -2.0, 60_000.0, 57_000.0, 105_800.0, unrealised=5_800.0, index=56_950
        )
        factors = index_factors([snap], {BTC: 57_000.0})
        got = linear_equity_usd([snap], [BTC, Currency("ETH")], factors=factors)
        gain = -2.0 * (57_000.0 * 57_000.0 / 56_950.0 - 60_000.0)
        assert gain == pytest.approx(5_899.91, abs=0.01)
        assert got == pytest.approx({BTC: gain + 50_000.0, "ETH": 50_000.0})

    def test_a_balance_read_before_the_marks_leaves_the_cash_alone(self) -> None:
        """The same wallet read with two different gains inside its equity, the marks read
        later at one price: the figure is the same, not shifted by the gap between reads."""
        early = _linear_snapshot(-2.0, 60_000.0, 57_000.0, 107_000.0, unrealised=7_000.0)
        late = _linear_snapshot(-2.0, 60_000.0, 57_000.0, 104_000.0, unrealised=4_000.0)
        assert linear_equity_usd([early], [BTC]) == pytest.approx(linear_equity_usd([late], [BTC]))
        assert linear_equity_usd([late], [BTC])[BTC] == pytest.approx(6_000.0 + 50_000.0)


class TestIndexFactors:
    def test_the_docstring_example(self) -> None:
        """Deribit read BTC at 60,000 before a −8 % jump, Binance at 55,200 after, the cycle
        at Binance's: Deribit's prices count at 0.92, Binance's at 1, ETH nowhere."""
        deribit = VenueSnapshot(VenueId("deribit-a"), T0, {}, (), (), {}, {BTC: 60_000.0})
        binance = VenueSnapshot(VenueId("binance-a"), T0, {}, (), (), {}, {BTC: 55_200.0})
        got = index_factors([deribit, binance], {BTC: 55_200.0, Currency("ETH"): 3_000.0})
        assert got == [{BTC: pytest.approx(0.92)}, {BTC: 1.0}]

    def test_a_missing_or_unusable_index_moves_nothing(self) -> None:
        """No cycle index, or a NaN one, leaves the venue's prices as read (no factor)."""
        snap = VenueSnapshot(VenueId("deribit-a"), T0, {}, (), (), {}, {BTC: 60_000.0})
        assert index_factors([snap], {}) == [{}]
        assert index_factors([snap], {BTC: math.nan}) == [{}]
