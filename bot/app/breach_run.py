"""The breach-probability Monte Carlo in chunks on a compute runner.

Chunk ``c`` of a run draws its paths from ``SeedSequence([seed, c])`` and
returns only its count of breaching paths per account
(:func:`bot.domain.margin.breach_hits`); counts are integers, so their sum,
and the probability, is the same whatever the runner, the worker count or
the order the chunks finish in. The distances, the model and the horizon are
sent to each worker once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from bot.compute import Failed, Runner
from bot.domain.margin import JumpDiffusion, breach_hits, breach_share
from bot.pricing.arrays import FloatArray, IntArray

BREACH_CHUNK_PATHS: Final = 5_000
"""Paths per task: a few MB of path extremes, a fraction of a second of work."""


@dataclass(frozen=True, slots=True)
class BreachInputs:
    """What every chunk shares: the accounts' distances, the model, the time grid, the seed."""

    down_frac: FloatArray
    up_frac: FloatArray
    model: JumpDiffusion
    horizon_years: float
    n_steps: int
    seed: int


def _chunk_hits(inputs: BreachInputs, chunk: tuple[int, int]) -> IntArray:
    """One chunk's breaching paths per account (a runner's task)."""
    index, n_paths = chunk
    rng = np.random.default_rng(np.random.SeedSequence([inputs.seed, index]))
    return breach_hits(
        inputs.down_frac,
        inputs.up_frac,
        inputs.model,
        inputs.horizon_years,
        rng,
        n_paths=n_paths,
        n_steps=inputs.n_steps,
    )


def breach_on(
    runner: Runner, inputs: BreachInputs, *, n_paths: int, chunk_paths: int = BREACH_CHUNK_PATHS
) -> FloatArray:
    """P(breach within the horizon) per account, ``n_paths`` paths in chunks on ``runner``.

    Raises ValueError naming the chunk that failed.
    """
    if n_paths < 1 or chunk_paths < 1:
        raise ValueError("n_paths and chunk_paths must be >= 1")
    chunks = [
        (c, min(chunk_paths, n_paths - first))
        for c, first in enumerate(range(0, n_paths, chunk_paths))
    ]
    hits = np.zeros(np.shape(inputs.down_frac), dtype=np.int64)
    for finished in runner.run(_chunk_hits, chunks, shared=inputs):
        if isinstance(finished, Failed):
            raise ValueError(
                f"breach Monte Carlo, chunk {finished.index} of {len(chunks)}: {finished.error}"
            )
        hits += finished.value
    return breach_share(inputs.down_frac, inputs.up_frac, hits, n_paths)
