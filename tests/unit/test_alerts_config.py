"""``[alerts]``: channel URLs only from the environment, checked offline, shown masked."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from bot.commands import check_config
from bot.config import ConfigError, load_config
from bot.engine.alert_channels import (
    AlertChannelError,
    build_channels,
    channel_problems,
    masked,
    notifier,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "123456789:AAE-very-secret-token"


def config_with(tmp_path: Path, alerts: str) -> Path:
    """config.example.toml with ``alerts`` appended (a [[alerts.channels]] table, say)."""
    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.example.toml").read_text() + "\n" + alerts)
    return path


CHANNEL = '[[alerts.channels]]\nname = "tg"\nurl_env = "DELTABOT_ALERT_TG"\n'


class TestConfig:
    def test_a_url_in_the_file_is_refused_with_what_to_do(self, tmp_path: Path) -> None:
        """url_env holding a URL fails at its key, saying to put it in a variable."""
        path = config_with(tmp_path, CHANNEL.replace("DELTABOT_ALERT_TG", "tgram://tok/1"))
        with pytest.raises(ConfigError) as info:
            load_config(path, {})
        [(where, message)] = info.value.errors
        assert where == "alerts.channels[0].url_env"
        assert "looks like a URL" in message and "environment variable" in message

    def test_bad_names_times_and_duplicates_are_refused(self, tmp_path: Path) -> None:
        """A lower-case variable name, 24:00 and a repeated channel name each fail at their key."""
        bad = CHANNEL.replace("DELTABOT_ALERT_TG", "lower") + CHANNEL
        path = config_with(tmp_path, bad)
        text = path.read_text().replace(
            'daily_summary_utc = "08:00"', 'daily_summary_utc = "24:00"'
        )
        path.write_text(text)
        with pytest.raises(ConfigError) as info:
            load_config(path, {})
        where = {w for w, _ in info.value.errors}
        assert where == {"alerts.channels[0].url_env", "alerts.daily_summary_utc"}
        path.write_text(text.replace('"24:00"', '"08:00"').replace('"lower"', '"DELTABOT_X"'))
        with pytest.raises(ConfigError) as info:
            load_config(path, {})
        assert [w for w, _ in info.value.errors] == ["alerts.channels[1].name"]

    def test_the_summary_time_is_minutes_after_midnight(self) -> None:
        """daily_summary_utc 08:00 is minute 480."""
        assert load_config(ROOT / "config.example.toml", {}).alerts.summary_minute_utc == 480


class TestChannels:
    def test_an_unset_variable_and_an_unparseable_url_are_problems(self, tmp_path: Path) -> None:
        """Unset: it says to export it; unparseable: it shows only the scheme."""
        alerts = load_config(config_with(tmp_path, CHANNEL), {}).alerts
        [(_, unset)] = channel_problems(alerts, {})
        assert unset == "DELTABOT_ALERT_TG is not set: export the apprise URL there"
        [(_, bad)] = channel_problems(alerts, {"DELTABOT_ALERT_TG": f"nosuch://{SECRET}"})
        assert bad == "DELTABOT_ALERT_TG holds nosuch://***, which apprise cannot parse"
        with pytest.raises(AlertChannelError, match="is not set"):
            build_channels(alerts, {})

    def test_a_good_url_builds_a_channel_that_never_shows_its_token(self, tmp_path: Path) -> None:
        """A Telegram URL parses offline; the channel shows tgram://*** and its repr no token."""
        alerts = load_config(config_with(tmp_path, CHANNEL), {}).alerts
        [channel] = build_channels(alerts, {"DELTABOT_ALERT_TG": f"tgram://{SECRET}/42"})
        assert channel.masked_url == "tgram://***"
        assert SECRET not in repr(channel)
        assert masked("no scheme at all") == "***"

    def test_apprise_logs_nothing_of_a_url(self, caplog: pytest.LogCaptureFixture) -> None:
        """apprise's own (debug and error) lines about a URL never reach the logs."""
        caplog.set_level(logging.DEBUG)
        assert notifier(f"tgram://{SECRET}/42") is not None
        assert notifier(f"nosuch://{SECRET}") is None
        assert SECRET not in caplog.text


def test_check_config_shows_channels_masked_and_refuses_an_unset_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config prints the channel with tgram://*** (the token nowhere) or exits 2 naming
    the unset variable."""
    path = config_with(tmp_path, CHANNEL)
    args = argparse.Namespace(path=path, config=None)
    assert check_config.run(args, {"DELTABOT_ALERT_TG": f"tgram://{SECRET}/42"}) == 0
    out = capsys.readouterr()
    assert "tgram://***" in out.out and SECRET not in out.out + out.err
    assert check_config.run(args, {}) == 2
    err = capsys.readouterr().err
    assert "alerts.channels[0].url_env: DELTABOT_ALERT_TG is not set" in err
