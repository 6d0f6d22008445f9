"""``deltabot data``: import-tardis and show end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.unit.test_chain_tardis import DOCUMENTED_ROW, OPTIONS_HEADER, option_row, write_csv


def test_import_then_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An import prints rows read and written; show lists the partition and its span."""
    src = write_csv(tmp_path / "o.csv.gz", OPTIONS_HEADER, [DOCUMENTED_ROW])
    store = tmp_path / "store"
    assert main(["data", "import-tardis", "--store", str(store), str(src)], {}) == 0
    assert "1 rows read" in capsys.readouterr().out
    assert main(["data", "show", "--store", str(store)], {}) == 0
    assert capsys.readouterr().out.split() == [
        "options",
        "deribit",
        "BTC",
        "2020-06-08T00:00:00.000Z",
        "..",
        "2020-06-08T00:00:00.000Z",
    ]


def test_bad_row_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad row exits 2 with one line naming file, line and column; nothing is written."""
    src = write_csv(tmp_path / "o.csv", OPTIONS_HEADER, [option_row(1, "x")])
    store = tmp_path / "store"
    assert main(["data", "import-tardis", "--store", str(store), str(src)], {}) == 2
    err = capsys.readouterr().err
    assert err == f"deltabot data: error: {src} line 2, column mark_price: 'x' is not a number\n"
    assert not any(store.rglob("*.parquet"))


def test_skip_lists_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--on-bad-row skip imports the rest and lists the skipped row."""
    src = write_csv(tmp_path / "o.csv", OPTIONS_HEADER, [option_row(1, "x"), DOCUMENTED_ROW])
    argv = ["data", "import-tardis", "--store", str(tmp_path / "s"), "--on-bad-row", "skip"]
    assert main([*argv, str(src)], {}) == 0
    assert f"  {src} line 2, column mark_price: 'x' is not a number" in capsys.readouterr().out
