"""Deribit channel names and the aggregation of ``100ms`` and ``agg2`` channels."""

import pytest

from bot.sim.deribit_channels import INTERVAL_MS, Change, Channel, Held, Topic

PERP = "BTC-PERPETUAL"


def _order(order_id: str, state: str) -> Change:
    return Change(Topic.ORDERS, PERP, {"order_id": order_id, "order_state": state}, 1)


def _trade(trade_id: str) -> Change:
    return Change(Topic.TRADES, PERP, {"trade_id": trade_id}, 1)


class TestInterval:
    @pytest.mark.parametrize(
        "name", [f"ticker.{PERP}.{{}}", "user.changes.future.BTC.{}", f"user.orders.{PERP}.{{}}"]
    )
    @pytest.mark.parametrize("interval", sorted(INTERVAL_MS))
    def test_the_last_part_names_the_aggregation(self, name: str, interval: str) -> None:
        """``raw`` aggregates nothing; ``100ms`` and ``agg2`` aggregate over their period."""
        channel = Channel.parse(name.format(interval))
        assert channel.interval_ms == INTERVAL_MS[interval]
        assert (channel.interval_ms == 0) == (interval == "raw")

    def test_the_index_channel_has_no_interval(self) -> None:
        """``deribit_price_index.btc_usd`` is pushed at every move."""
        assert Channel.parse("deribit_price_index.btc_usd").interval_ms == 0


class TestHeld:
    def test_the_interval_ends_on_the_next_boundary(self) -> None:
        """A first change at 1,234 ms of a 100 ms interval is due at 1,300 ms."""
        assert Held.starting(1_234, 100).due_ms == 1_300

    def test_an_order_keeps_its_latest_state_and_every_trade_stays(self) -> None:
        """Two states of one order are one (the later); two trades are two."""
        held = Held.starting(0, 100)
        held.add([_order("1", "open"), _trade("T1")])
        held.add([_order("1", "filled"), _trade("T2")])
        data = [c.data for c in held.changes.values()]
        assert data == [
            {"trade_id": "T1"},
            {"order_id": "1", "order_state": "filled"},
            {"trade_id": "T2"},
        ]

    def test_an_aggregated_orders_channel_renders_one_list(self) -> None:
        """``user.orders.*.100ms`` pushes its orders as one list (``raw``: one each)."""
        orders = [_order("1", "filled"), _order("2", "open")]
        aggregated = Channel.parse(f"user.orders.{PERP}.100ms").render(orders)
        raw = Channel.parse(f"user.orders.{PERP}.raw").render(orders)
        assert aggregated == [[o.data for o in orders]]
        assert raw == [o.data for o in orders]
