"""What a paper venue holds, as a value the journal keeps across restarts (shadow paper).

``cash`` is per currency (the starting cash less fees and transfers);
``holdings`` maps each symbol to (size in the venue's amount unit, cost basis:
the sum of ``value_in_settle`` of its fills, in its settlement currency).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.domain.ids import Currency, Symbol


@dataclass(frozen=True, slots=True)
class PaperBook:
    """One paper venue's cash and positions."""

    cash: Mapping[Currency, float] = field(default_factory=lambda: MappingProxyType({}))
    holdings: Mapping[Symbol, tuple[float, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )
