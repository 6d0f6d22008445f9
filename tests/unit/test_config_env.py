"""Environment overrides of the config file: DELTABOT_<KEY>, DELTABOT_<SECTION>__<KEY>."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    Mode,
    VenueRole,
    load_config,
    resolve_config_path,
)
from bot.ops.logging import LogLevel

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def problems(environ: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(EXAMPLE, environ)
    return dict(info.value.errors)


def test_nested_variable_overrides_the_file() -> None:
    """DELTABOT_LOGGING__LEVEL=debug wins over level = "info" in the file."""
    config = load_config(EXAMPLE, {"DELTABOT_LOGGING__LEVEL": "debug"})
    assert config.logging.level is LogLevel.DEBUG
    assert load_config(EXAMPLE, {}).logging.level is LogLevel.INFO


def test_top_level_variable_overrides_the_file() -> None:
    """DELTABOT_MODE=paper wins over mode = "sim"."""
    assert load_config(EXAMPLE, {"DELTABOT_MODE": "paper"}).mode is Mode.PAPER


def test_variable_names_are_case_insensitive() -> None:
    """deltabot_logging__level works like DELTABOT_LOGGING__LEVEL."""
    config = load_config(EXAMPLE, {"deltabot_logging__level": "error"})
    assert config.logging.level is LogLevel.ERROR


def test_list_entry_overridden_by_index() -> None:
    """DELTABOT_VENUES__1__TESTNET=true changes only the second venue."""
    config = load_config(EXAMPLE, {"DELTABOT_VENUES__1__TESTNET": "true"})
    assert [v.testnet for v in config.venues] == [False, True]
    assert config.venues[1].name == "binance-a"


def test_deep_list_entry_overridden_by_index() -> None:
    """DELTABOT_SIM__UNDERLYINGS__0__VOL sets the first underlying's vol."""
    config = load_config(EXAMPLE, {"DELTABOT_SIM__UNDERLYINGS__0__VOL": "0.8"})
    assert config.sim is not None
    assert [u.vol for u in config.sim.underlyings] == [0.8, 0.7]


def test_whole_list_from_json() -> None:
    """DELTABOT_VENUES as JSON replaces the whole venue list."""
    venues = [
        {"name": "binance-a", "exchange": "binanceusdm", "role": ["hedge"]},
        {"name": "deribit-a", "exchange": "deribit", "role": ["options", "hedge"]},
    ]
    config = load_config(EXAMPLE, {"DELTABOT_VENUES": json.dumps(venues)})
    assert [v.name for v in config.venues] == ["binance-a", "deribit-a"]
    assert config.venues[0].role == (VenueRole.HEDGE,)


def test_bad_json_names_the_variable() -> None:
    """Unparseable JSON for a list is reported against its variable."""
    found = problems({"DELTABOT_VENUES": "deribit-a"})
    assert list(found) == ["DELTABOT_VENUES"]
    assert found["DELTABOT_VENUES"].startswith("not a valid value")


def test_index_past_the_end_is_reported() -> None:
    """Overriding venues[5] of a two-venue list is an error naming the variable."""
    found = problems({"DELTABOT_VENUES__5__TESTNET": "true"})
    assert found == {"DELTABOT_VENUES__5__TESTNET": "there is no venues[5] to override"}


def test_invalid_value_from_environment_names_its_variable() -> None:
    """A bad value set by a variable is reported at its key path, naming the variable."""
    found = problems({"DELTABOT_LOGGING__LEVEL": "loud"})
    assert list(found) == ["logging.level"]
    assert found["logging.level"].endswith("(got 'loud') (from DELTABOT_LOGGING__LEVEL)")


def test_unknown_key_from_environment_is_reported() -> None:
    """A misspelt nested key in a variable is an unknown key, naming the variable."""
    found = problems({"DELTABOT_LOGGING__LEVLE": "debug"})
    assert found == {
        "logging.levle": "unknown key (allowed here: level, format) (from DELTABOT_LOGGING__LEVLE)"
    }


