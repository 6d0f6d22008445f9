"""``[sim]``: the simulated market and the example book it starts with.

Sizes follow Deribit's conventions (docs/architecture.md §3) because the simulated
venue speaks the Deribit dialect: options and linear contracts count coin,
inverse futures and perpetuals count USD. It lists what Deribit lists for BTC
and ETH: inverse options and futures, and inverse and linear (USDC) perpetuals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from bot.config.base import Array, Choice, FrozenModel, Loc, UtcDatetime, fail_at, repeats
from bot.domain.ids import VenueId
from bot.domain.instruments import InstrumentKind, OptionType, Settlement
from bot.domain.units import MAX_AMOUNT

UnderlyingName = Literal["BTC", "ETH"]

MAX_PRICE_USD = 1e9
"""Largest spot or strike, in USD per coin."""


EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)
"""sim.start lies in [EARLIEST_START, LATEST_START): expiries are named by two-digit years."""

MAX_EXPIRY_AFTER_START = timedelta(days=10 * 365)
"""Latest expiry of a book position after sim.start: ten years (Deribit lists about two)."""

_NEEDED: dict[InstrumentKind, frozenset[str]] = {
    InstrumentKind.OPTION: frozenset({"option_type", "strike_usd", "expiry"}),
    InstrumentKind.FUTURE: frozenset({"expiry"}),
    InstrumentKind.PERPETUAL: frozenset(),
}


def nonzero_size(size: float) -> float:
    """A position of size 0 is no position: refused, so the config says what it holds."""
    if size == 0:
        raise ValueError("size is zero: leave the position out instead")
    return size


class SimUnderlying(FrozenModel):
    """One simulated underlying: geometric Brownian motion from ``spot_usd``."""

    name: UnderlyingName = Field(description="Underlying coin: BTC | ETH. Required, unique.")
    spot_usd: float = Field(
        gt=0,
        le=MAX_PRICE_USD,
        description="Spot price at sim.start, in USD per coin. Required, in (0, 1e9].",
    )
    vol: float = Field(
        ge=0.01,
        le=5,
        description="Volatility as a fraction per year (0.6 = 60%). Required, in [0.01, 5].",
    )
    rate: float = Field(
        default=0.0,
        ge=-1,
        le=1,
        description="Risk-free rate as a fraction per year, continuous. Default 0, in [-1, 1].",
    )


class SimPosition(FrozenModel):
    """One position of the example book, held at ``sim.start``."""

    venue: VenueId = Field(description="Name of the configured venue holding it. Required.")
    underlying: UnderlyingName = Field(
        description="Underlying coin: BTC | ETH, configured in [[sim.underlyings]]. Required."
    )
    kind: Choice[InstrumentKind] = Field(description="option | future | perpetual. Required.")
    settlement: Choice[Settlement] = Field(
        description=(
            "inverse (coin-settled, Deribit BTC/ETH) | linear (USDC-settled; perpetuals only, "
            "as the simulated Deribit lists them). Required."
        ),
    )
    option_type: Choice[OptionType] | None = Field(
        default=None,
        validate_default=True,
        description="call | put. Required for options; default none (absent) otherwise.",
    )
    strike_usd: float | None = Field(
        default=None,
        gt=0,
        le=MAX_PRICE_USD,
        validate_default=True,
        description=(
            "Strike in USD per coin, in (0, 1e9]. Required for options; default none otherwise."
        ),
    )
    expiry: UtcDatetime | None = Field(
        default=None,
        validate_default=True,
        description=(
            "Expiry, ISO-8601 with offset (e.g. 2026-12-25T08:00:00Z), after sim.start and at "
            "most ten years after it. Required for options and futures; default none (absent) "
            "for perpetuals."
        ),
    )
    size: float = Field(
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        description=(
            "Signed position size, > 0 long, < 0 short, as on Deribit: in coin for options and "
            "linear perpetuals, in USD for inverse futures/perpetuals. Required, non-zero, in "
            "[-1e12, 1e12]."
        ),
    )

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, kind: InstrumentKind) -> InstrumentKind:
        if kind not in _NEEDED:
            raise ValueError(f"kind must be one of {', '.join(_NEEDED)}; got {kind.value!r}")
        return kind

    @field_validator("option_type", "strike_usd", "expiry")
    @classmethod
    def _check_kind_fields(cls, value: object, info: ValidationInfo) -> object:
        kind = info.data.get("kind")
        if kind is None:  # the kind itself is invalid and reported on its own
            return value
        needed = info.field_name in _NEEDED[kind]
        if needed and value is None:
            raise ValueError(f"{kind.value} positions need {info.field_name}")
        if not needed and value is not None:
            raise ValueError(f"{kind.value} positions have no {info.field_name}")
        return value

    @field_validator("size")
    @classmethod
    def _check_size(cls, size: float) -> float:
        return nonzero_size(size)

    @model_validator(mode="after")
    def _check_listed(self) -> SimPosition:
        """The simulated Deribit lists linear perpetuals, never linear options or futures."""
        if self.settlement is Settlement.LINEAR and self.kind is not InstrumentKind.PERPETUAL:
            message = (
                f"the simulated Deribit lists no linear {self.kind.value}s "
                "(inverse options and futures, inverse and linear perpetuals)"
            )
            fail_at("position", [(("settlement",), message)])
        return self


class SimBalance(FrozenModel):
    """Coin collateral an account holds at ``sim.start`` (its equity before option values)."""

    venue: VenueId = Field(description="Name of the configured venue holding it. Required.")
    currency: Literal["BTC", "ETH", "USDC", "USDT"] = Field(
        description=(
            "Collateral currency: USDC, USDT, or BTC | ETH when in [[sim.underlyings]]. Required."
        )
    )
    amount: float = Field(
        ge=0,
        le=MAX_AMOUNT,
        description=("Cash balance in that currency (coin, USDC or USDT). Required, in [0, 1e12]."),
    )


class SimConfig(FrozenModel):
    """The simulated world: its random seed, start time, underlyings and starting book."""

    seed: int = Field(
        default=0,
        ge=0,
        le=2**63 - 1,
        description="Seed of the simulated market's random paths, in [0, 2^63 - 1]. Default 0.",
    )
    speed: float = Field(
        default=1.0,
        ge=0.001,
        le=100_000,
        description=(
            "Simulated seconds per wall-clock second (60 = an hour a minute); the scheduler's "
            "intervals run on simulated time. Default 1, in [0.001, 100000]."
        ),
    )
    start: UtcDatetime = Field(
        description=(
            "Valuation time of the simulated world and of the book, ISO-8601 with offset "
            "(e.g. 2026-12-01T08:00:00Z), from 2000-01-01 to before 2100-01-01. Required."
        ),
    )
    underlyings: Array[SimUnderlying] = Field(
        description=(
            "Simulated underlyings, one [[sim.underlyings]] table each. Required, at least one."
        ),
    )
    book: Array[SimPosition] = Field(
        default=(),
        description="Positions held at sim.start, one [[sim.book]] table each. Default: none.",
    )
    balances: Array[SimBalance] = Field(
        default=(),
        description=(
            "Cash collateral per venue and currency at sim.start, one [[sim.balances]] table "
            "each. Default: none."
        ),
    )
    perp_basis_frac: dict[VenueId, Annotated[float, Field(ge=-0.05, le=0.05)]] = Field(
        default_factory=dict,
        description=(
            "Each venue's perpetual premium over the market's (0.0008), a fraction of the "
            "index in [-0.05, 0.05], by configured venue name: its perpetual marks and funding "
            "differ from the other venues' around one index. A venue not listed takes its "
            "exchange's: deribit 0, binanceusdm -0.0003. Default {}."
        ),
    )

    @property
    def start_ms(self) -> int:
        """``start`` in epoch milliseconds, as the simulated clock counts."""
        return int(self.start.timestamp() * 1000)

    @field_validator("start")
    @classmethod
    def _check_start(cls, start: datetime) -> datetime:
        if not EARLIEST_START <= start < LATEST_START:
            raise ValueError(
                f"sim.start must be from 2000-01-01 to before 2100-01-01; got {start.isoformat()}"
            )
        return start

    @field_validator("underlyings")
    @classmethod
    def _check_underlyings(
        cls, underlyings: tuple[SimUnderlying, ...]
    ) -> tuple[SimUnderlying, ...]:
        if not underlyings:
            raise ValueError("at least one underlying is needed: add a [[sim.underlyings]] table")
        repeated = repeats([u.name for u in underlyings])
        if repeated:
            fail_at(
                "underlyings",
                [
                    ((i, "name"), f"{underlyings[i].name} is configured twice (also [{j}])")
                    for i, j in repeated
                ],
            )
        return underlyings

    @field_validator("book")
    @classmethod
    def _check_book(
        cls, book: tuple[SimPosition, ...], info: ValidationInfo
    ) -> tuple[SimPosition, ...]:
        start = info.data.get("start")
        underlyings = info.data.get("underlyings")
        problems: list[tuple[Loc, str]] = []
        for i, pos in enumerate(book):
            if underlyings is not None and pos.underlying not in {u.name for u in underlyings}:
                problems.append(
                    ((i, "underlying"), f"{pos.underlying} is not in [[sim.underlyings]]")
                )
            if start is None or pos.expiry is None:
                continue
            if pos.expiry <= start:
                problems.append(
                    (
                        (i, "expiry"),
                        f"expiry {pos.expiry.isoformat()} is not after sim.start "
                        f"{start.isoformat()}",
                    )
                )
            elif pos.expiry > start + MAX_EXPIRY_AFTER_START:
                problems.append(
                    (
                        (i, "expiry"),
                        f"expiry {pos.expiry.isoformat()} is over ten years after sim.start",
                    )
                )
        if problems:
            fail_at("book", problems)
        return book

    @field_validator("balances")
    @classmethod
    def _check_balances(
        cls, balances: tuple[SimBalance, ...], info: ValidationInfo
    ) -> tuple[SimBalance, ...]:
        problems: list[tuple[Loc, str]] = [
            (
                (i, "currency"),
                f"{balances[i].currency} on {balances[i].venue} is given twice (also [{j}])",
            )
            for i, j in repeats([(b.venue, b.currency) for b in balances])
        ]
        underlyings = info.data.get("underlyings")
        if underlyings is not None:
            simulated = {u.name for u in underlyings}
            problems += [
                ((i, "currency"), f"{b.currency} is not in [[sim.underlyings]]: it has no price")
                for i, b in enumerate(balances)
                if b.currency not in ("USDC", "USDT") and b.currency not in simulated
            ]
        if problems:
            fail_at("balances", problems)
        return balances
