"""Tiered initial/maintenance margin of linear (USDT/USDC-margined) futures and perps.

Linear venues charge a margin rate that grows with the position's notional
(Binance "leverage and margin tiers", Bybit "risk limit"). Two conventions:

- Binance (``marginal=True``): maintenance = notional × MMR(tier) − maintenance
  amount, the amount chosen so the requirement is continuous at the tier
  bounds. That equals charging each slice of notional the rate of the tier it
  falls in. Binance's published formula: "Maintenance Margin = Notional
  Position Value * Maintenance Margin Rate - Maintenance Amount".
- Bybit (``marginal=False``): the whole position pays the rate of its tier.

Initial margin is the whole notional at the tier's IM rate (1 / max leverage)
in both conventions: Binance's IM is notional / chosen leverage, and the tier
caps the leverage.

Worked example (Binance BTCUSDT tiers of 2021-03-18: ≤50k MMR 0.40 % IM 0.80 %,
≤250k 0.50 % / 1.00 %, ≤1M 1.00 % / 2.00 %, ≤10M 2.50 % / 5.00 %, ...): the
maintenance amounts are 0, 50, 1,300, 16,300, ...; a 100,000 USDT position
needs MM 100,000·0.5 % − 50 = 450 USDT and IM 1,000 USDT; a 2,000,000 USDT
position needs MM 2,000,000·2.5 % − 16,300 = 33,700 USDT and IM 100,000 USDT.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from bot.pricing.arrays import FloatArray

BINANCE_BTCUSDT_2021: Final = (
    (50_000.0, 0.008, 0.004),
    (250_000.0, 0.01, 0.005),
    (1_000_000.0, 0.02, 0.01),
    (10_000_000.0, 0.05, 0.025),
    (20_000_000.0, 0.10, 0.05),
    (50_000_000.0, 0.20, 0.10),
    (100_000_000.0, 0.25, 0.125),
    (200_000_000.0, 0.333, 0.15),
    (300_000_000.0, 0.50, 0.25),
    (float("inf"), 1.00, 0.50),
)
"""(upper notional USD, IM rate, MM rate) per tier: Binance BTCUSDT, announcement of
2021-03-18 (its last tier ends at 500M; here it is open-ended)."""


@dataclass(frozen=True, slots=True)
class TierTable:
    """Margin tiers: tier i covers notional in (upper_usd[i-1], upper_usd[i]].

    Rates are fractions of notional; the last bound is +inf so every notional
    has a tier. ``marginal`` picks the Binance convention (see module docstring).
    """

    upper_usd: FloatArray
    im_rate_frac: FloatArray
    mm_rate_frac: FloatArray
    marginal: bool = True

    def __post_init__(self) -> None:
        up, im, mm = self.upper_usd, self.im_rate_frac, self.mm_rate_frac
        if not (up.ndim == 1 and up.shape == im.shape == mm.shape and up.size > 0):
            raise ValueError("tier arrays must be 1-D, non-empty and of one length")
        if not (np.diff(up) > 0).all() or up[0] <= 0 or up[-1] != np.inf:
            raise ValueError(f"tier bounds must rise from > 0 and end at inf, got {up}")
        if not ((mm > 0) & (mm <= im) & np.isfinite(im)).all():
            raise ValueError("tier rates need 0 < mm_rate_frac <= im_rate_frac, finite")
        if not ((np.diff(mm) >= 0).all() and (np.diff(im) >= 0).all()):
            raise ValueError("tier rates must not fall as notional grows")
        for name in ("upper_usd", "im_rate_frac", "mm_rate_frac"):
            view = getattr(self, name).view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)

    @classmethod
    def from_rows(
        cls, rows: tuple[tuple[float, float, float], ...], *, marginal: bool = True
    ) -> TierTable:
        """Build from (upper notional USD, IM rate, MM rate) rows, lowest tier first."""
        arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
        return cls(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), marginal)

    @property
    def maintenance_amount_usd(self) -> FloatArray:
        """Binance's "maintenance amount" per tier: continuity at each bound.

        amount_i = amount_{i-1} + upper_{i-1}·(mmr_i − mmr_{i-1}), amount_0 = 0.
        """
        steps = self.upper_usd[:-1] * np.diff(self.mm_rate_frac)
        return np.concatenate([[0.0], np.cumsum(steps)])


def tiered_margin(notional_usd: ArrayLike, tiers: TierTable) -> tuple[FloatArray, FloatArray]:
    """(IM, MM) in USD of positions of ``notional_usd`` (sign ignored); broadcasts.

    Example (module docstring): 100,000 USDT on Binance BTCUSDT → (1,000, 450).
    """
    n = np.abs(np.asarray(notional_usd, dtype=np.float64))
    tier = np.searchsorted(tiers.upper_usd, n, side="left")
    tier = np.minimum(tier, tiers.upper_usd.size - 1)
    im = n * tiers.im_rate_frac[tier]
    mm = n * tiers.mm_rate_frac[tier]
    if tiers.marginal:
        mm = mm - tiers.maintenance_amount_usd[tier]
    return im, mm