def test_unknown_section_from_environment_is_reported() -> None:
    """DELTABOT_LOGING__LEVEL (typo in the section) is not silently ignored."""
    assert problems({"DELTABOT_LOGING__LEVEL": "debug"}) == {
        "DELTABOT_LOGING__LEVEL": "unknown config section 'loging'"
    }


def test_config_path_and_credentials_are_not_config_fields() -> None:
    """DELTABOT_CONFIG and credential variables never reach the config model."""
    environ = {
        "DELTABOT_CONFIG": "/elsewhere.toml",
        "DELTABOT_VENUE_DERIBIT_A_API_KEY": "key-value",
        "DELTABOT_VENUE_DERIBIT_A_API_SECRET": "secret-value",
        "DELTABOT_VENUE_DERIBIT_B_TESTNET_API_PASSWORD": "pass-value",
    }
    config = load_config(EXAMPLE, environ)
    assert "value" not in config.model_dump_json()


def test_secret_from_environment_override_is_refused() -> None:
    """DELTABOT_VENUES__0__API_KEY is refused, naming the credential variable to use."""
    found = problems({"DELTABOT_VENUES__0__API_KEY": "k-123456"})
    message = found["venues[0].api_key"]
    assert "set DELTABOT_VENUE_DERIBIT_A_API_KEY instead" in message
    assert message.endswith("(from DELTABOT_VENUES__0__API_KEY)")
    assert "k-123456" not in message


def test_config_path_resolution_order(tmp_path: Path) -> None:
    """An explicit path wins over DELTABOT_CONFIG, which wins over config.example.toml."""
    explicit, from_env = tmp_path / "a.toml", tmp_path / "b.toml"
    environ = {"DELTABOT_CONFIG": str(from_env)}
    assert resolve_config_path(explicit, environ) == explicit
    assert resolve_config_path(None, environ) == from_env
    assert resolve_config_path(None, {}) == DEFAULT_CONFIG_PATH == Path("config.example.toml")


def test_load_config_reads_the_file_named_by_deltabot_config(tmp_path: Path) -> None:
    """load_config(None, env) loads the file DELTABOT_CONFIG names."""
    path = tmp_path / "paper.toml"
    path.write_text(EXAMPLE.read_text().replace('mode = "sim"', 'mode = "paper"'))
    assert load_config(None, {"DELTABOT_CONFIG": str(path)}).mode is Mode.PAPER


def test_variable_is_read_as_the_toml_value_it_spells() -> None:
    """true, 60 and a JSON array set a bool, a number and an array; text keys keep the text."""
    config = load_config(
        EXAMPLE,
        {
            "DELTABOT_VENUES__1__TESTNET": "true",
            "DELTABOT_DAEMON__HEDGE_INTERVAL_S": "60",
            "DELTABOT_VENUES__0__ROLE": '["hedge"]',
            "DELTABOT_VENUES__0__ACCOUNT": "123",
        },
    )
    assert config.venues[1].testnet is True
    assert config.daemon.hedge_interval_s == 60.0
    assert config.venues[0].role == (VenueRole.HEDGE,)
    assert config.venues[0].account == "123"


def test_variable_spelling_no_toml_value_is_refused_by_strict_types() -> None:
    """yes is no bool and nan no number, from the environment as from the file."""
    found = problems({"DELTABOT_VENUES__1__TESTNET": "yes", "DELTABOT_SIM__SPEED": "nan"})
    assert found == {
        "venues[1].testnet": (
            "Input should be a valid boolean (got 'yes') (from DELTABOT_VENUES__1__TESTNET)"
        ),
        "sim.speed": "Input should be a finite number (got nan) (from DELTABOT_SIM__SPEED)",
    }


def test_deeply_nested_json_is_refused_naming_its_variable() -> None:
    """JSON nested 3000 deep would exhaust the recursion: one problem naming the variable."""
    found = problems({"DELTABOT_VENUES": "[" * 3000 + "]" * 3000})
    assert found == {"DELTABOT_VENUES": "nested more than 32 levels deep"}
