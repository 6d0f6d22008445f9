"""The top-level :class:`Config` and its small sections.

Adding a section is one field on :class:`Config` (its model derives from
:class:`bot.config.base.FrozenModel`), one table in ``config.example.toml``
(a test checks every field is documented there), and, when it must agree
with another section, one ``field_validator`` here. Fields are validated in
the order they are declared, and a validator sees the valid ones before it:
the sections others refer to (venues, the simulated world, the hedge routes)
come first, so a reference is checked even while another section is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.alerts import AlertsConfig
from bot.config.backtest import BacktestConfig
from bot.config.base import Array, Choice, FrozenModel, Loc, fail_at, repeats
from bot.config.collateral import CollateralConfig
from bot.config.compute import ComputeConfig
from bot.config.daemon import DaemonConfig
from bot.config.dashboard import DashboardConfig
from bot.config.greek_limits import GreekLimitsConfig
from bot.config.health import HealthConfig
from bot.config.hedging import HedgeRouteConfig, StrategyConfig, check_routes
from bot.config.margin import MarginConfig
from bot.config.metrics import MetricsConfig
from bot.config.options_hedge import OptionsHedgeConfig
from bot.config.paper import PaperConfig
from bot.config.record import RecordConfig
from bot.config.references import currencies, unknown_names
from bot.config.risk import RiskConfig
from bot.config.sim import SimConfig
from bot.config.stream import StreamConfig
from bot.config.stress import StressConfig
from bot.config.venues import SIM_EXCHANGES, VenueConfig, VenueRole
from bot.domain.exposure import Numeraire
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

    level: Choice[LogLevel] = Field(
        default=LogLevel.INFO,
        description="Lowest level written: debug | info | warning | error. Default info.",
    )
    format: Choice[LogFormat] = Field(
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
        strict=True,
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        case_sensitive=False,
    )

    mode: Choice[Mode] = Field(
        default=Mode.SIM,
        description=(
            "sim (embedded simulated market) | paper (real data, local fills) | sandbox "
            "(exchange testnets) | live. Default sim."
        ),
    )
    numeraire: Choice[Numeraire] = Field(
        default=Numeraire.USD,
        description=(
            "Currency the book is hedged neutral in: usd (coin collateral counts as delta) | "
            "coin. Default usd."
        ),
    )
    logging: LoggingConfig = Field(
        default_factory=LoggingConfig, description="Log level and format. Default: see [logging]."
    )
    venues: Array[VenueConfig] = Field(
        description="Exchange accounts, one [[venues]] table each. Required, at least one.",
    )
    sim: SimConfig | None = Field(
        default=None,
        validate_default=True,
        description="Simulated market and starting book. Required in mode sim, default none.",
    )
    hedges: Array[HedgeRouteConfig] = Field(
        default=(),
        description=(
            "Hedge instruments per underlying, one [[hedges]] table each. Default none: "
            "nothing is hedged (the daemon still values and reports the book)."
        ),
    )
    strategy: StrategyConfig = Field(
        default_factory=StrategyConfig,
        description="The hedging strategy and its parameters. Default: see [strategy].",
    )
    risk: RiskConfig = Field(
        default_factory=RiskConfig,
        description="Caps and guards of the risk gate. Default: see [risk].",
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
    dashboard: DashboardConfig = Field(
        default_factory=DashboardConfig,
        description="The web dashboard and its controls. Default: see [dashboard].",
    )
    paper: PaperConfig = Field(
        default_factory=PaperConfig,
        description="Cash and fees of the local fills in mode paper. Default: see [paper].",
    )
    health: HealthConfig = Field(
        default_factory=HealthConfig,
        description="When /health calls a lasting problem failing. Default: see [health].",
    )
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig,
        description="Alert channels (apprise), throttling and thresholds. Default: see [alerts].",
    )
    greek_limits: GreekLimitsConfig = Field(
        default_factory=GreekLimitsConfig,
        description="Vega/gamma limits per underlying and expiry bucket. Default: none.",
    )
    options_hedge: OptionsHedgeConfig = Field(
        default_factory=OptionsHedgeConfig,
        description="Option-hedge proposals for hard greek-limit breaches. Default: off.",
    )
    record: RecordConfig = Field(
        default_factory=RecordConfig,
        description="Recording venue reads into a chain store. Default: see [record].",
    )
    backtest: BacktestConfig = Field(
        default_factory=BacktestConfig,
        description="An explicit book for backtest --history. Default: see [backtest].",
    )
    stream: StreamConfig = Field(
        default_factory=StreamConfig,
        description="Websocket event triggers of hedge cycles. Default: see [stream].",
    )
    compute: ComputeConfig = Field(
        default_factory=ComputeConfig,
        description="Where backtests and stress runs compute. Default: see [compute].",
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
        if mode is Mode.SIM:
            problems += _simulated(venues)
        if not any(VenueRole.HEDGE in v.role for v in venues):
            problems.append(((), "no venue has role 'hedge': there is nowhere to hedge"))
        _refuse("venues", problems)
        return venues

    @field_validator("sim")
    @classmethod
    def _check_sim(cls, sim: SimConfig | None, info: ValidationInfo) -> SimConfig | None:
        if sim is None:
            if info.data.get("mode") is Mode.SIM:
                raise ValueError("mode sim needs a [sim] section")
            return sim
        book = [(("book", i, "venue"), p.venue) for i, p in enumerate(sim.book)]
        cash = [(("balances", i, "venue"), b.venue) for i, b in enumerate(sim.balances)]
        basis = [(("perp_basis_frac", v), v) for v in sim.perp_basis_frac]
        _refuse("sim", _unknown_venues([*book, *cash, *basis], info))
        return sim

    @field_validator("hedges")
    @classmethod
    def _check_hedges(
        cls, hedges: tuple[HedgeRouteConfig, ...], info: ValidationInfo
    ) -> tuple[HedgeRouteConfig, ...]:
        venues = info.data.get("venues")
        roles = None if venues is None else {v.name: VenueRole.HEDGE in v.role for v in venues}
        problems = check_routes(hedges, roles)
        sim = info.data.get("sim")
        if info.data.get("mode") is Mode.SIM and sim is not None:
            simulated = [u.name for u in sim.underlyings]
            placed = [((i, "underlying"), h.underlying) for i, h in enumerate(hedges)]
            problems += unknown_names(placed, simulated, "{!r} is not in [[sim.underlyings]]")
        _refuse("hedges", problems)
        return hedges

    @field_validator("strategy")
    @classmethod
    def _check_strategy(cls, strategy: StrategyConfig, info: ValidationInfo) -> StrategyConfig:
        """A target acts only through the hedge: for an unrouted underlying it changes nothing."""
        hedges = info.data.get("hedges")
        if hedges is not None:
            hedged = sorted({h.underlying for h in hedges})
            targets = [(("target_delta_coin", u), u) for u in strategy.target_delta_coin]
            unrouted = "{} has no [[hedges]] route: a target for it would change nothing"
            _refuse("strategy", unknown_names(targets, hedged, unrouted, have="hedged"))
        return strategy

    @field_validator("margin")
    @classmethod
    def _check_margin(cls, margin: MarginConfig, info: ValidationInfo) -> MarginConfig:
        models = [(("venue_models", v), v) for v in margin.venue_models]
        problems = _unknown_venues(models, info)
        underlyings = _underlyings(info)
        if underlyings is not None and "future_size_factor" in margin.model_fields_set:
            factors = [(("future_size_factor", u), u) for u in margin.future_size_factor]
            problems += unknown_names(factors, underlyings, "underlying {!r} is not configured")
        _refuse("margin", problems)
        return margin

    @field_validator("collateral")
    @classmethod
    def _check_collateral(
        cls, collateral: CollateralConfig, info: ValidationInfo
    ) -> CollateralConfig:
        placed = [(("venues", i, "name"), v.name) for i, v in enumerate(collateral.venues)]
        problems = _unknown_venues(placed, info)
        underlyings = _underlyings(info)
        if underlyings is not None:
            coins: list[tuple[Loc, str]] = [
                (("routes", i, "currency"), r.currency) for i, r in enumerate(collateral.routes)
            ]
            for i, venue in enumerate(collateral.venues):
                rates = venue.idle_cost_frac_per_year
                coins += [(("venues", i, "idle_cost_frac_per_year", c), c) for c in rates]
            if "idle_cost_frac_per_year" in collateral.model_fields_set:
                rates = collateral.idle_cost_frac_per_year
                coins += [(("idle_cost_frac_per_year", c), c) for c in rates]
            problems += unknown_names(
                coins, currencies(underlyings), "currency {!r} is not configured"
            )
        _refuse("collateral", problems)
        return collateral

    @field_validator("stress")
    @classmethod
    def _check_stress(cls, stress: StressConfig, info: ValidationInfo) -> StressConfig:
        named: list[tuple[Loc, str]] = [
            ((key, j), v)
            for key in ("default_venues", "freeze_venues")
            for j, v in enumerate(getattr(stress, key))
        ]
        for i, scenario in enumerate(stress.scenarios):
            named += [
                (("scenarios", i, "lost_venues", j), v) for j, v in enumerate(scenario.lost_venues)
            ]
        problems = _unknown_venues(named, info)
        venues = info.data.get("venues")
        if venues is not None:
            hedging = [v.name for v in venues if VenueRole.HEDGE in v.role]
            cascade = [
                (("cascade_hedge_venues", j), v) for j, v in enumerate(stress.cascade_hedge_venues)
            ]
            problems += unknown_names(
                cascade,
                hedging,
                "{!r} is not a configured venue with role 'hedge'",
            )
        underlyings = _underlyings(info)
        if underlyings is not None:
            moves = [
                (("scenarios", i, "price_move_frac", u), u)
                for i, s in enumerate(stress.scenarios)
                if isinstance(s.price_move_frac, dict)
                for u in s.price_move_frac
            ]
            problems += unknown_names(moves, underlyings, "underlying {!r} is not configured")
        _refuse("stress", problems)
        return stress

    @field_validator("greek_limits")
    @classmethod
    def _check_greek_limits(
        cls, limits: GreekLimitsConfig, info: ValidationInfo
    ) -> GreekLimitsConfig:
        underlyings = _underlyings(info)
        if underlyings is not None:
            placed = [
                (("limits", i, "underlying"), x.underlying) for i, x in enumerate(limits.limits)
            ]
            _refuse(
                "greek_limits",
                unknown_names(placed, underlyings, "underlying {!r} is not configured"),
            )
        return limits

    @field_validator("paper")
    @classmethod
    def _check_paper(cls, paper: PaperConfig, info: ValidationInfo) -> PaperConfig:
        placed = [(("cash", i, "venue"), c.venue) for i, c in enumerate(paper.cash)]
        problems = _unknown_venues(placed, info)
        underlyings = _underlyings(info)
        if underlyings is not None:
            cash = [(("cash", i, "currency"), c.currency) for i, c in enumerate(paper.cash)]
            problems += unknown_names(
                cash, currencies(underlyings), "currency {!r} is not configured"
            )
        _refuse("paper", problems)
        return paper

    @field_validator("stream")
    @classmethod
    def _check_stream(cls, stream: StreamConfig, info: ValidationInfo) -> StreamConfig:
        placed = [(("rest_only", i), v) for i, v in enumerate(stream.rest_only)]
        _refuse("stream", _unknown_venues(placed, info))
        return stream


def _refuse(section: str, problems: list[tuple[Loc, str]]) -> None:
    if problems:
        fail_at(section, problems)


def _simulated(venues: tuple[VenueConfig, ...]) -> list[tuple[Loc, str]]:
    """Mode sim runs the simulated exchange: embedded for every venue, or a standalone
    emulator (``deltabot sim-venue``, named by api_url) for every venue."""
    served = " and ".join(e.value for e in SIM_EXCHANGES)
    problems: list[tuple[Loc, str]] = [
        (
            (i, "exchange"),
            f"the simulator cannot serve {v.exchange.value}: mode sim simulates {served}",
        )
        for i, v in enumerate(venues)
        if v.exchange not in SIM_EXCHANGES
    ]
    bare = [v.name for v in venues if v.api_url is None]
    if 0 < len(bare) < len(venues):
        problems += [
            (
                (i, "api_url"),
                "mode sim: either every venue names a standalone emulator (api_url) or none "
                f"does; {', '.join(bare)} has none",
            )
            for i, v in enumerate(venues)
            if v.api_url is not None
        ]
    return problems


def _unknown_venues(
    placed: Iterable[tuple[Loc, str]], info: ValidationInfo
) -> list[tuple[Loc, str]]:
    """Each ``(key path, venue)`` whose venue is not a [[venues]] name.

    Invalid venues are reported on their own: without them there is nothing to check.
    """
    venues = info.data.get("venues")
    if venues is None:
        return []
    return unknown_names(placed, [v.name for v in venues], "venue {!r} is not configured")


def _underlyings(info: ValidationInfo) -> list[str] | None:
    """The configured underlyings (:mod:`bot.config.references`); None while the sections
    that configure them are invalid (they are reported on their own)."""
    data: dict[str, Any] = info.data
    if not {"mode", "sim", "hedges"} <= data.keys():
        return None
    names = {h.underlying for h in data["hedges"]}
    if data["mode"] is Mode.SIM and data["sim"] is not None:
        names |= {u.name for u in data["sim"].underlyings}
    return sorted(names)
