"""Rendered views kept while the world state they were rendered from holds.

A poll of a chain's book summaries renders hundreds of views; the marks behind
them change once per market grid step, positions and last prices at a fill.
A view read again in the same state is the kept one, re-stamped with the time
of the read (Deribit stamps a ticker or summary with the instant it answers).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RenderCache(Generic[K, V]):
    """One kept rendering per ``slot`` (an instrument, a currency and kind), with the state
    and the time it stands for."""

    def __init__(self, restamp: Callable[[V, int], V]) -> None:
        self._restamp = restamp
        self._slots: dict[K, tuple[Hashable, int, V]] = {}

    def get(self, slot: K, state: Hashable, now_ms: int, render: Callable[[], V]) -> V:
        """The view of ``slot`` in ``state`` at ``now_ms``: rendered anew only when the
        state moved since the kept one, re-stamped when only the time did."""
        kept = self._slots.get(slot)
        if kept is not None and kept[0] == state:
            if kept[1] == now_ms:
                return kept[2]
            value = self._restamp(kept[2], now_ms)
        else:
            value = render()
        self._slots[slot] = (state, now_ms, value)
        return value
