"""API credentials: read only from the environment, never shown.

Secrets never live in the config file (docs/architecture.md §5): files get copied,
committed and pasted into bug reports. Each venue account ``<name>`` reads
``DELTABOT_VENUE_<NAME>_API_KEY`` / ``_API_SECRET`` (and ``_API_PASSWORD``, the
passphrase OKX needs), where ``<NAME>`` is the venue name upper-cased with '-'
turned into '_'. Testnet keys live in separate ``..._TESTNET_API_*`` variables
so a testnet run can never pick up live keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import SecretStr

MASK = "**********"
"""What a secret value is shown as (the same mask pydantic's ``SecretStr`` uses)."""

_CREDENTIAL_VAR = re.compile(r"DELTABOT_VENUE_\w+?_(?:TESTNET_)?API_(?:KEY|SECRET|PASSWORD)")
_SECRET_WORDS = (
    "apikey",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "signature",
    "authorization",
    "privatekey",
    "accesskey",
    "accesssign",
    "apisign",
    "credential",
    "cookie",
)
_SECRET_NAMES = frozenset({"key", "sig", "sign", "auth"})


@dataclass(frozen=True, slots=True)
class CredentialVars:
    """Names of the environment variables holding one venue account's credentials."""

    api_key: str
    api_secret: str
    password: str


@dataclass(frozen=True, slots=True)
class VenueCredentials:
    """API credentials of one venue account; ``repr`` shows only masks."""

    api_key: SecretStr
    api_secret: SecretStr
    password: SecretStr | None = None


class CredentialsError(ValueError):
    """The environment holds half a credential pair: a typo that must not pass silently."""


def credential_vars(venue: str, *, testnet: bool) -> CredentialVars:
    """Environment variable names for ``venue`` (its config name, e.g. ``deribit-a``)."""
    stem = "DELTABOT_VENUE_" + venue.upper().replace("-", "_") + ("_TESTNET" if testnet else "")
    return CredentialVars(f"{stem}_API_KEY", f"{stem}_API_SECRET", f"{stem}_API_PASSWORD")


def venue_credentials(
    venue: str, *, testnet: bool, environ: Mapping[str, str]
) -> VenueCredentials | None:
    """Credentials of ``venue`` from ``environ``, or None when neither key nor secret is set.

    Empty values count as unset. Raises :class:`CredentialsError` naming the
    missing variable when only one of key and secret is set.
    """
    names = credential_vars(venue, testnet=testnet)
    key, secret = environ.get(names.api_key, ""), environ.get(names.api_secret, "")
    if not key and not secret:
        return None
    if not (key and secret):
        have, missing = (
            (names.api_key, names.api_secret) if key else (names.api_secret, names.api_key)
        )
        raise CredentialsError(f"{have} is set but {missing} is not: set both or neither")
    password = environ.get(names.password, "")
    return VenueCredentials(
        SecretStr(key), SecretStr(secret), SecretStr(password) if password else None
    )


def is_credential_var(name: str) -> bool:
    """Whether ``name`` is a venue credential variable (so never a config override)."""
    return _CREDENTIAL_VAR.fullmatch(name.upper()) is not None


def looks_secret(key: str) -> bool:
    """Whether a field or header named ``key`` probably holds a secret.

    Errs on the side of masking: ``x-mbx-apikey``, ``OK-ACCESS-SIGN``,
    ``Authorization`` and ``api_secret`` all count.
    """
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm in _SECRET_NAMES or any(word in norm for word in _SECRET_WORDS)


def configured_secrets(
    venues: Iterable[tuple[str, bool]], environ: Mapping[str, str]
) -> list[SecretStr]:
    """Every credential value the environment holds for ``(venue name, testnet)`` pairs,
    for the log redactor to mask wherever they might surface."""
    found: list[SecretStr] = []
    for name, testnet in venues:
        creds = venue_credentials(name, testnet=testnet, environ=environ)
        if creds is not None:
            found += [creds.api_key, creds.api_secret]
            found += [creds.password] if creds.password is not None else []
    return found
