"""An order's terminal state and its fills reach the journal together, or are repaired."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from bot.config import load_config
from bot.domain.ids import Symbol
from bot.domain.orders import Accepted, Fill, OrderReport, OrderState
from bot.domain.risk import GateDecision
from bot.domain.snapshot import PortfolioSnapshot
from bot.engine.context import EngineContext
from bot.engine.executor import send_orders
from bot.engine.reconciler import repair_missing_fills
from bot.journal import Journal
from bot.journal.orders import OrderStore
from tests.unit.test_journal import BTC, SYMBOL, VENUE, decision, fill, intent

ROOT = Path(__file__).resolve().parents[2]


class FillingVenue:
    """Fills every order at once and reports its two trades with the answer."""

    def __init__(self) -> None:
        self.trades: list[Fill] = []

    async def create_order(self, request: Any) -> Accepted:
        cid = request.client_id
        half = request.amount / 2
        fills = (fill("t-1", cid, half, ts_ms=20), fill("t-2", cid, half, ts_ms=21))
        self.trades.extend(fills)
        report = OrderReport(cid, "v-1", SYMBOL, OrderState.FILLED, request.amount, 60_000.0, 21)
        return Accepted(report, fills)

    async def fetch_fills(self, since_ms: int, symbols: Sequence[Symbol]) -> tuple[Fill, ...]:
        return tuple(f for f in self.trades if f.ts_ms >= since_ms and f.symbol in symbols)

    async def fetch_positions(self) -> tuple[()]:
        return ()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite") as j:
        yield j


def _ctx(journal: Journal, venue: FillingVenue) -> EngineContext:
    config = load_config(ROOT / "config.example.toml", {})
    return EngineContext(config, journal, {VENUE: cast(Any, venue)}, lambda: 10)


async def test_a_crash_while_booking_fills_leaves_no_filled_order_without_fills(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between the first and second fill write rolls the FILLED mark back with them:
    the order stays SUBMITTED (reconciled later), never FILLED with fills missing."""
    decision(journal, cycle="c")
    sent = intent(0)
    real = OrderStore._insert_fill
    written: list[str] = []

    def crash_on_second(self: OrderStore, f: Fill, venue: Any) -> bool:
        if written:
            raise KeyboardInterrupt("power cut")
        written.append(f.trade_id)
        return real(self, f, venue)

    monkeypatch.setattr(OrderStore, "_insert_fill", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        await send_orders(
            _ctx(journal, FillingVenue()),
            "c",
            GateDecision((sent,), ()),
            PortfolioSnapshot(10, ()),
        )
    record = journal.orders.get(sent.order.client_id)
    assert record.state is OrderState.SUBMITTED and record.filled_amount == 0
    assert journal.orders.fills(VENUE, since_ms=0) == ()


async def test_start_up_repairs_a_finished_order_whose_fills_are_missing(
    journal: Journal,
) -> None:
    """An order journaled FILLED without its fills (a crash in an older deltabot) gets them
    from the venue's trades at the next reconciliation; one not found stays reported."""
    venue = FillingVenue()
    decision(journal, cycle="c")
    sent = intent(0)
    cid = sent.order.client_id
    journal.orders.record_intent(sent, "c/BTC", 10)
    journal.orders.mark(cid, OrderState.SUBMITTED, 11)
    outcome = await venue.create_order(sent.order)
    journal.orders.mark(cid, OrderState.FILLED, 22, outcome.report)  # fills never written
    assert [r.request.client_id for r in journal.orders.missing_fills()] == [cid]

    added = await repair_missing_fills(journal, {VENUE: cast(Any, venue)})

    assert added == 2
    assert journal.orders.missing_fills() == ()
    assert sum(f.amount for f in journal.orders.fills(VENUE, since_ms=0)) == sent.order.amount
    assert sent.underlying == BTC
