"""A backtest's memory is known before it runs: the estimate covers what the run really holds,
and a run beyond the limit is refused with the figure."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from bot.backtest import GBM, Book, Heston, Historical, Merton, OptionLeg, StrategySpec
from bot.backtest import run_backtest as run
from bot.backtest.engine import ChunkInputs, ChunkTask, chunk_memory_bytes, simulate_chunk
from bot.backtest.history import PriceSeries
from bot.backtest.paths import PathModel
from bot.backtest.runner import run_memory_bytes
from bot.backtest.spec import Costs

BOOK = Book((OptionLeg(True, 100.0, 1 / 12, -1.0),))
PATHS, STEPS = 2_000, 300


def _recorded(with_iv: bool) -> Historical:
    minutes = np.arange(200_000) * 60.0
    prices = 100.0 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 1e-3, minutes.size)))
    iv = np.full(minutes.size, 0.5) if with_iv else None
    return Historical(PriceSeries(minutes, prices, iv), 100.0)


MODELS: dict[str, Callable[[], PathModel]] = {
    "gbm": lambda: GBM(100.0, 0.2),
    "merton": lambda: Merton(100.0, 0.2, 1.0, -0.05, 0.1),
    "heston": lambda: Heston(100.0, 0.04, 2.0, 0.04, 0.5, -0.7),
    "csv": lambda: _recorded(with_iv=False),
    "csv_with_iv": lambda: _recorded(with_iv=True),
}


def _bands(n: int) -> tuple[StrategySpec, ...]:
    return tuple(
        StrategySpec("band", {"width_up": 0.05 + 0.01 * i, "width_down": 0.05}) for i in range(n)
    )


def _peak_bytes(work: Callable[[], Any]) -> int:
    """The most memory ``work`` held at once, as numpy reports it to tracemalloc."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("n_strategies", [1, 4])
@pytest.mark.parametrize("name", list(MODELS))
def test_the_chunk_estimate_covers_what_a_chunk_holds(name: str, n_strategies: int) -> None:
    """For every model, chunk_memory_bytes is at least the chunk's measured peak and at most
    1.5 times it."""
    model, specs = MODELS[name](), _bands(n_strategies)
    dt = BOOK.horizon_years / STEPS
    task = ChunkTask(0, specs, Costs(), "financed", 0.0, 0.2, STEPS, dt, 1, 0, 0, PATHS, 3)
    measured = _peak_bytes(lambda: simulate_chunk(ChunkInputs(BOOK, (model,)), task))
    estimate = chunk_memory_bytes(model, PATHS, STEPS, n_strategies)
    assert measured <= estimate <= 1.5 * measured


def test_the_run_estimate_covers_a_whole_run() -> None:
    """run_memory_bytes covers a two-chunk, two-strategy run in this process, within 1.5x."""
    model, specs = GBM(100.0, 0.2), _bands(2)
    measured = _peak_bytes(
        lambda: run(BOOK, model, specs, paths=PATHS, steps=STEPS, seed=1, chunk_paths=PATHS // 2)
    )
    estimate = run_memory_bytes(
        model,
        paths=PATHS,
        steps=STEPS,
        chunk_paths=PATHS // 2,
        n_strategies=2,
        n_groups=1,
        workers=1,
    )
    assert measured <= estimate <= 1.5 * measured


def test_a_run_beyond_the_limit_is_refused_with_the_figure_before_it_starts() -> None:
    """A billion steps would need about 160,000 GB: refused at once, naming the need and the
    limit; the same run within the limit goes ahead."""
    with pytest.raises(ValueError) as refused:
        run(BOOK, GBM(100.0, 0.2), _bands(1), paths=10_000, steps=10**9, seed=1,
            max_memory_bytes=8e9)  # fmt: skip
    assert str(refused.value).startswith(
        "this run needs about 160,128.0 GB of memory (10,000 paths of 1,000,000,001 prices, "
        "in chunks of 10,000, 1 strategy), more than the 8.0 GB allowed"
    )
    result = run(
        BOOK, GBM(100.0, 0.2), _bands(1), paths=100, steps=10, seed=1, max_memory_bytes=8e9
    )
    assert result.n_paths == 100
