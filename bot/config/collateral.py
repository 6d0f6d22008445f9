"""``[collateral]``: margin bands, venue trust, withdrawal routes and transfer caps.

The optimizer (:mod:`bot.domain.collateral`) sees accounts as (venue,
sub-account): ``[[collateral.venues]]`` names each venue with its
sub-accounts, trust and caps; ``[[collateral.routes]]`` lists the only
withdrawals the bot may make, each to an operator-whitelisted address.
Times are days and seconds here and become milliseconds in the pure core.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from bot.config.base import Array, Choice, FrozenModel, Loc, fail_at, repeats
from bot.domain.collateral.model import (
    AccountKey,
    MarginBand,
    OptimizerSettings,
    Route,
    TrustSettings,
)
from bot.domain.ids import Currency, VenueId
from bot.domain.timeunits import MS_PER_DAY
from bot.domain.transfer_risk import TransferLimits, TransferWhitelist, WhitelistedAddress

_CURRENCY = re.compile(r"[A-Z][A-Z0-9]{1,9}")

MAX_USD = 1e12
"""Largest USD amount of a cap or threshold."""

MAX_COIN = 1e9
"""Largest coin amount of a fee or minimum."""

MAX_RATIO = 1e12
"""Largest equity / maintenance-margin ratio of a band (a floor that high is never reached)."""


def _check_rates(rates: dict[str, float]) -> dict[str, float]:
    for currency, rate in rates.items():
        if _CURRENCY.fullmatch(currency) is None:
            raise ValueError(f"currency codes are upper case (e.g. 'USDC'); got {currency!r}")
        if not -1.0 <= rate <= 1.0:
            raise ValueError(f"{currency}: a yearly rate is a fraction in [-1, 1]; got {rate}")
    return rates


class CollateralMode(StrEnum):
    OFF = "off"
    """No optimizer runs; no transfers."""
    PLAN = "plan"
    """Plans are printed and wait for ``deltabot collateral approve ID``."""
    AUTO = "auto"
    """Plans go through the transfer gate and are sent."""


class BandConfig(FrozenModel):
    """Floor, target and ceiling of an account's equity / maintenance margin."""

    floor: float = Field(
        default=1.5,
        ge=0,
        le=MAX_RATIO,
        description=(
            "Equity / MM below which collateral is brought in (a ratio), in [0, 1e12]. Default 1.5."
        ),
    )
    target: float = Field(
        default=2.5,
        ge=0,
        le=MAX_RATIO,
        description=(
            "Equity / MM an account is brought to when acted on, in [floor, 1e12]. Default 2.5."
        ),
    )
    ceiling: float | None = Field(
        default=4.0,
        ge=0,
        le=MAX_RATIO,
        description=(
            "Equity / MM above which the surplus may be moved elsewhere, in [target, 1e12]; "
            "absent: no ceiling. Default 4.0."
        ),
    )

    @model_validator(mode="after")
    def _check_order(self) -> BandConfig:
        ceiling = self.ceiling if self.ceiling is not None else float("inf")
        if not self.floor <= self.target <= ceiling:
            fail_at("band", [((), "need floor <= target <= ceiling")])
        return self

    def to_domain(self) -> MarginBand:
        return MarginBand(self.floor, self.target, self.ceiling)


class CollateralVenue(FrozenModel):
    """One venue: the unit of counterparty trust, holding one or more sub-accounts."""

    name: VenueId = Field(description="Venue name, as in [[venues]] (e.g. 'deribit-a'). Required.")
    sub_accounts: Array[str] = Field(
        default=("main",),
        description=(
            "Its sub-accounts as the venue names them; sub-account transfers may go to these "
            "only. Default ['main'], non-empty, no repeats."
        ),
    )
    trust_score: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Trust in the venue, in [0, 1]; 1 = no exposure penalty. Default 1.",
    )
    max_share_frac: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Most of the total collateral the venue may hold, a fraction in (0, 1]. "
        "Default 1.",
    )
    max_collateral_usd: float | None = Field(
        default=None,
        gt=0,
        le=MAX_USD,
        description=(
            "Most collateral (equity) the venue may hold, in USD, in (0, 1e12]. Default: no cap."
        ),
    )
    attestation_date: date | None = Field(
        default=None,
        ge=date(2000, 1, 1),
        lt=date(2100, 1, 1),
        description=(
            "Date of the venue's latest proof-of-reserves attestation, a TOML date from "
            "2000-01-01 to before 2100-01-01. Default none."
        ),
    )
    max_attestation_age_days: float | None = Field(
        default=None,
        ge=0.001,
        le=3650,
        description=(
            "Oldest acceptable attestation, in days, in [0.001, 3650]; older or missing lowers the "
            "trust score by stale_attestation_score_factor. Default: no requirement."
        ),
    )
    band: BandConfig | None = Field(
        default=None, description="Margin band of its sub-accounts. Default: [collateral.band]."
    )
    idle_cost_frac_per_year: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Per-currency overrides of [collateral] idle_cost_frac_per_year at this venue "
            "(e.g. it pays interest on USDC), configured currencies, yearly fractions in "
            "[-1, 1]. Default none."
        ),
    )

    @field_validator("sub_accounts")
    @classmethod
    def _check_sub_accounts(cls, subs: tuple[str, ...]) -> tuple[str, ...]:
        if not subs or any(not s for s in subs) or len(set(subs)) != len(subs):
            raise ValueError(f"give one or more distinct, non-empty sub-accounts; got {subs}")
        return subs

    _rates = field_validator("idle_cost_frac_per_year")(_check_rates)

    def trust(self, stale_score_factor: float) -> TrustSettings:
        attested = None
        if self.attestation_date is not None:
            day = datetime.combine(self.attestation_date, datetime.min.time(), tzinfo=UTC)
            attested = round(day.timestamp() * 1000)
        max_age = self.max_attestation_age_days
        return TrustSettings(
            score=self.trust_score,
            max_share_frac=self.max_share_frac,
            max_collateral_usd=self.max_collateral_usd,
            attestation_ts_ms=attested,
            max_attestation_age_ms=None if max_age is None else round(max_age * MS_PER_DAY),
            stale_score_factor=stale_score_factor,
        )


