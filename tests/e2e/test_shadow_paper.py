"""Shadow paper: the daemon in mode paper holds a declared options book over the emulator's
public endpoints, hedges it locally at the real bid/ask, records what it reads, and keeps
its paper book in the journal across a restart."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import ccxt.async_support as ccxt

from bot.chain import ChainStore, Partition
from bot.domain.ids import Symbol
from bot.journal import Journal

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 120.0  # a safety net for a wedged child, not a speed assertion
CYCLES = 4


async def _deltabot(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _line_matching(stream: asyncio.StreamReader, pattern: str, count: int = 1) -> str:
    seen = 0
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError(f"stream ended before {count} x {pattern!r}")
        line = raw.decode()
        if re.search(pattern, line):
            seen += 1
            if seen == count:
                return line


async def _far_call(url: str) -> str:
    """A listed BTC call of the last expiry, struck nearest the index."""
    client = ccxt.deribit({"timeout": 5000})
    client.urls["api"]["rest"] = url
    try:
        markets = await client.load_markets()
        index = (await client.fetch_ticker("BTC/USD:BTC"))["info"]["index_price"]
    finally:
        await client.close()
    calls = [
        m
        for m in markets.values()
        if m["option"] and m["base"] == "BTC" and m["optionType"] == "call"
    ]
    last = max(m["expiry"] for m in calls)
    return str(
        min(
            (m for m in calls if m["expiry"] == last), key=lambda m: abs(m["strike"] - float(index))
        )["symbol"]
    )


async def _run_cycles(config: Path, cycles: int) -> asyncio.subprocess.Process:
    """``deltabot run`` until it has logged ``cycles`` cycles, then SIGINT and wait."""
    daemon = await _deltabot("run", "--config", str(config))
    try:
        assert daemon.stderr is not None
        await asyncio.wait_for(_line_matching(daemon.stderr, r'"event": "cycle"', cycles), LIMIT_S)
        daemon.send_signal(signal.SIGINT)
        await asyncio.wait_for(daemon.communicate(), LIMIT_S)
    finally:
        if daemon.returncode is None:
            daemon.kill()
            await daemon.wait()
    return daemon


def _config(tmp: Path, url: str, symbol: str) -> Path:
    path = tmp / "paper.toml"
    path.write_text(f"""mode = "paper"
[[venues]]
name = "deribit"
exchange = "deribit"
role = ["options", "hedge"]
api_url = "{url}"
[[hedges]]
underlying = "BTC"
venue = "deribit"
symbol = "BTC/USD:BTC"
[strategy]
name = "band"
[strategy.params]
width_up = 0.05
width_down = 0.05
unit = "coin"
[risk]
max_order_notional_usd = 2000000
max_hourly_notional_usd = 10000000
max_daily_notional_usd = 50000000
[daemon]
journal_path = "{tmp / "journal.sqlite"}"
hedge_interval_s = 1
[metrics]
enabled = false
[record]
enabled = true
store = "{tmp / "store"}"
flush_interval_s = 1
[[paper.cash]]
venue = "deribit"
currency = "BTC"
amount = 10.0
[[paper.book]]
venue = "deribit"
symbol = "{symbol}"
size = -5.0
""")
    return path


async def test_paper_daemon_hedges_and_records_a_declared_book(tmp_path: Path) -> None:
    """The declared short calls are held, hedged with a local perp fill at the emulator's
    quotes, journaled and held again (same size and basis) after a restart; the recorder
    stores the call's marks."""
    emulator = await _deltabot("sim-venue", "--port", "0", "--seed", "3", "--name", "shadow")
    try:
        assert emulator.stdout is not None
        ready = await asyncio.wait_for(_line_matching(emulator.stdout, r"listening on"), LIMIT_S)
        url = re.search(r"(http://127\.0\.0\.1:\d+)", ready)
        assert url is not None
        symbol = await _far_call(url.group(1))
        config = _config(tmp_path, url.group(1), symbol)
        daemon = await _run_cycles(config, CYCLES)
        with Journal.open(tmp_path / "journal.sqlite") as journal:
            first = journal.paper.load("deribit")
        daemon = await _run_cycles(config, 2)  # a restart: the journal's book, not the declared
        assert daemon.returncode == 0
        with Journal.open(tmp_path / "journal.sqlite") as journal:
            second = journal.paper.load("deribit")
        fills = await _deltabot("fills", "--config", str(config))
        out, _ = await asyncio.wait_for(fills.communicate(), LIMIT_S)
    finally:
        if emulator.returncode is None:
            emulator.kill()
            await emulator.wait()
    assert re.search(r"BTC/USD:BTC (buy|sell) .* \(trade paper-", out.decode()), out.decode()
    assert first is not None and second is not None
    assert first.holdings[Symbol(symbol)] == second.holdings[Symbol(symbol)]  # size and basis
    assert first.holdings[Symbol(symbol)][0] == -5.0 and Symbol("BTC/USD:BTC") in first.holdings
    store = ChainStore(tmp_path / "store")
    recorded = {
        r["instrument"]
        for d in store.read("options", Partition("deribit", "BTC"))
        for r in d.to_pylist()
    }
    assert recorded == {symbol}
