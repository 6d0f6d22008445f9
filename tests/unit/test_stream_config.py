"""``[stream]``: documented defaults, validation with key paths, and which venues stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.config_check import stream_status
from bot.config import Config, ConfigError, load_config

BASE = """
[[venues]]
name = "deribit-a"
exchange = "deribit"
role = ["options", "hedge"]

[[venues]]
name = "binance-a"
exchange = "binanceusdm"
role = ["hedge"]

[sim]
start = 2026-12-01T08:00:00Z

[[sim.underlyings]]
name = "BTC"
spot_usd = 60000.0
vol = 0.6
"""


def load(tmp_path: Path, stream: str = "") -> Config:
    path = tmp_path / "deltabot.toml"
    path.write_text(BASE + stream, encoding="utf-8")
    return load_config(path, {})


def problems(tmp_path: Path, stream: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, stream)
    return dict(info.value.errors)


def test_deribit_streams_and_binance_stays_rest_only_by_default(tmp_path: Path) -> None:
    """By default the Deribit venue streams; the Binance one is off: REST only."""
    status = dict(stream_status(load(tmp_path)))
    assert status["deribit-a"].startswith("streaming")
    assert status["binance-a"] == "off: REST only (binanceusdm has no stream support)"


def test_rest_only_and_enabled_switch_venues_off(tmp_path: Path) -> None:
    """rest_only keeps a venue polling; enabled = false turns every stream off."""
    kept = dict(stream_status(load(tmp_path, '[stream]\nrest_only = ["deribit-a"]\n')))
    assert kept["deribit-a"] == "off: [stream] rest_only"
    off = dict(stream_status(load(tmp_path, "[stream]\nenabled = false\n")))
    assert off["deribit-a"] == "off: [stream] enabled = false"


def test_an_unknown_rest_only_venue_is_refused_at_its_path(tmp_path: Path) -> None:
    """rest_only naming no configured venue is an error at stream.rest_only[0]."""
    found = problems(tmp_path, '[stream]\nrest_only = ["okx-z"]\n')
    assert "'okx-z' is not configured" in found["stream.rest_only[0]"]


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("index_move_frac = 0", "stream.index_move_frac", "greater than 0"),
        ("min_spacing_s = -1", "stream.min_spacing_s", "greater than or equal to 0"),
        ("reconnect_min_s = 5\nreconnect_max_s = 1", "stream", "exceeds reconnect_max_s"),
    ],
)
def test_bad_thresholds_are_refused(tmp_path: Path, text: str, path: str, words: str) -> None:
    """A zero move fraction, a negative spacing or a back-off upside down is one clear error."""
    assert words in problems(tmp_path, f"[stream]\n{text}\n")[path]
