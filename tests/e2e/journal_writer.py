"""A process that journals orders in a tight loop and says what it committed, for the
power-cut test (``tests/e2e/test_journal_power_cut.py``).

``main([journal, prefix, limit])`` opens ``journal`` and, up to ``limit`` times, journals
a decision, an intent (PENDING), its SUBMITTED move and its FILLED outcome with two fills
(one transaction), exactly the writes of the executor. After each write *returned* it
prints ``<state> <client id>`` and flushes: the line is the writer's claim that the
write is committed, which a SIGKILL at any moment must not make false.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bot.domain.ids import ClientOrderId, Currency, Symbol, VenueId
from bot.domain.orders import Fill, OrderReport, OrderRequest, OrderState, Side
from bot.domain.risk import OrderIntent
from bot.journal import Journal

VENUE, SYMBOL, BTC = VenueId("sim-a"), Symbol("BTC/USD:BTC"), Currency("BTC")
AMOUNT_USD = 20_000.0
PRICE_USD = 60_000.0


def _intent(cid: ClientOrderId) -> OrderIntent:
    order = OrderRequest(cid, VENUE, SYMBOL, Side.SELL, AMOUNT_USD, PRICE_USD)
    return OrderIntent(order, BTC, AMOUNT_USD, AMOUNT_USD / PRICE_USD, 0.0)


def _fills(cid: ClientOrderId, ts_ms: int) -> tuple[Fill, ...]:
    half = AMOUNT_USD / 2
    return tuple(
        Fill(f"{cid}-t{k}", cid, f"{cid}-v", SYMBOL, Side.SELL, half, PRICE_USD, 0.0, BTC, ts_ms)
        for k in (1, 2)
    )


def _say(state: OrderState, cid: str) -> None:
    sys.stdout.write(f"{state.value} {cid}\n")
    sys.stdout.flush()


def main(argv: Sequence[str]) -> int:
    """Journal ``limit`` orders (module docstring); exit 0 if never killed."""
    path, prefix, limit = argv[0], argv[1], int(argv[2])
    with Journal.open(path) as journal:
        for i in range(limit):
            ts = 1_000 + i
            cid = ClientOrderId(f"{prefix}-{i:06d}")
            decision = journal.orders.record_decision(
                f"{prefix}-{i}", BTC, ts, greeks={}, inputs={}, target_coin=0.0, reason="writer"
            )
            journal.orders.record_intent(_intent(cid), decision, ts)
            _say(OrderState.PENDING, cid)
            journal.orders.mark(cid, OrderState.SUBMITTED, ts)
            _say(OrderState.SUBMITTED, cid)
            report = OrderReport(cid, f"{cid}-v", SYMBOL, OrderState.FILLED, AMOUNT_USD, 6e4, ts)
            journal.orders.mark(cid, OrderState.FILLED, ts, report, fills=_fills(cid, ts))
            _say(OrderState.FILLED, cid)
    return 0