class WithdrawalRoute(FrozenModel):
    """One whitelisted withdrawal: from a sub-account of a venue to an address at another."""

    from_venue: VenueId = Field(description="Venue withdrawn from. Required.")
    from_sub_account: str = Field(default="main", description="Its sub-account. Default 'main'.")
    to_venue: VenueId = Field(description="Venue credited, not from_venue. Required.")
    to_sub_account: str = Field(
        default="main", description="Sub-account the address credits. Default 'main'."
    )
    currency: str = Field(
        description="Currency withdrawn, a configured one, upper case (e.g. 'USDC'). Required."
    )
    address: str = Field(
        min_length=1, description="Whitelisted deposit address at to_venue. Required."
    )
    network: str | None = Field(
        default=None, description="Chain of the withdrawal (e.g. 'ERC20'). Default: venue default."
    )
    fee_coin: float = Field(
        default=0.0,
        ge=0,
        le=MAX_COIN,
        description="Withdrawal fee, in coin of the currency, in [0, 1e9]. Default 0.",
    )
    min_coin: float = Field(
        default=0.0,
        ge=0,
        le=MAX_COIN,
        description="Smallest withdrawal accepted, in coin, in [0, 1e9]. Default 0.",
    )
    delay_s: float = Field(
        default=3600.0,
        ge=0,
        le=30 * 86_400,
        description=(
            "Expected seconds until the deposit is credited, in [0, 2592000] (30 days). "
            "Default 3600."
        ),
    )

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, currency: str) -> str:
        if _CURRENCY.fullmatch(currency) is None:
            raise ValueError(f"currency codes are upper case (e.g. 'USDC'); got {currency!r}")
        return currency

    def to_domain(self) -> Route:
        return Route(
            source=AccountKey(self.from_venue, self.from_sub_account),
            destination=AccountKey(self.to_venue, self.to_sub_account),
            asset=Currency(self.currency),
            fee_coin=self.fee_coin,
            min_coin=self.min_coin,
            delay_ms=round(self.delay_s * 1000),
            address=self.address,
            network=self.network,
        )


