"""The executor's order-outcome metrics: an IOC canceled unfilled is ``canceled``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from bot.config import load_config
from bot.domain.orders import Accepted, OrderReport, OrderState
from bot.domain.risk import GateDecision
from bot.domain.snapshot import PortfolioSnapshot
from bot.engine.context import EngineContext
from bot.engine.executor import send_orders
from bot.journal import Journal
from tests.unit.test_journal import SYMBOL, VENUE, decision, intent

ROOT = Path(__file__).resolve().parents[2]


class IocVenue:
    """Takes every IOC order and closes it with ``filled`` of its amount traded (no fills
    reported: the outcome label reads the report's state and amount only)."""

    def __init__(self, filled_frac: float) -> None:
        self.filled_frac = filled_frac

    async def create_order(self, request: Any) -> Accepted:
        filled = request.amount * self.filled_frac
        state = OrderState.CANCELED if filled < request.amount else OrderState.FILLED
        report = OrderReport(
            request.client_id, "v-1", SYMBOL, state, filled, 60_000.0 if filled else None, 20
        )
        return Accepted(report)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite") as j:
        yield j


async def _send(journal: Journal, venue: IocVenue) -> EngineContext:
    config = load_config(ROOT / "config.example.toml", {})
    ctx = EngineContext(config, journal, {VENUE: cast(Any, venue)}, lambda: 10)
    decision(journal, cycle="c")
    await send_orders(ctx, "c", GateDecision((intent(0),), ()), PortfolioSnapshot(10, ()))
    return ctx


def _sample(ctx: EngineContext, name: str, **labels: str) -> float | None:
    return ctx.metrics.registry.get_sample_value(name, {"venue": VENUE, **labels})


@pytest.mark.parametrize(
    ("filled_frac", "outcome", "filled_coin"),
    [(0.0, "canceled", 0.0), (0.5, "accepted", 0.5 * 100 / 60_000), (1.0, "accepted", None)],
    ids=["unfilled", "partial", "filled"],
)
async def test_outcome_label_and_ioc_amounts(
    journal: Journal, filled_frac: float, outcome: str, filled_coin: float | None
) -> None:
    """Canceled with nothing filled counts as canceled, never accepted; the IOC counters
    add the requested and filled coin."""
    ctx = await _send(journal, IocVenue(filled_frac))
    assert _sample(ctx, "deltabot_order_outcomes_total", outcome=outcome) == 1.0
    other = "accepted" if outcome == "canceled" else "canceled"
    assert _sample(ctx, "deltabot_order_outcomes_total", outcome=other) is None
    requested = _sample(ctx, "deltabot_ioc_requested_coin_total", underlying="BTC")
    assert requested == pytest.approx(100 / 60_000)
    filled = _sample(ctx, "deltabot_ioc_filled_coin_total", underlying="BTC")
    assert filled == pytest.approx(filled_coin if filled_coin is not None else requested)
