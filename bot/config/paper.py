"""``[paper]``: the local account a paper venue fills against (mode paper only)."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config.base import Array, FrozenModel, fail_at, repeats
from bot.domain.ids import Currency, VenueId


class PaperCash(FrozenModel):
    """Starting cash of one currency on one paper venue."""

    venue: VenueId = Field(description="Name of the configured venue. Required.")
    currency: Currency = Field(description="A configured currency, e.g. BTC or USDC. Required.")
    amount: float = Field(
        ge=0, le=1e12, description="Starting cash in that currency, in [0, 1e12]. Required."
    )


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
