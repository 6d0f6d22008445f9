"""``[[venues]]``: the exchange accounts the bot reads and trades.

Credentials are not here: they come from the environment (:mod:`bot.secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from bot.config.base import Array, Choice, FrozenModel, fail_at
from bot.domain.ids import VenueId, venue_id


class Exchange(StrEnum):
    """ccxt exchange ids the bot has a normaliser for."""

    DERIBIT = "deribit"
    OKX = "okx"
    BYBIT = "bybit"
    BINANCE = "binance"
    BINANCEUSDM = "binanceusdm"


SIM_EXCHANGES = (Exchange.DERIBIT, Exchange.BINANCEUSDM)
"""The exchanges mode sim simulates (embedded, or ``deltabot sim-venue``), one dialect each."""


class VenueRole(StrEnum):
    """What an account is used for: holding the options book, or carrying the hedge."""

    OPTIONS = "options"
    HEDGE = "hedge"


_SUBACCOUNT_WALLETS: Mapping[Exchange, tuple[str, ...]] = MappingProxyType(
    {
        Exchange.DERIBIT: (),
        Exchange.OKX: ("6", "18"),
        Exchange.BYBIT: ("UNIFIED", "FUND", "CONTRACT", "SPOT"),
        Exchange.BINANCE: ("SPOT", "USDT_FUTURE", "COIN_FUTURE", "MARGIN"),
        Exchange.BINANCEUSDM: ("SPOT", "USDT_FUTURE", "COIN_FUTURE", "MARGIN"),
    }
)
"""Account types each exchange's sub-account transfer takes (Deribit moves whole accounts)."""


class VenueConfig(FrozenModel):
    """One venue account (one set of credentials, one margin account)."""

    name: VenueId = Field(
        description=(
            "Account name used everywhere in the bot and in credential variable names: "
            "lowercase letters, digits and single '-', starting with a letter, at most 32 "
            "characters (e.g. 'deribit-a'). Required, unique."
        ),
    )
    exchange: Choice[Exchange] = Field(
        description=(
            "ccxt exchange id: deribit | okx | bybit | binance | binanceusdm (Binance "
            "USDⓈ-M futures only); mode sim simulates deribit and binanceusdm. Required."
        ),
    )
    account: str = Field(
        default="main",
        min_length=1,
        max_length=64,
        description="Sub-account label on the exchange, as the exchange names it. Default 'main'.",
    )
    role: Array[Choice[VenueRole]] = Field(
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
            "127.0.0.1; in mode sim a standalone emulator (deltabot sim-venue), set on every "
            "venue or on none. Default: none (ccxt's URL)."
        ),
    )

    subaccounts: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Sub-account label -> the exchange's identifier of that account, for sub-account "
            "transfers (labels as in 'account' and in transfer destinations): OKX sub-account "
            "name, Bybit member UID (digits; the master 'main' needs its UID too), Binance "
            "sub-account email. The master 'main' needs no entry on OKX and Binance. Deribit "
            "takes the destination as given and ignores this. A transfer naming a label "
            "without an entry is refused unsent. Default {} (none)."
        ),
    )
    subaccount_wallet: str | None = Field(
        default=None,
        description=(
            "Account type that sub-account transfers move from and to, on both sides: OKX "
            "6 (funding) | 18 (trading), Bybit UNIFIED | FUND | CONTRACT | SPOT, Binance "
            "SPOT | USDT_FUTURE | COIN_FUTURE | MARGIN. Default per exchange: OKX 18, Bybit "
            "UNIFIED, Binance USDT_FUTURE; Deribit has none and must leave it unset."
        ),
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: VenueId) -> VenueId:
        return venue_id(name)

    @field_validator("role")
    @classmethod
    def _check_role(cls, role: tuple[VenueRole, ...]) -> tuple[VenueRole, ...]:
        if not role:
            raise ValueError("give at least one role: options, hedge or both")
        if len(set(role)) != len(role):
            raise ValueError(f"a role is listed twice: {[r.value for r in role]}")
        return role

    @field_validator("subaccounts")
    @classmethod
    def _check_subaccounts(cls, ids: dict[str, str]) -> dict[str, str]:
        blank = sorted(label for label, venue_id in ids.items() if not label or not venue_id)
        if blank:
            raise ValueError(f"sub-account labels and identifiers must not be empty: {blank}")
        return ids

    @model_validator(mode="after")
    def _check_subaccount_transfer(self) -> VenueConfig:
        """An identifier or wallet the exchange cannot take would only fail at a transfer."""
        if self.exchange is Exchange.BYBIT:
            bad = sorted(label for label, uid in self.subaccounts.items() if not uid.isdigit())
            if bad:
                fail_at("venue", [(("subaccounts",), f"a Bybit member UID is digits; check {bad}")])
        wallet = self.subaccount_wallet
        if wallet is None:
            return self
        allowed = _SUBACCOUNT_WALLETS[self.exchange]
        if wallet not in allowed:
            options = " | ".join(allowed) if allowed else "none (leave it unset)"
            message = f"{wallet!r} is not an account type of {self.exchange.value}; use {options}"
            fail_at("venue", [(("subaccount_wallet",), message)])
        return self

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
