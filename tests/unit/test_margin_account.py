"""One account's margin by the configured model, per settlement currency (paper accounts)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.ids import Currency, Symbol
from bot.domain.instruments import AmountUnit, Instrument, InstrumentKind, Settlement
from bot.domain.margin import PortfolioParams, StandardParams, portfolio_margin, standard_margin
from bot.domain.margin.account import settlement_margin
from bot.domain.margin.liquidation import MarginModel
from bot.domain.position_table import PositionTable
from bot.domain.snapshot import Mark, Position, VenueSnapshot
from tests.contract.paper_fake import BTC, CALL, PERP, START_MS, VENUE, FakeMarketData

USDC = Currency("USDC")
LINEAR = Symbol("BTC/USDC:USDC")


def _linear_perp() -> Instrument:
    perp = FakeMarketData().instruments[PERP]
    return replace(
        perp,
        symbol=LINEAR,
        quote=USDC,
        settle=USDC,
        settlement=Settlement.LINEAR,
        amount_unit=AmountUnit.COIN,
        kind=InstrumentKind.PERPETUAL,
        tick_size=1.0,
        lot_size=0.001,
        min_size=0.001,
    )


def _read(*positions: Position) -> VenueSnapshot:
    data = FakeMarketData()
    instruments = {**data.instruments, LINEAR: _linear_perp()}
    marks = {**data.marks, LINEAR: Mark(LINEAR, 60000.0, 60000.0, START_MS)}
    return VenueSnapshot(VENUE, START_MS, instruments, positions, (), marks)


def _own_account(read: VenueSnapshot, currency: Currency) -> PositionTable:
    held = tuple(p for p in read.positions if p.instrument.settle == currency)
    return PositionTable.from_snapshots([replace(read, positions=held)])


class TestSettlementMargin:
    def test_each_currency_is_margined_as_its_own_account(self) -> None:
        """A short BTC call and a USDC perp give a BTC figure in coin and a USDC one in USD,
        each the standard model's on that currency's positions alone."""
        call, linear = FakeMarketData().instruments[CALL], _linear_perp()
        read = _read(Position(call, -2.0), Position(linear, 0.5))
        figures = settlement_margin(
            read,
            model=MarginModel.STANDARD,
            standard=StandardParams(),
            portfolio=PortfolioParams(),
        )
        assert set(figures) == {BTC, USDC}
        for currency, cell in ((BTC, "coin"), (USDC, "usd")):
            table = _own_account(read, currency)
            want = standard_margin(table, forward_usd=table.forward_usd(), valuation_ts_ms=START_MS)
            assert figures[currency].initial == pytest.approx(
                float(getattr(want, f"initial_{cell}").sum())
            )
            assert figures[currency].maintenance == pytest.approx(
                float(getattr(want, f"maintenance_{cell}").sum())
            )
        assert figures[BTC].initial > 0 and figures[USDC].initial > 0

    def test_portfolio_model_uses_the_risk_matrix(self) -> None:
        """A venue on portfolio margin reports S:PM's IM and MM (MM = mm_factor x IM)."""
        read = _read(Position(FakeMarketData().instruments[CALL], -2.0))
        params = PortfolioParams()
        (btc,) = settlement_margin(
            read, model=MarginModel.PORTFOLIO, standard=StandardParams(), portfolio=params
        ).values()
        table = _own_account(read, BTC)
        want = portfolio_margin(
            table, forward_usd=table.forward_usd(), valuation_ts_ms=START_MS, params=params
        ).margin
        assert btc.initial == pytest.approx(float(want.initial_coin.sum()))
        assert btc.maintenance == pytest.approx(params.mm_factor * btc.initial)

    def test_long_options_only_need_no_margin(self) -> None:
        """A long call is paid for: its account requires nothing (Deribit standard margin)."""
        read = _read(Position(FakeMarketData().instruments[CALL], 3.0))
        (btc,) = settlement_margin(
            read, model=MarginModel.STANDARD, standard=StandardParams(), portfolio=PortfolioParams()
        ).values()
        assert (btc.initial, btc.maintenance) == (0.0, 0.0)
