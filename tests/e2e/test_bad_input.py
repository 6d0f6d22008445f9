"""Bad input on the command line ends in one clear line and exit 2, never a traceback; a reader
that closes stdout early is no error (exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.daemon_harness import REPO, cli_env, deltabot, deltabot_many

EXAMPLE = REPO / "config.example.toml"


def _one_line(code: int, out: str, err: str) -> str:
    """The single line a refused command printed on stderr, after checking it exited 2."""
    assert code == 2, out + err
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_demo_refuses_a_missing_directory_or_a_non_journal_at_once(tmp_path: Path) -> None:
    """demo with --journal or --plot in a missing directory, or --journal on a file that is not
    a database, exits 2 with one line naming the path."""
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("not a journal\n" * 100)
    missing = tmp_path / "missing"
    demo = ["demo", "--config", str(EXAMPLE), "--hours", "0.5"]
    journal_dir, journal_file, plot_dir = deltabot_many(
        [*demo, "--journal", str(missing / "journal.sqlite")],
        [*demo, "--journal", str(not_a_db)],
        [*demo, "--plot", str(missing / "chart.png")],
    )
    assert _one_line(*journal_dir) == (
        f"deltabot demo: cannot start: journal {missing}/journal.sqlite: cannot create its lock "
        f"file {missing}/journal.sqlite.lock: No such file or directory"
    )
    assert _one_line(*journal_file).startswith(
        f"deltabot demo: cannot start: journal {not_a_db} is not an SQLite database"
    )
    assert _one_line(*plot_dir) == (
        f"deltabot demo: cannot write the chart {missing}/chart.png: {missing} is not a directory"
    )


@pytest.mark.slow
def test_demo_that_cannot_write_its_chart_exits_2_after_the_run(tmp_path: Path) -> None:
    """A chart path that turns out unwritable (here a directory) ends the demo with exit 2
    and one line, not a traceback."""
    plot = tmp_path / "chart.png"
    plot.mkdir()
    code, out, err = deltabot(
        "demo", "--config", str(EXAMPLE), "--hours", "0.5", "--plot", str(plot)
    )
    # The run itself printed its progress lines ("demo: 0.1/0.5 h simulated ...") and its
    # streaming summary ("streaming: 32 trigger(s) ...") first.
    problems = "\n".join(
        line for line in err.splitlines() if not line.startswith(("demo: ", "streaming: "))
    )
    assert _one_line(code, out, problems) == (
        f"deltabot demo: cannot write the chart {plot}: Is a directory"
    )


def test_sim_venue_refuses_a_start_beyond_its_calendar_and_an_empty_name() -> None:
    """--start-ms 1e20 (as digits, or as a float) and --name '' exit 2 naming the problem."""
    venue = ["sim-venue", "--port", "0", "--seed", "1"]
    digits, as_float, nameless = deltabot_many(
        [*venue, "--start-ms", str(10**20)], [*venue, "--start-ms", "1e20"], [*venue, "--name", ""]
    )
    assert _one_line(*digits) == (
        f"sim-venue: start {10**20} ms is outside the simulated calendar: give epoch "
        "milliseconds from 0 (1970-01-01) to 32472172800000 (2999-01-01T08:00Z)"
    )
    code, out, err = as_float
    assert code == 2 and "Traceback" not in out + err
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith(
            "argument --start-ms: '1e20' is neither epoch milliseconds nor an ISO-8601 date/time "
            "like 2026-12-01T08:00Z"
        )
    )
    assert _one_line(*nameless) == (
        "sim-venue: a venue name is 1-32 lowercase letters, digits and single '-', starting "
        "with a letter (e.g. 'deribit-a'); got ''"
    )


BACKTEST = [
    "backtest", "--option", "call:100:0.0833:-1", "--strategy", "interval",
    "--param", "interval_s=3600",
]  # fmt: skip


def test_backtest_refuses_a_run_beyond_the_memory_limit_with_the_figure() -> None:
    """--steps 1000000000 exits 2 at once with the memory the run would need and the limit."""
    line = _one_line(*deltabot(*BACKTEST, "--steps", "1000000000", "--max-memory-gb", "8"))
    assert line == (
        "deltabot backtest: error: this run needs about 160,128.0 GB of memory (10,000 paths of "
        "1,000,000,001 prices, in chunks of 10,000, 1 strategy), more than the 8.0 GB allowed: "
        "fewer paths or steps, smaller chunks or fewer workers need less"
    )


def test_a_closed_stdout_is_not_an_error() -> None:
    """check-config into a pipe whose reader has gone (| head) exits 0 and says nothing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "check-config", str(EXAMPLE)],
            cwd=REPO,
            env=cli_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_book_position_of_1e308_is_refused_at_load_by_run_and_check_config(
    tmp_path: Path,
) -> None:
    """run and check-config exit 2 naming sim.book[0].size and its documented range."""
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text().replace("size = -5.0\n", "size = 1e308\n", 1))
    for code, out, err in deltabot_many(
        ["run", "--config", str(config)], ["check-config", str(config)]
    ):
        assert code == 2, out + err
        assert "Traceback" not in out + err
        assert err.splitlines() == [
            f"{config}: invalid config, 1 problem:",
            "  sim.book[0].size: Input should be less than or equal to 1000000000000 (got 1e+308)",
        ]
