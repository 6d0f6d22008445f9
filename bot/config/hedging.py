"""``[strategy]`` and ``[[hedges]]``: which strategy decides the hedge, and where it is traded.

The strategy's own parameters are validated here, once, by the strategy's
``Params`` model through the registry, and kept typed in the loaded config:
``deltabot check-config`` reports a bad band width at its key
(``strategy.params.width_up``), and the daemon builds the strategy from the
validated model without validating again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config.base import Choice, FrozenModel, Loc, fail_at, repeats, reraise_at
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.routes import HedgeRoute
from bot.domain.settlement import SettlementMode, SettlementPolicy
from strategies.base import Strategy
from strategies.registry import UnknownStrategyError, strategy_class, validate_params

_DEFAULT_NAME = "band"
_DEFAULT_PARAMS = {"width_up": 0.5, "width_down": 0.5}

MAX_TARGET_COIN = 1e6
"""Largest target delta either way, in coin."""

_DERIVATIVE = re.compile(r"(?P<base>[^/:]+)/[^/:]+:[^/:-]+(?:-\d{6})?")
"""A ccxt unified perpetual (``BTC/USD:BTC``) or future (``BTC/USD:BTC-261225``)."""


class StrategyConfig(FrozenModel):
    """The hedging strategy (docs/architecture.md §4) and what it is told about the book."""

    name: str = Field(
        default=_DEFAULT_NAME,
        min_length=1,
        description=(
            "Registered strategy name: interval | band | whalley_wilmott | zakamouline, or a "
            "third-party one from the deltabot.strategies entry points. Default band."
        ),
    )
    params: SerializeAsAny[BaseModel] = Field(
        default_factory=lambda: validate_params(_DEFAULT_NAME, _DEFAULT_PARAMS),
        description=(
            "The strategy's parameters, validated by its own model (see the README's strategy "
            "table). Default {width_up = 0.5, width_down = 0.5} (band, coin)."
        ),
    )
    target_delta_coin: dict[
        Currency, Annotated[float, Field(ge=-MAX_TARGET_COIN, le=MAX_TARGET_COIN)]
    ] = Field(
        default_factory=dict,
        description=(
            "Desired total delta per hedged underlying (one with a [[hedges]] route), in coin, "
            "in [-1e6, 1e6] (e.g. BTC = 0.5 keeps half a coin long). Default: 0 for every "
            "underlying."
        ),
    )
    cost_frac: float = Field(
        default=0.0007,
        ge=0,
        lt=0.1,
        description=(
            "Proportional cost of trading the hedge (taker fee + half-spread + slippage) as a "
            "fraction of notional, fed to cost-aware strategies. Default 0.0007, in [0, 0.1)."
        ),
    )

    rate: float = Field(
        default=0.0,
        ge=-0.5,
        le=1.0,
        description=(
            "Risk-free rate fed to the strategies (discounting in whalley_wilmott, for one), a "
            "fraction per year, continuous. Default 0, in [-0.5, 1]."
        ),
    )

    settlement: Choice[SettlementMode] = Field(
        default=SettlementMode.FADE,
        description=(
            "What the hedge counts of an option in its last settlement_window_s before "
            "expiry: hedge (all of it), fade (a share falling linearly to 0 at expiry) or "
            "exclude (none). Default fade."
        ),
    )
    settlement_window_s: float = Field(
        default=1800.0,
        ge=0,
        le=86_400,
        description=(
            "Seconds before an option's expiry in which the settlement policy applies "
            "(Deribit fixes its delivery price over the last 30 minutes). Default 1800, "
            "in [0, 86400]."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _typed_params(cls, data: Any) -> Any:
        """Validate ``params`` into the strategy's own model: an unknown name or a bad
        parameter fails at check-config, at its key."""
        if not isinstance(data, dict) or isinstance(data.get("params"), BaseModel):
            return data
        name = data.get("name", _DEFAULT_NAME)
        params = data.get("params", _DEFAULT_PARAMS)
        if not isinstance(name, str) or not name:
            return data  # the field check reports it
        if not isinstance(params, dict):
            fail_at("strategy", [(("params",), "must be a table of the strategy's parameters")])
        try:
            typed = strategy_class(name).Params.model_validate(params)
        except UnknownStrategyError as exc:
            fail_at("strategy", [(("name",), str(exc))])
        except ValidationError as exc:
            reraise_at("strategy", ("params",), exc)
        return {**data, "params": typed}

    def settlement_policy(self) -> SettlementPolicy:
        """The settlement policy as the hedge plan takes it."""
        return SettlementPolicy(self.settlement, round(self.settlement_window_s * 1000))

    def build(self) -> Strategy:
        """The strategy instance, from the params validated at load time."""
        return strategy_class(self.name)(self.params)

    def target_for(self, underlying: str) -> float:
        """Target total delta of ``underlying`` in coin (0 when not configured)."""
        return self.target_delta_coin.get(Currency(underlying), 0.0)


class HedgeRouteConfig(FrozenModel):
    """One instrument that carries (part of) an underlying's hedge."""

    underlying: Currency = Field(
        description="Underlying coin whose delta this instrument hedges, e.g. BTC. Required."
    )
    venue: VenueId = Field(
        description="Name of a configured venue with role 'hedge'. Required.",
    )
    symbol: Symbol = Field(
        min_length=1,
        description=(
            "ccxt unified symbol of a perpetual or future of the underlying on that venue, e.g. "
            "'BTC/USD:BTC' (Deribit inverse perpetual), 'BTC/USDC:USDC' (linear) or "
            "'BTC/USD:BTC-261225' (future). Required."
        ),
    )
    weight: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description=(
            "Share of the underlying's hedge change sent to this instrument, relative to the "
            "other routes of the same underlying, in (0, 1000]. Default 1."
        ),
    )

    @field_validator("underlying")
    @classmethod
    def _upper(cls, value: Currency) -> Currency:
        if not value.isalnum() or value != value.upper():
            raise ValueError(f"an underlying is an upper-case coin code like BTC, got {value!r}")
        return value

    def route(self) -> HedgeRoute:
        """The route as the hedge plan takes it."""
        return HedgeRoute(self.underlying, self.venue, self.symbol, self.weight)


