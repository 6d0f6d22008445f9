"""Random one-underlying books (BTC at F) shared by the margin and stress property tests.

A row is (kind, inverse, call, size in coin, strike / F, days to expiry, vol, venue
index); :func:`book_table` turns rows into a :class:`PositionTable` with Deribit's
units (USD amounts for inverse futures and perps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from bot.domain.position_table import NO_EXPIRY_MS, KindCode, PositionTable
from bot.domain.timeunits import MS_PER_DAY

T0_MS = 1_700_000_000_000
F = 60_000.0


def book_rows(venues: int = 1) -> st.SearchStrategy[tuple[Any, ...]]:
    """One random position on one of ``venues`` venues."""
    return st.tuples(
        st.sampled_from([KindCode.OPTION, KindCode.PERPETUAL, KindCode.FUTURE]),
        st.booleans(),  # inverse
        st.booleans(),  # call
        st.floats(-20.0, 20.0),  # size in coin
        st.floats(0.5, 2.0),  # strike / F
        st.integers(1, 200),  # days
        st.floats(0.2, 1.5),  # vol
        st.integers(0, venues - 1),  # venue
    )


def book_table(rows: list[tuple[Any, ...]], venues: Sequence[str] = ("backtest",)) -> PositionTable:
    """The rows as a table marked at ``T0_MS`` with index ``F``."""
    kind = np.array([r[0] for r in rows], dtype=np.int8)
    opt = kind == KindCode.OPTION
    inverse = np.array([r[1] for r in rows])
    usd = inverse & ~opt
    coin = np.array([r[3] for r in rows])
    return PositionTable.from_arrays(
        underlyings=["BTC"],
        underlying_idx=np.zeros(len(rows), dtype=np.int64),
        venues=venues,
        venue_idx=[r[7] for r in rows],
        kind=kind,
        size=np.where(usd, coin * F, coin),
        is_inverse=inverse,
        amount_is_usd=usd,
        is_call=opt & np.array([r[2] for r in rows]),
        strike_usd=np.where(opt, [r[4] * F for r in rows], np.nan),
        expiry_ms=np.where(
            kind == KindCode.PERPETUAL, NO_EXPIRY_MS, [T0_MS + r[5] * MS_PER_DAY for r in rows]
        ),
        mark_iv=np.where(opt, [r[6] for r in rows], np.nan),
        index_usd=[F],
    )
