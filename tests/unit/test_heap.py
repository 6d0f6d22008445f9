"""Snapshots kept out of the cyclic collector during a cycle (bot.ops.heap)."""

from __future__ import annotations

import gc

from bot.ops.heap import frozen_heap


class TestFrozenHeap:
    def test_objects_alive_on_entry_are_frozen_inside(self) -> None:
        """Inside the block the objects alive on entry sit in the collector's frozen set."""
        book = [[i] for i in range(1_000)]
        with frozen_heap():
            assert gc.get_freeze_count() >= len(book)

    def test_everything_is_handed_back_on_exit(self) -> None:
        """After the block nothing stays frozen, so garbage cycles are collected again."""
        with frozen_heap():
            pass
        assert gc.get_freeze_count() == 0

    def test_an_exception_still_unfreezes(self) -> None:
        """A cycle that raises leaves no object frozen behind it."""
        try:
            with frozen_heap():
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert gc.get_freeze_count() == 0
