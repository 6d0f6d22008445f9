"""Atomic file writes: private by default, charts readable as any new file under the umask."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.files import SHARED_MODE, save_png_atomically, write_atomically


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class _Figure:
    """Stands in for a matplotlib figure: ``savefig`` writes fixed bytes."""

    def savefig(self, out: object, **_: object) -> None:
        assert isinstance(out, io.BytesIO)
        out.write(b"\x89PNG fake")


class TestWriteAtomically:
    def test_private_by_default(self, tmp_path: Path, umask_022: None) -> None:
        """A plain atomic write (the halt marker) is 0600, whatever the umask allows."""
        target = tmp_path / "marker"
        write_atomically(target, b"x")
        assert target.read_bytes() == b"x" and _mode(target) == 0o600

    def test_shared_mode_follows_the_umask(self, tmp_path: Path, umask_022: None) -> None:
        """The shared mode is 0644 under umask 022 and 0640 under umask 027."""
        target = tmp_path / "a"
        write_atomically(target, b"x", mode=SHARED_MODE)
        os.umask(0o027)
        other = tmp_path / "b"
        write_atomically(other, b"x", mode=SHARED_MODE)
        assert (_mode(target), _mode(other)) == (0o644, 0o640)

    def test_replacing_a_file_leaves_only_it(self, tmp_path: Path) -> None:
        """A second write replaces the first and leaves no temp file beside it."""
        target = tmp_path / "f"
        write_atomically(target, b"one")
        write_atomically(target, b"two")
        assert target.read_bytes() == b"two" and os.listdir(tmp_path) == ["f"]


def test_a_chart_is_written_0644(tmp_path: Path, umask_022: None) -> None:
    """save_png_atomically writes charts 0644 under umask 022: they are made to be shared."""
    target = tmp_path / "chart.png"
    save_png_atomically(_Figure(), target)
    assert _mode(target) == 0o644
