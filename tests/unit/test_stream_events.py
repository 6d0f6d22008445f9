"""Deribit channel messages as stream events: index ticks, account changes, malformed ones."""

from __future__ import annotations

from bot.domain.ids import Currency, VenueId
from bot.venues.stream import AccountChange, IndexTick, parse_events

VENUE = VenueId("deribit-a")


def test_an_index_message_is_a_tick_at_the_venues_time() -> None:
    """deribit_price_index.btc_usd becomes a BTC tick with its price and timestamp."""
    raw = {
        "channel": "deribit_price_index.btc_usd",
        "data": {"index_name": "btc_usd", "price": 60_123.5, "timestamp": 1_796_112_001_000},
    }
    assert parse_events(VENUE, [raw]) == [
        IndexTick(VENUE, Currency("BTC"), 60_123.5, 1_796_112_001_000)
    ]


def test_a_changes_message_names_its_orders_labels_and_trades() -> None:
    """user.changes keeps each order's id and label (empty when none) and the trade ids."""
    raw = {
        "channel": "user.changes.any.any.raw",
        "data": {
            "instrument_name": "BTC-PERPETUAL",
            "orders": [{"order_id": "BTC-7", "label": "abc"}, {"order_id": "BTC-8"}],
            "trades": [{"trade_id": "BTC-T9"}],
            "positions": [{"size": 10}],
        },
    }
    assert parse_events(VENUE, [raw]) == [
        AccountChange(VENUE, "BTC-PERPETUAL", ("BTC-7", "BTC-8"), ("abc", ""), ("BTC-T9",))
    ]


def test_malformed_messages_are_skipped_not_raised() -> None:
    """A tick without a price or a change without an instrument is dropped; the rest parse."""
    bad_tick = {"channel": "deribit_price_index.btc_usd", "data": {"index_name": "btc_usd"}}
    bad_change = {"channel": "user.changes.any.any.raw", "data": {"orders": []}}
    good = {
        "channel": "deribit_price_index.eth_usd",
        "data": {"index_name": "eth_usd", "price": "3000", "timestamp": 5},
    }
    events = parse_events(VENUE, [bad_tick, bad_change, good])
    assert events == [IndexTick(VENUE, Currency("ETH"), 3000.0, 5)]
