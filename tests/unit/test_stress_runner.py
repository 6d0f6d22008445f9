"""`deltabot stress` on a runner: the grid in vol-shift column chunks is the grid computed
whole, and the scenarios come back in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from bot.app.stress_run import build_report
from bot.compute import Finished, SerialRunner
from bot.config import load_config
from bot.domain.stress import grid_of, join_columns

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


class ManyWorkers:
    """A serial runner that claims ``workers`` workers (so the grid is cut finer), and
    returns the outcomes last first (as a cluster may)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(
        self, fn: Callable[[S, T], R], items: Sequence[T], *, shared: S
    ) -> Iterator[Finished[R]]:
        return reversed(list(SerialRunner().run(fn, items, shared=shared)))


@pytest.mark.parametrize("workers", [1, 5, 40])
def test_a_grid_in_chunks_is_the_whole_grid(workers: int) -> None:
    """Cut into 2, 10 or 21 column chunks and run in any order, the 41 × 21 grid equals
    grid_of over the whole grid, figure for figure; the scenarios are the serial ones."""
    config = load_config(EXAMPLE, {})
    serial = build_report(config, config.stress)
    chunked = build_report(config, config.stress, ManyWorkers(workers))  # type: ignore[arg-type]
    whole = grid_of(serial.book, config.stress.price_moves(), config.stress.vol_shifts(),
                    vol_relative=config.stress.vol_relative)  # fmt: skip
    for name in ("pnl_usd", "venue_pnl_usd", "equity_usd", "maintenance_usd", "first_liquidated"):
        np.testing.assert_array_equal(getattr(chunked.grid, name), getattr(whole, name))
    assert chunked.grid.pnl_usd.shape == (41, 21)
    assert chunked.scenarios == serial.scenarios


def test_grids_over_other_price_moves_are_not_joined() -> None:
    """Joining grids of different price moves is refused (their rows would not line up)."""
    config = load_config(EXAMPLE, {})
    book = build_report(config, config.stress).book
    a = grid_of(book, [-0.1, 0.1], [0.0], vol_relative=True)
    b = grid_of(book, [-0.2, 0.2], [0.5], vol_relative=True)
    with pytest.raises(ValueError, match="same price moves"):
        join_columns([a, b])
