"""The reconciler's I/O half: lookups by client id become journal transitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import (
    OrderReport,
    OrderRequest,
    OrderState,
    Side,
    client_order_id,
)
from bot.domain.risk import OrderIntent
from bot.engine.reconciler import reconcile_open_orders
from bot.journal import Journal

VENUE, PERP = VenueId("sim-a"), Symbol("BTC/USD:BTC")


class LaggingVenue:
    """A venue that does not know an order until ``known`` is set (its index lags)."""

    def __init__(self) -> None:
        self.known: OrderReport | None = None

    async def find_order(self, client_id: ClientOrderId, symbol: Symbol) -> OrderReport | None:
        return self.known

    async def fetch_fills(self, since_ms: int, symbols: Any) -> tuple[()]:
        return ()


async def test_not_found_order_is_rechecked_and_moves_on_late_evidence(tmp_path: Path) -> None:
    """NOT_FOUND after the grace period, then FILLED when the venue's index catches up, but
    only on runs asked to recheck (the scheduled ones)."""
    venue = LaggingVenue()
    cid = client_order_id("c1", VENUE, PERP, 0)
    with Journal.open(tmp_path / "j.sqlite") as journal:
        decision = journal.orders.record_decision(
            "c1", Currency("BTC"), 0, greeks={}, inputs={}, target_coin=0.0, reason="t"
        )
        order = OrderRequest(cid, VENUE, PERP, Side.SELL, 600.0)
        journal.orders.record_intent(
            OrderIntent(order, Currency("BTC"), 600.0, 0.01, 0.0), decision, 0
        )
        journal.orders.mark(cid, OrderState.SUBMITTED, 0)

        async def run(now: int, recheck: bool) -> None:
            await reconcile_open_orders(
                journal,
                {VENUE: venue},  # type: ignore[dict-item]
                now_ms=lambda: now,
                unknown_grace_ms=30_000,
                resolution_window_ms=300_000,
                recheck_not_found=recheck,
            )

        await run(10_000, recheck=False)
        assert journal.orders.get(cid).state is OrderState.UNKNOWN
        await run(40_000, recheck=False)
        assert journal.orders.get(cid).state is OrderState.NOT_FOUND
        venue.known = OrderReport(cid, "BTC-9", PERP, OrderState.FILLED, 600.0, 60_000.0, 41_000)
        await run(50_000, recheck=False)
        assert journal.orders.get(cid).state is OrderState.NOT_FOUND  # a cycle does not recheck
        await run(60_000, recheck=True)
        assert journal.orders.get(cid).state is OrderState.FILLED
        assert journal.orders.get(cid).filled_amount == 600.0
