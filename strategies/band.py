"""Fixed no-trade band: trade only when the total delta leaves a band around the target.

The desk's everyday rule. The band is set by hand in coin or USD of delta and may
be asymmetric (e.g. tolerate more long delta than short).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from bot.pricing.arrays import FloatArray
from strategies.base import (
    BandEdges,
    HedgeRatio,
    HedgeState,
    StateField,
    StrategyParams,
    band_edges,
    band_hedge,
    deviation_coin,
    guarded_hedge,
)


class BandParams(StrategyParams):
    width_up: float = Field(
        ge=0.0,
        description=(
            "How far the total delta may sit above the target without a trade, in `unit`, "
            ">= 0. Required, no default."
        ),
    )
    width_down: float = Field(
        ge=0.0,
        description=(
            "How far the total delta may sit below the target without a trade, in `unit`, "
            ">= 0. Required, no default."
        ),
    )
    unit: Literal["coin", "usd"] = Field(
        "coin",
        description=(
            "Unit of the widths: 'coin' of delta, or 'usd' of delta, converted to coin at "
            "spot_usd on every call (the band in coin narrows as spot rises). Default 'coin'."
        ),
    )
    rehedge_to: Literal["edge", "center"] = Field(
        "center",
        description=(
            "Where a trade takes the total delta: 'edge' (the nearest band edge; the least "
            "traded) or 'center' (the target; the most room before the next trade). "
            "Default 'center'."
        ),
    )
    hedge_ratio: HedgeRatio = 1.0
    ignore_vol_moves: bool = Field(
        False,
        description=(
            "Measure the deviation with net_delta_fixed_vol_coin (vols frozen at the last "
            "hedge), so a delta move caused only by implied vol does not trigger a trade. "
            "That vol-driven delta is hedged once the engine refreezes vols at the next "
            "hedge. Default false."
        ),
    )


@dataclass(frozen=True, slots=True)
class Band:
    """Keep the hedge while ``-width_down <= deviation <= width_up``, else re-hedge.

    The deviation is delta + hedge - target, with the delta chosen by
    ``ignore_vol_moves``; the re-hedge is :func:`strategies.base.band_hedge`.
    Reads the delta in use, ``hedge_coin``, ``target_delta_coin`` and, for USD
    widths, ``spot_usd``; an element where any of them is NaN, inf or (spot) not
    positive keeps its hedge.

    Example: widths 3,000 USD up and 1,500 USD down at spot 60,000 USD are a
    band of [-0.025, +0.05] coin. Net delta +0.2 coin, hedge -0.1 coin, target 0:
    the deviation +0.1 coin is above the band, so the hedge becomes
    -0.1 - 0.1 = -0.2 coin to the centre, or -0.1 - (0.1 - 0.05) = -0.15 coin
    to the edge.
    """

    name: ClassVar[str] = "band"
    Params: ClassVar[type[BaseModel]] = BandParams

    params: BandParams

    @property
    def reads(self) -> tuple[StateField, ...]:
        """The state fields this kernel looks at (they depend on the params)."""
        delta: StateField = (
            "net_delta_fixed_vol_coin" if self.params.ignore_vol_moves else "net_delta_coin"
        )
        spot: tuple[StateField, ...] = ("spot_usd",) if self.params.unit == "usd" else ()
        return (delta, "hedge_coin", "target_delta_coin", *spot)

    def _measured(
        self, state: HedgeState
    ) -> tuple[FloatArray, FloatArray | float, FloatArray | float]:
        """The delta the deviation is measured with, and the widths up and down in coin."""
        p = self.params
        delta = state.net_delta_coin
        if p.ignore_vol_moves:
            delta = state.net_delta_fixed_vol_coin
        if p.unit == "usd":
            return delta, p.width_up / state.spot_usd, p.width_down / state.spot_usd
        return delta, p.width_up, p.width_down

    def band(self, state: HedgeState) -> BandEdges:
        """The band on the total delta (USD widths at ``spot_usd``)."""
        with np.errstate(all="ignore"):
            delta, up, down = self._measured(state)
            return band_edges(state, delta, up, down)

    def target_hedge(self, state: HedgeState) -> FloatArray:
        p = self.params
        with np.errstate(all="ignore"):  # unusable elements are masked by guarded_hedge
            delta, up, down = self._measured(state)
            new = band_hedge(
                state.hedge_coin,
                deviation_coin(delta, state),
                up,
                down,
                to_edge=p.rehedge_to == "edge",
                hedge_ratio=p.hedge_ratio,
            )
        return guarded_hedge(state, self.reads, new)