class CollateralConfig(FrozenModel):
    """Bands, trust, routes and caps of the cross-venue collateral optimizer."""

    mode: Choice[CollateralMode] = Field(
        default=CollateralMode.OFF,
        description="off | plan (operator approves each plan) | auto. Default off.",
    )
    horizon_days: float = Field(
        default=7.0,
        ge=0.001,
        le=3650,
        description="How long a new allocation is expected to last, in days, in [0.001, 3650]: "
        "idle and trust rates are charged over it against one-off fees. Default 7.",
    )
    trust_penalty_frac_per_year: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Yearly penalty per USD held at a venue of trust score 0 (score s pays "
        "1 - s of it), a fraction in [0, 1]. Default 0.05.",
    )
    stale_attestation_score_factor: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Multiplier of a venue's trust score while its attestation is stale or "
        "missing, in [0, 1]. Default 0.5.",
    )
    accept_gap_usd: float = Field(
        default=50.0,
        ge=0,
        le=MAX_USD,
        description="A plan within this many USD of the LP bound is taken without branch and "
        "bound, in [0, 1e12]. Default 50.",
    )
    accept_gap_frac: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="A plan within this fraction of the LP bound's size is taken too, if "
        "that is more than accept_gap_usd, and branch and bound stops at it (a relative MIP "
        "gap), in [0, 1]. Default 0.01.",
    )
    idle_cost_frac_per_year: dict[str, float] = Field(
        default_factory=lambda: {"BTC": 0.0, "ETH": 0.0, "USDC": 0.05, "USDT": 0.05},
        description="Interest or opportunity cost of holding each configured currency at a "
        "venue, a yearly fraction in [-1, 1]. Default BTC 0, ETH 0, USDC 0.05, USDT 0.05.",
    )
    max_transfer_usd: float = Field(
        default=250_000.0,
        gt=0,
        le=MAX_USD,
        description="Largest single transfer, in USD, in (0, 1e12]. Default 250000.",
    )
    max_daily_transfer_usd: float = Field(
        default=1_000_000.0,
        gt=0,
        le=MAX_USD,
        description="Most moved in any rolling 24 hours, in USD (every kind counts), in "
        "[max_transfer_usd, 1e12]. Default 1000000.",
    )
    band: BandConfig = Field(
        default_factory=BandConfig, description="Default margin band. Default: see above."
    )
    venues: Array[CollateralVenue] = Field(
        default=(), description="One [[collateral.venues]] table per venue. Default none."
    )
    routes: Array[WithdrawalRoute] = Field(
        default=(),
        description="Whitelisted withdrawals, one [[collateral.routes]] each. Default none.",
    )

    _rates = field_validator("idle_cost_frac_per_year")(_check_rates)

    @model_validator(mode="after")
    def _check_references(self) -> CollateralConfig:
        problems: list[tuple[Loc, str]] = []
        if self.max_daily_transfer_usd < self.max_transfer_usd:
            msg = f"must be >= max_transfer_usd ({self.max_transfer_usd})"
            problems.append((("max_daily_transfer_usd",), msg))
        problems += [
            (("venues", i, "name"), f"duplicate venue {self.venues[i].name!r} (also venues[{j}])")
            for i, j in repeats([v.name for v in self.venues])
        ]
        subs = {v.name: v.sub_accounts for v in self.venues}
        for i, r in enumerate(self.routes):
            for side, venue, sub in (
                ("from", r.from_venue, r.from_sub_account),
                ("to", r.to_venue, r.to_sub_account),
            ):
                if venue not in subs:
                    problems.append((("routes", i, f"{side}_venue"), f"unknown venue {venue!r}"))
                elif sub not in subs[venue]:
                    msg = f"{sub!r} is not a sub-account of {venue} ({', '.join(subs[venue])})"
                    problems.append((("routes", i, f"{side}_sub_account"), msg))
            if r.from_venue == r.to_venue:
                msg = "a withdrawal goes to another venue (sub-account moves need no route)"
                problems.append((("routes", i, "to_venue"), msg))
        keys = [
            (r.from_venue, r.from_sub_account, r.to_venue, r.currency, r.network)
            for r in self.routes
        ]
        problems += [(("routes", i), f"same route as routes[{j}]") for i, j in repeats(keys)]
        if problems:
            fail_at("collateral", problems)
        return self

    def optimizer_settings(self) -> OptimizerSettings:
        return OptimizerSettings(
            horizon_ms=round(self.horizon_days * MS_PER_DAY),
            trust_penalty_frac_per_year=self.trust_penalty_frac_per_year,
            accept_gap_usd=self.accept_gap_usd,
            accept_gap_frac=self.accept_gap_frac,
        )

    def venue(self, name: VenueId) -> CollateralVenue | None:
        return next((v for v in self.venues if v.name == name), None)

    def band_for(self, name: VenueId) -> MarginBand:
        """The venue's band, else the default one."""
        venue = self.venue(name)
        band = venue.band if venue is not None and venue.band is not None else self.band
        return band.to_domain()

    def idle_costs(self, name: VenueId) -> dict[Currency, float]:
        """Yearly idle cost per currency at the venue: the defaults with its overrides."""
        venue = self.venue(name)
        rates = {**self.idle_cost_frac_per_year, **(venue.idle_cost_frac_per_year if venue else {})}
        return {Currency(c): r for c, r in sorted(rates.items())}

    def trust(self) -> dict[VenueId, TrustSettings]:
        factor = self.stale_attestation_score_factor
        return {v.name: v.trust(factor) for v in self.venues}

    def withdrawal_routes(self) -> tuple[Route, ...]:
        return tuple(r.to_domain() for r in self.routes)

    def transfer_limits(self) -> TransferLimits:
        return TransferLimits(self.max_transfer_usd, self.max_daily_transfer_usd)

    def whitelist(self) -> TransferWhitelist:
        """The only destinations the transfer gate lets through."""
        return TransferWhitelist(
            addresses=frozenset(
                WhitelistedAddress(r.from_venue, Currency(r.currency), r.address, r.network)
                for r in self.routes
            ),
            sub_accounts=frozenset((v.name, s) for v in self.venues for s in v.sub_accounts),
        )
