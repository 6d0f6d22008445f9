"""``[[venues]]``: the exchange accounts the bot reads and trades.

Credentials are not here: they come from the environment (:mod:`bot.secrets`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.config.base import FrozenModel
from bot.domain.ids import VenueId

_VENUE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class Exchange(StrEnum):
    """ccxt exchange ids the bot has a normaliser for."""

    DERIBIT = "deribit"
    OKX = "okx"
    BYBIT = "bybit"
    BINANCE = "binance"


class VenueRole(StrEnum):
    """What an account is used for: holding the options book, or carrying the hedge."""

    OPTIONS = "options"
    HEDGE = "hedge"


class VenueConfig(FrozenModel):
    """One venue account (one set of credentials, one margin account)."""

    name: VenueId = Field(
        description=(
            "Account name used everywhere in the bot and in credential variable names: "
            "lowercase letters, digits and single '-', starting with a letter, at most 32 "
            "characters (e.g. 'deribit-a'). Required, unique."
        ),
    )
    exchange: Exchange = Field(
        description="ccxt exchange id: deribit | okx | bybit | binance. Required.",
    )
    account: str = Field(
        default="main",
        min_length=1,
        max_length=64,
        description="Sub-account label on the exchange, as the exchange names it. Default 'main'.",
    )
    role: tuple[VenueRole, ...] = Field(
        description=(
            "What the account is for, one or both of: options (holds the options book), "
            "hedge (carries hedge orders). Required, non-empty, no repeats."
        ),
    )
    testnet: bool = Field(
        default=False,
        description=(
            "Use the exchange testnet and the DELTABOT_VENUE_<NAME>_TESTNET_API_* credentials. "
            "Must be true in mode 'sandbox' and false in mode 'live'. Default false."
        ),
    )
    api_url: str | None = Field(
        default=None,
        description=(
            "Override of the exchange's REST base URL (http or https), e.g. an emulator on "
            "127.0.0.1. Default: none (ccxt's URL)."
        ),
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: VenueId) -> VenueId:
        if len(name) > 32 or _VENUE_NAME.fullmatch(name) is None:
            raise ValueError(
                "a venue name is 1-32 lowercase letters, digits and single '-', starting with "
                f"a letter (e.g. 'deribit-a'); got {name!r}"
            )
        return name

    @field_validator("role")
    @classmethod
    def _check_role(cls, role: tuple[VenueRole, ...]) -> tuple[VenueRole, ...]:
        if not role:
            raise ValueError("give at least one role: options, hedge or both")
        if len(set(role)) != len(role):
            raise ValueError(f"a role is listed twice: {[r.value for r in role]}")
        return role

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            if parts.username is not None or parts.password is not None:
                raise ValueError(
                    "api_url must not carry credentials (user:password@): "
                    "secrets come only from the environment"
                )
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"api_url must be an http(s) URL with a host; got {url!r}")
        return url
