"""The top-level :class:`Config` and its small sections.

Adding a section is one field on :class:`Config` (its model derives from
:class:`bot.config.base.FrozenModel`), one table in ``config.example.toml``
(a test checks every field is documented there), and, when it must agree
with another section, one ``field_validator`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.base import FrozenModel, Loc, fail_at, repeats
from bot.config.collateral import CollateralConfig
from bot.config.daemon import DaemonConfig
from bot.config.hedging import HedgeRouteConfig, StrategyConfig, check_routes
from bot.config.margin import MarginConfig
from bot.config.metrics import MetricsConfig
from bot.config.paper import PaperConfig
from bot.config.risk import RiskConfig
from bot.config.sim import SimConfig
from bot.config.stress import StressConfig
from bot.config.venues import VenueConfig, VenueRole
from bot.domain.exposure import Numeraire
from bot.domain.ids import VenueId
from bot.ops.logging import LogFormat, LogLevel

ENV_PREFIX = "DELTABOT_"
ENV_NESTED_DELIMITER = "__"


class Mode(StrEnum):
    """Where market data comes from and where orders go (docs/architecture.md §6)."""

    SIM = "sim"
    PAPER = "paper"
    SANDBOX = "sandbox"
    LIVE = "live"


class LoggingConfig(FrozenModel):
    """``[logging]``: how much the daemon says and in which shape."""

    level: LogLevel = Field(
        default=LogLevel.INFO,
        description="Lowest level written: debug | info | warning | error. Default info.",
    )
    format: LogFormat = Field(
        default=LogFormat.AUTO,
        description=(
            "auto (console on a terminal, JSON lines otherwise) | json | console. Default auto."
        ),
    )


class Config(BaseSettings):
    """The whole validated configuration: TOML file first, ``DELTABOT_*`` variables over it.

    Build it with :func:`bot.config.load_config`, which injects the
    environment; the model itself never reads the process environment.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        case_sensitive=False,
    )

    mode: Mode = Field(
        default=Mode.SIM,
        description=(
            "sim (embedded simulated market) | paper (real data, local fills) | sandbox "
            "(exchange testnets) | live. Default sim."
        ),
    )
    numeraire: Numeraire = Field(
        default=Numeraire.USD,
        description=(
            "Currency the book is hedged neutral in: usd (coin collateral counts as delta) | "
            "coin. Default usd."
        ),
    )
    logging: LoggingConfig = Field(
        default_factory=LoggingConfig, description="Log level and format. Default: see [logging]."
    )
    venues: tuple[VenueConfig, ...] = Field(
        description="Exchange accounts, one [[venues]] table each. Required, at least one.",
    )
    risk: RiskConfig = Field(
        default_factory=RiskConfig,
        description="Caps and guards of the risk gate. Default: see [risk].",
    )
    strategy: StrategyConfig = Field(
        default_factory=StrategyConfig,
        description="The hedging strategy and its parameters. Default: see [strategy].",
    )
    hedges: tuple[HedgeRouteConfig, ...] = Field(
        default=(),
        description=(
            "Hedge instruments per underlying, one [[hedges]] table each. Default none: "
            "nothing is hedged (the daemon still values and reports the book)."
        ),
    )
    daemon: DaemonConfig = Field(
        default_factory=DaemonConfig,
        description="Journal location and job intervals. Default: see [daemon].",
    )
    margin: MarginConfig = Field(
        default_factory=MarginConfig,
        description="Margin models, liquidation search and drift alerts. Default: see [margin].",
    )
    collateral: CollateralConfig = Field(
        default_factory=CollateralConfig,
        description="Collateral bands, trust, routes and caps. Default: see [collateral].",
    )
    stress: StressConfig = Field(
        default_factory=StressConfig,
        description="Stress grid, named and custom scenarios, light pass. Default: see [stress].",
    )
    metrics: MetricsConfig = Field(
        default_factory=MetricsConfig,
        description="The /metrics, /health and /status HTTP server. Default: see [metrics].",
    )
    paper: PaperConfig = Field(
        default_factory=PaperConfig,
        description="Cash and fees of the local fills in mode paper. Default: see [paper].",
    )
    sim: SimConfig | None = Field(
        default=None,
        validate_default=True,
        description="Simulated market and starting book. Required in mode sim, default none.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values passed in: the loader merges file and injected environment."""
        return (init_settings,)

    @field_validator("venues")
    @classmethod
    def _check_venues(
        cls, venues: tuple[VenueConfig, ...], info: ValidationInfo
    ) -> tuple[VenueConfig, ...]:
        if not venues:
            raise ValueError("at least one venue is needed: add a [[venues]] table")
        mode = info.data.get("mode")
        problems: list[tuple[Loc, str]] = [
            ((i, "name"), f"duplicate venue name {venues[i].name!r} (also venues[{j}])")
            for i, j in repeats([v.name for v in venues])
        ]
        for i, venue in enumerate(venues):
            if mode is Mode.SANDBOX and not venue.testnet:
                problems.append(((i, "testnet"), "mode sandbox trades on testnets only: set true"))
            if mode is Mode.LIVE and venue.testnet:
                problems.append(((i, "testnet"), "mode live cannot use a testnet venue"))
        if not any(VenueRole.HEDGE in v.role for v in venues):
            problems.append(((), "no venue has role 'hedge': there is nowhere to hedge"))
        if problems:
            fail_at("venues", problems)
        return venues

    @field_validator("hedges")
    @classmethod
    def _check_hedges(
        cls, hedges: tuple[HedgeRouteConfig, ...], info: ValidationInfo
    ) -> tuple[HedgeRouteConfig, ...]:
        venues = info.data.get("venues")
        if venues is None:  # invalid venues are reported on their own
            return hedges
        problems = check_routes(hedges, {v.name: VenueRole.HEDGE in v.role for v in venues})
        if problems:
            fail_at("hedges", problems)
        return hedges

    @field_validator("paper")
    @classmethod
    def _check_paper(cls, paper: PaperConfig, info: ValidationInfo) -> PaperConfig:
        placed = [(("cash", i, "venue"), c.venue) for i, c in enumerate(paper.cash)]
        _require_configured("paper", placed, info)
        return paper

    @field_validator("collateral")
    @classmethod
    def _check_collateral(
        cls, collateral: CollateralConfig, info: ValidationInfo
    ) -> CollateralConfig:
        placed = [(("venues", i, "name"), v.name) for i, v in enumerate(collateral.venues)]
        _require_configured("collateral", placed, info)
        return collateral

    @field_validator("sim")
    @classmethod
    def _check_sim(cls, sim: SimConfig | None, info: ValidationInfo) -> SimConfig | None:
        if sim is None:
            if info.data.get("mode") is Mode.SIM:
                raise ValueError("mode sim needs a [sim] section")
            return sim
        book = [(("book", i, "venue"), p.venue) for i, p in enumerate(sim.book)]
        cash = [(("balances", i, "venue"), b.venue) for i, b in enumerate(sim.balances)]
        _require_configured("sim", [*book, *cash], info)
        return sim


def _require_configured(
    section: str, placed: Sequence[tuple[Loc, VenueId]], info: ValidationInfo
) -> None:
    """Fail at each ``(key path, venue)`` of ``section`` whose venue is not a [[venues]] name.

    Invalid venues are reported on their own: without them there is nothing to check.
    """
    venues = info.data.get("venues")
    if venues is None:
        return
    names = [v.name for v in venues]
    problems: list[tuple[Loc, str]] = [
        (loc, f"venue {venue!r} is not configured (have: {', '.join(names)})")
        for loc, venue in placed
        if venue not in names
    ]
    if problems:
        fail_at(section, problems)
