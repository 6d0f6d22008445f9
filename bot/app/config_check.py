"""What ``deltabot check-config`` adds to validation: the credentials the environment holds.

A half-set key pair is a problem in any mode; a missing one only where the
mode trades on a real account. Values are never shown, only whether each
variable is set.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import Config, Mode
from bot.secrets import MASK, CredentialsError, credential_vars, venue_credentials

_NEEDS_CREDENTIALS = (Mode.SANDBOX, Mode.LIVE)


def credential_problems(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Half-set credential pairs, and missing ones where the mode trades on a real account."""
    problems = []
    for i, venue in enumerate(config.venues):
        try:
            creds = venue_credentials(venue.name, testnet=venue.testnet, environ=environ)
        except CredentialsError as exc:
            problems.append((f"venues[{i}]", str(exc)))
            continue
        if creds is None and config.mode in _NEEDS_CREDENTIALS:
            names = credential_vars(venue.name, testnet=venue.testnet)
            problems.append(
                (
                    f"venues[{i}]",
                    f"mode {config.mode.value} needs credentials: "
                    f"set {names.api_key} and {names.api_secret}",
                )
            )
    return problems


def credential_status(config: Config, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each venue's credential variables and whether each is set (masked), never the value."""
    rows = []
    for venue in config.venues:
        names = credential_vars(venue.name, testnet=venue.testnet)
        for var, unset in (
            (names.api_key, "not set"),
            (names.api_secret, "not set"),
            (names.password, "not set (only for exchanges with a passphrase)"),
        ):
            rows.append((var, f"set {MASK}" if environ.get(var) else unset))
    return rows
