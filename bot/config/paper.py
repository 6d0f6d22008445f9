"""``[paper]``: the local account a paper venue fills against (mode paper only)."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config.base import Array, FrozenModel, fail_at, repeats
from bot.config.sim import nonzero_size
from bot.domain.ids import Currency, Symbol, VenueId
from bot.domain.units import MAX_AMOUNT


class PaperCash(FrozenModel):
    """Starting cash of one currency on one paper venue."""

    venue: VenueId = Field(description="Name of the configured venue. Required.")
    currency: Currency = Field(description="A configured currency, e.g. BTC or USDC. Required.")
    amount: float = Field(
        ge=0, le=1e12, description="Starting cash in that currency, in [0, 1e12]. Required."
    )


class PaperPosition(FrozenModel):
    """One position of the declared book a paper venue holds from its first read (shadow
    paper: the trader's real options, marked from public data, hedged locally)."""

    venue: VenueId = Field(description="Name of the configured venue. Required.")
    symbol: Symbol = Field(
        min_length=1,
        description="ccxt unified symbol, e.g. BTC/USD:BTC-261225-55000-P. Required.",
    )
    size: float = Field(
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        description=(
            "Signed size, > 0 long, < 0 short, in the venue's amount unit (coin for Deribit "
            "options). Required, non-zero, in [-1e12, 1e12]."
        ),
    )

    @field_validator("size")
    @classmethod
    def _check_size(cls, size: float) -> float:
        return nonzero_size(size)


class PaperConfig(FrozenModel):
    """Fills happen locally at the real bid/ask; this is the money they use."""

    taker_fee_rate: float = Field(
        default=0.0005,
        ge=0,
        lt=0.01,
        description=(
            "Fee of a local fill as a fraction of its notional (0.0005 = 0.05%). "
            "Default 0.0005, in [0, 0.01)."
        ),
    )
    cash: Array[PaperCash] = Field(
        default=(),
        description="Starting cash, one [[paper.cash]] table per venue and currency. Default none.",
    )

    book: Array[PaperPosition] = Field(
        default=(),
        description=(
            "Declared positions held from the first read, one [[paper.book]] table each "
            "(shadow paper). Default none."
        ),
    )

    @field_validator("book")
    @classmethod
    def _check_book(cls, book: tuple[PaperPosition, ...]) -> tuple[PaperPosition, ...]:
        repeated = repeats([(p.venue, p.symbol) for p in book])
        if repeated:
            fail_at("book", [((i, "symbol"), f"given twice (also [{j}])") for i, j in repeated])
        return book

    @field_validator("cash")
    @classmethod
    def _check_cash(cls, cash: tuple[PaperCash, ...]) -> tuple[PaperCash, ...]:
        repeated = repeats([(c.venue, c.currency) for c in cash])
        if repeated:
            fail_at(
                "cash",
                [((i, "currency"), f"given twice (also [{j}])") for i, j in repeated],
            )
        return cash
