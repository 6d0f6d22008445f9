"""Vectorised Monte Carlo backtests of hedging strategies (issue 6 §1–§4).

The same strategy kernels the daemon calls (``strategies/``) hedge an option
book along many simulated or recorded price paths at once, one
:class:`strategies.base.HedgeState` element per path::

    from bot.backtest import GBM, Book, Costs, OptionLeg, StrategySpec, run_backtest
    from bot.backtest.report import format_table

    book = Book((OptionLeg(is_call=True, strike_usd=100.0, expiry_years=1 / 12,
                           quantity_coin=-1.0),))            # write one 1-month call
    result = run_backtest(
        book,
        GBM(spot0_usd=100.0, vol=0.2, drift=0.05),
        [StrategySpec("interval", {"interval_s": 3600.0}),
         StrategySpec("band", {"width_up": 0.05, "width_down": 0.05})],
        Costs(fee_frac=5e-4, spread_frac=2e-4),
        paths=100_000, steps=84, seed=7, rate=0.05, carry="financed",
    )
    print(format_table(result))

Models: :class:`GBM`, :class:`Merton`, :class:`Heston` (``bot.backtest.paths``)
and :class:`Historical` over :func:`read_price_csv` (``bot.backtest.history``).
Every strategy sees the same paths; paths are generated and hedged in chunks
of ``chunk_paths`` (20,000) so memory stays bounded, and ``workers`` > 1 runs
chunks in separate processes with the same result. Each
:class:`StrategyResult` holds per-path totals (:class:`PathOutcome`): the
hedged P&L and its exact attribution into delta, gamma, theta, vega, carry,
funding, costs and a residual.

:func:`bot.app.replay.replay_path` runs one path through the daemon's own
engine against the emulator and sets its decisions beside the vectorised
run's (issue 6 §3). It is not imported here: it pulls in ccxt and the engine,
which a backtest (and each of its worker processes) does not need.
"""

from bot.backtest.book import Book, BookError, OptionLeg, load_book_toml, parse_leg
from bot.backtest.history import Historical, HistoryError, read_price_csv
from bot.backtest.paths import GBM, Heston, Merton, PathModel
from bot.backtest.runner import run_backtest
from bot.backtest.spec import (
    BacktestResult,
    Carry,
    Costs,
    OptionHedgeSpec,
    PathOutcome,
    StrategyResult,
    StrategySpec,
)

__all__ = [
    "GBM",
    "BacktestResult",
    "Book",
    "BookError",
    "Carry",
    "Costs",
    "Heston",
    "Historical",
    "HistoryError",
    "Merton",
    "OptionHedgeSpec",
    "OptionLeg",
    "PathModel",
    "PathOutcome",
    "StrategyResult",
    "StrategySpec",
    "load_book_toml",
    "parse_leg",
    "read_price_csv",
    "run_backtest",
]
