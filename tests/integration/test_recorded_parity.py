"""Parity: the daemon's own run on the emulator, recorded, replayed by the recorded backtest
with the same config and the venue's lot. The replay values the book as the daemon did at
every recorded read, and makes the daemon's hedge trades: one for each order, same side, on
that cycle's read (or the one next to it, where the book sat at the band's edge), leaving
the hedge where the daemon's own valuation of that read puts it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.app.chain_backtest import config_legs, run_recorded
from bot.backtest.chain_run import ChainBacktest
from bot.config import Config, load_config
from bot.journal import Journal

REPO = Path(__file__).resolve().parents[2]
HOURS = "4"
SPEED = "480"
LOT_COIN = 0.001
"""The emulated Binance USDⓈ-M perpetuals' lot, BTC and ETH: the replay rounds as the daemon."""
SLACK_COIN = 2 * LOT_COIN
"""Both sides value the book from the same marks (the collateral's options included, at the
read's marks: :func:`bot.engine.plan._collateral`) and start from the same coin equity, so
their book deltas differ by rounding. Each side rounds its hedge to the lot."""


def _record(tmp: Path) -> Path:
    """``deltabot demo`` on the example config with [record] on; returns the config."""
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    start, end = example.index("[record]"), example.index("flush_interval_s = 300.0") + 25
    recording = f'[record]\nenabled = true\nstore = "{tmp / "store"}"\nflush_interval_s = 3600\n'
    config = tmp / "record.toml"
    config.write_text(example[:start] + recording + example[end:], encoding="utf-8")
    argv = [
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--config",
        str(config),
        "--hours",
        HOURS,
        "--speed",
        SPEED,
        "--journal",
        str(tmp / "journal.sqlite"),
    ]
    subprocess.run(argv, check=True, cwd=REPO, capture_output=True)
    return config


def _first_equities(journal: Path) -> dict[str, float]:
    """Per underlying, the coin equity the daemon journaled at its first cycle."""
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT d.underlying, e.equity_coin FROM equities e"
            " JOIN decisions d ON d.decision_id = e.decision_id ORDER BY d.ts_ms DESC"
        ).fetchall()
    return dict(rows)  # the oldest row of each underlying written last


def _starting_at_first_read(config: Config, equity_coin: dict[str, float]) -> Config:
    """``config`` with its coin balances moved to the journaled equity of the first read.

    The replay takes ``[[sim.balances]]`` as the account's coin equity at the first read, as
    the venue reports it (:mod:`bot.app.chain_backtest`); the emulator's account took its
    options on at the world's first marks, and the options' value moved until the daemon's
    first read, by more the longer the daemon took to start (at 480x, one second is eight
    simulated minutes: 0.008 BTC on a slow machine, a tenth of the band's width).
    """
    left = dict(equity_coin)  # all of a currency's equity on its first account
    balances = tuple(
        b.model_copy(update={"amount": left.pop(b.currency, 0.0)})
        if b.currency in equity_coin
        else b
        for b in config.sim.balances
    )
    sim = config.sim.model_copy(update={"balances": balances})
    return config.model_copy(update={"sim": sim})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ChainBacktest]:
    """One recorded demo run and its replay, shared by the tests below."""
    tmp = tmp_path_factory.mktemp("recorded")
    config = load_config(_record(tmp), {})
    config = _starting_at_first_read(config, _first_equities(tmp / "journal.sqlite"))
    return tmp, run_recorded(config, tmp / "store", lot_coin=[LOT_COIN] * 2)


def _daemon_books(journal: Path, run: ChainBacktest) -> np.ndarray:
    """(T, U) the book delta (all but the hedge) the daemon journaled on each recorded
    read's cycle: its first decision at or after the read, before the next read."""
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT ts_ms, underlying, greeks_json FROM decisions").fetchall()
    grid = run.market.time_ms
    books = np.full((grid.size, len(run.market.underlyings)), np.nan)
    for u, underlying in enumerate(run.market.underlyings):
        decided = sorted(
            (ts, json.loads(greeks)["book_delta_coin"])
            for ts, und, greeks in rows
            if und == underlying
        )
        ts_ms = np.array([ts for ts, _ in decided])
        at = np.searchsorted(ts_ms, grid)
        assert (at < ts_ms.size).all()
        assert (ts_ms[at][:-1] < grid[1:]).all(), "a recorded read without its cycle's decision"
        books[:, u] = [decided[i][1] for i in at]
    return books


def _replayed_books(tmp: Path, run: ChainBacktest) -> np.ndarray:
    """(T, U) the replay's book delta at each read: its total before trading, less the
    hedge it held then."""
    held = config_legs(load_config(tmp / "record.toml", {}))[1]
    start = np.array([held[u][0] for u in run.market.underlyings])
    hedges = run.results[0].hedge_coin
    return run.results[0].total_delta_coin - np.vstack([start, hedges[:-1]])


def test_replay_values_the_book_as_the_daemon_did(recorded: tuple[Path, ChainBacktest]) -> None:
    """At every recorded read, the replay's book delta moves as the daemon's journaled book
    delta of that cycle, within two lots of their difference at the first read."""
    tmp, run = recorded
    apart = _replayed_books(tmp, run) - _daemon_books(tmp / "journal.sqlite", run)
    drift = np.abs(apart - apart[0])
    assert drift.max() <= SLACK_COIN, f"reads {np.argwhere(drift > SLACK_COIN).tolist()}: {apart}"


def test_replay_makes_the_daemons_trades(recorded: tuple[Path, ChainBacktest]) -> None:
    """Every order the daemon filled has a replay trade, same side, on that cycle's read or
    the next one, leaving the hedge within two lots of where the daemon's book delta of that
    read puts it; and the replay makes no other trade."""
    tmp, run = recorded
    with Journal.open(tmp / "journal.sqlite") as journal:
        orders = [
            (r.created_ts_ms, r.request.side.sign * r.filled_amount, u)
            for r, u, _ in journal.orders.since(0)
            if r.filled_amount
        ]
    held = config_legs(load_config(tmp / "record.toml", {}))[1]
    start = np.array([held[u][0] for u in run.market.underlyings])
    hedges = run.results[0].hedge_coin
    trades = hedges - np.vstack([start, hedges[:-1]])
    replay = [(int(k), int(u)) for k, u in zip(*np.nonzero(trades), strict=True)]
    books = _daemon_books(tmp / "journal.sqlite", run)
    offset = (_replayed_books(tmp, run) - books)[0]
    grid = run.market.time_ms
    assert orders and len(replay) == len(orders), f"daemon {orders}, replay {replay}"
    for (cycle_ms, size, underlying), (k, u) in zip(orders, replay, strict=True):
        assert underlying == run.market.underlyings[u]
        assert np.sign(trades[k, u]) == np.sign(size)
        # the order's cycle read last before the order; the replay trades on that read, or,
        # where the book sat within rounding of the band's edge, on the read next to it
        read = int(np.searchsorted(grid, cycle_ms, side="right")) - 1
        assert abs(k - read) <= 1, f"order at {cycle_ms} (read {read}), replay at read {k}"
        left = hedges[k, u] + books[k, u] + offset[u]
        assert abs(left) <= SLACK_COIN, f"read {k}: the hedge leaves {left} coin"
