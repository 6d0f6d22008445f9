"""``deltabot sim-venue --start-ms`` takes epoch ms or an ISO-8601 time."""

from __future__ import annotations

import argparse

import pytest

from bot.commands.sim_venue import _start_ms


def test_iso_and_epoch_ms_name_the_same_start() -> None:
    """2026-12-01T08:00Z and its epoch ms give the same start."""
    assert _start_ms("2026-12-01T08:00Z") == _start_ms("1796112000000") == 1_796_112_000_000


def test_anything_else_names_both_forms() -> None:
    """A float is refused with a message naming epoch ms and ISO-8601."""
    with pytest.raises(argparse.ArgumentTypeError, match="epoch milliseconds nor an ISO-8601"):
        _start_ms("1e20")
