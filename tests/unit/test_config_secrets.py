"""Venue credentials come only from the environment and are never shown."""

from __future__ import annotations

import pytest

from bot.secrets import (
    MASK,
    CredentialsError,
    credential_vars,
    is_credential_var,
    looks_secret,
    venue_credentials,
)

LIVE = {
    "DELTABOT_VENUE_DERIBIT_A_API_KEY": "live-key-1234",
    "DELTABOT_VENUE_DERIBIT_A_API_SECRET": "live-secret-5678",
}
TESTNET = {
    "DELTABOT_VENUE_DERIBIT_A_TESTNET_API_KEY": "test-key-1234",
    "DELTABOT_VENUE_DERIBIT_A_TESTNET_API_SECRET": "test-secret-5678",
}


def test_variable_names_upper_case_the_venue_and_map_dashes() -> None:
    """deribit-a reads DELTABOT_VENUE_DERIBIT_A_API_*, testnet adds _TESTNET."""
    live = credential_vars("deribit-a", testnet=False)
    assert (live.api_key, live.api_secret, live.password) == (
        "DELTABOT_VENUE_DERIBIT_A_API_KEY",
        "DELTABOT_VENUE_DERIBIT_A_API_SECRET",
        "DELTABOT_VENUE_DERIBIT_A_API_PASSWORD",
    )
    assert credential_vars("okx-2", testnet=True).api_key == "DELTABOT_VENUE_OKX_2_TESTNET_API_KEY"


def test_credentials_are_read_from_the_given_environment() -> None:
    """Key and secret come back as SecretStr; the password is optional."""
    creds = venue_credentials("deribit-a", testnet=False, environ=LIVE)
    assert creds is not None
    assert creds.api_key.get_secret_value() == "live-key-1234"
    assert creds.api_secret.get_secret_value() == "live-secret-5678"
    assert creds.password is None
    with_password = {**LIVE, "DELTABOT_VENUE_DERIBIT_A_API_PASSWORD": "phrase"}
    creds = venue_credentials("deribit-a", testnet=False, environ=with_password)
    assert creds is not None
    assert creds.password is not None
    assert creds.password.get_secret_value() == "phrase"


def test_no_credentials_is_none() -> None:
    """Nothing set (or only empty values) means no credentials."""
    assert venue_credentials("deribit-a", testnet=False, environ={}) is None
    empty = dict.fromkeys(LIVE, "")
    assert venue_credentials("deribit-a", testnet=False, environ=empty) is None


def test_testnet_and_live_keys_never_mix() -> None:
    """A testnet venue ignores live keys and a live venue ignores testnet keys."""
    assert venue_credentials("deribit-a", testnet=True, environ=LIVE) is None
    assert venue_credentials("deribit-a", testnet=False, environ=TESTNET) is None
    creds = venue_credentials("deribit-a", testnet=True, environ={**LIVE, **TESTNET})
    assert creds is not None
    assert creds.api_key.get_secret_value() == "test-key-1234"


def test_half_a_pair_is_an_error_naming_the_missing_variable() -> None:
    """A key without its secret raises, naming both variables and no value."""
    only_key = {"DELTABOT_VENUE_DERIBIT_A_API_KEY": "live-key-1234"}
    with pytest.raises(CredentialsError) as info:
        venue_credentials("deribit-a", testnet=False, environ=only_key)
    message = str(info.value)
    assert message == (
        "DELTABOT_VENUE_DERIBIT_A_API_KEY is set but DELTABOT_VENUE_DERIBIT_A_API_SECRET is not: "
        "set both or neither"
    )


def test_repr_and_str_show_only_masks() -> None:
    """repr and str of credentials never contain the values."""
    creds = venue_credentials(
        "deribit-a",
        testnet=False,
        environ={**LIVE, "DELTABOT_VENUE_DERIBIT_A_API_PASSWORD": "phrase-999"},
    )
    for text in (repr(creds), str(creds), f"{creds}"):
        assert MASK in text
        for value in ("live-key-1234", "live-secret-5678", "phrase-999"):
            assert value not in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DELTABOT_VENUE_DERIBIT_A_API_KEY", True),
        ("DELTABOT_VENUE_DERIBIT_A_TESTNET_API_SECRET", True),
        ("deltabot_venue_okx_api_password", True),
        ("DELTABOT_VENUES__0__NAME", False),
        ("DELTABOT_CONFIG", False),
        ("DELTABOT_LOGGING__LEVEL", False),
    ],
)
def test_credential_variables_are_recognised(name: str, expected: bool) -> None:
    """Only DELTABOT_VENUE_<NAME>_[TESTNET_]API_{KEY,SECRET,PASSWORD} are credential variables."""
    assert is_credential_var(name) is expected


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "apiKey",
        "secret",
        "api_secret",
        "password",
        "passphrase",
        "token",
        "access_token",
        "signature",
        "Authorization",
        "X-MBX-APIKEY",
        "OK-ACCESS-SIGN",
        "X-BAPI-SIGN",
        "sign",
        "private_key",
        "key",
    ],
)
def test_secret_looking_names(key: str) -> None:
    """Names that commonly carry credentials are recognised whatever their case or separators."""
    assert looks_secret(key)


@pytest.mark.parametrize(
    "key", ["name", "level", "venue", "spot_usd", "strike_usd", "event", "url"]
)
def test_ordinary_names_are_not_secret(key: str) -> None:
    """Config and log field names in use are not mistaken for secrets."""
    assert not looks_secret(key)
