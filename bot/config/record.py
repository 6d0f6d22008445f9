"""``[record]``: the daemon records what it reads from the venues into a chain store.

Any mode (sim, paper, sandbox, live) can record, so a desk's own runs become
backtest data (``deltabot backtest --history``). What is recorded is what the
daemon polls: every read of every venue, the marks (with IV, bid and ask) of
the options it holds and of its hedge instruments (with the perpetuals' funding
rates), and the index prices; and the delivery price of each recorded expiry once
it has passed. ``whole_chain`` adds every listed option of the recorded
underlyings, one chain read per ``whole_chain_interval_s``, so a recording can be
marked off a fitted smile (``deltabot backtest --mark svi``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, Strict, field_validator

from bot.config.base import FrozenModel


class RecordConfig(FrozenModel):
    """Whether and where the daemon records its venue reads."""

    enabled: bool = Field(
        default=False,
        description="Record every poll of every venue into the chain store. Default false.",
    )
    store: Annotated[Path, Strict(False)] = Field(
        default=Path("deltabot-chains"),
        description=(
            "Chain store directory (created if missing); relative paths are relative to the "
            "working directory. Default deltabot-chains."
        ),
    )
    flush_interval_s: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description=(
            "Seconds of reads kept in memory before they are written as one file per venue, "
            "underlying and day; also written at a stop. Default 300, in [1, 86400]."
        ),
    )
    whole_chain: bool = Field(
        default=False,
        description=(
            "Also record every listed option of the recorded underlyings (one chain read per "
            "venue and underlying, e.g. Deribit's get_book_summary_by_currency, every "
            "whole_chain_interval_s), not only the held ones. Default false."
        ),
    )
    whole_chain_interval_s: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description=(
            "Seconds between two whole-chain reads (with whole_chain), in [1, 86400]. Default 300."
        ),
    )

    @field_validator("store")
    @classmethod
    def _check_store(cls, path: Path) -> Path:
        if path.name in ("", ".", ".."):
            raise ValueError(f"store names a directory, e.g. deltabot-chains; got {str(path)!r}")
        return path