def check_routes(
    routes: tuple[HedgeRouteConfig, ...], hedge_venues: Mapping[VenueId, bool] | None
) -> list[tuple[Loc, str]]:
    """Problems of the routes against their underlyings and the venues (``name -> has role
    hedge``; None while the venues are invalid, which are reported on their own)."""
    problems: list[tuple[Loc, str]] = [
        ((i, "symbol"), f"{routes[i].symbol} on {routes[i].venue} is routed twice (also [{j}])")
        for i, j in repeats([(r.venue, r.symbol) for r in routes])
    ]
    for i, route in enumerate(routes):
        wrong = _symbol_problem(route.symbol, route.underlying)
        if wrong is not None:
            problems.append(((i, "symbol"), wrong))
        if hedge_venues is None:
            continue
        role = hedge_venues.get(route.venue)
        if role is None:
            have = ", ".join(hedge_venues)
            problems.append(((i, "venue"), f"venue {route.venue!r} is not configured ({have})"))
        elif not role:
            problems.append(((i, "venue"), f"venue {route.venue!r} does not have role 'hedge'"))
    return problems


def _symbol_problem(symbol: Symbol, underlying: Currency) -> str | None:
    """Why a unified symbol cannot carry the underlying's hedge: spot, an option, another coin.

    A name in no unified form (Deribit's own ``BTC-PERPETUAL``) is left to the start-up
    check against the venue's listing, which names the venue's close matches.
    """
    if "/" not in symbol:
        return None
    found = _DERIVATIVE.fullmatch(symbol)
    if found is None:
        return (
            f"{symbol} is not a perpetual or future: a ccxt symbol like 'BTC/USD:BTC' or "
            "'BTC/USD:BTC-261225' is"
        )
    if found["base"] != underlying:
        return f"{symbol} is not on {underlying}"
    return None
