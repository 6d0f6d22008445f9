"""The chain store: recorded option chains and hedge quotes, and the ways in (issue 13).

:mod:`bot.chain.schema` describes the tables and their units,
:mod:`bot.chain.store` reads and writes them as partitioned Parquet,
:mod:`bot.chain.tardis` imports Tardis.dev CSV files into them. An I/O edge
like the journal: it imports only the pure core and pyarrow.
"""

from bot.chain.schema import TABLES, Column, premium_unit_of
from bot.chain.store import ChainStore, Partition, StoreError, arrow_schema

__all__ = [
    "TABLES",
    "ChainStore",
    "Column",
    "Partition",
    "StoreError",
    "arrow_schema",
    "premium_unit_of",
]
