"""Regenerate examples/sample-chains: a SYNTHETIC chain store recorded from the emulator.

Usage: ``.venv/bin/python tools/record_sample.py [HOURS] [OUT_DIR]`` (default 8 hours into
examples/sample-chains). It runs ``deltabot demo`` (the daemon on the embedded
simulator, through the demo's bad day: a BTC crash and an ETH vol spike) with
``[record]`` on, so the store holds what the daemon polled: the marks, bid, ask,
IV and delta of config.example.toml's options and the marks, quotes and funding
of its hedge perpetuals. The prices are simulated: this is not market data. The
store replaces OUT_DIR whole, with a README saying so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEED = 480.0
"""Simulated seconds per wall second: eight hours in about a minute, a read every few minutes."""
FLUSH_S = 3600
"""One file per hour, venue, underlying and day keeps the store small."""
NOTE = """# SYNTHETIC sample chain store

Recorded from deltabot's **emulator**, not from a market: `deltabot demo` (the
daemon on the embedded simulator through a BTC crash and an ETH vol spike) with
`[record]` on, {hours:g} simulated hours from config.example.toml's `sim.start`.
It holds what the daemon polled: the marks, bid, ask, IV and delta of the
example book's options (venue deribit-a) and the quotes and funding rates of
its hedge perpetuals (binance-a). Use it to try the tools:

    deltabot backtest --config config.example.toml --history examples/sample-chains
    deltabot data show --store examples/sample-chains

Regenerate with `.venv/bin/python tools/record_sample.py`. For real data, import
Tardis.dev files (`deltabot data import-tardis`, see the README).
"""


def main(argv: list[str]) -> int:
    hours = float(argv[0]) if argv else 8.0
    out = Path(argv[1]) if len(argv) > 1 else REPO / "examples" / "sample-chains"
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        config = Path(tmp) / "record.toml"
        recording = f'[record]\nenabled = true\nstore = "{store}"\nflush_interval_s = {FLUSH_S}\n'
        start, end = example.index("[record]"), example.index("flush_interval_s = 300.0") + 25
        config.write_text(example[:start] + recording + example[end:], encoding="utf-8")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bot",
                "demo",
                "--config",
                str(config),
                "--hours",
                str(hours),
                "--speed",
                str(SPEED),
                "--journal",
                str(Path(tmp) / "j.sqlite"),
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(store, out)
    (out / "README.md").write_text(NOTE.format(hours=hours), encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
