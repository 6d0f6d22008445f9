"""The daemon's scheduled stress pass: a small grid, the crash, and liquidation distances.

The full grid (41 × 21) over a large book takes most of a second; the daemon
runs a coarser grid on a schedule and exports two numbers a desk watches: the
worst loss (grid or crash, whichever is worse) and how far each venue is from
liquidation (:func:`bot.domain.stress.liquidation.liquidation_distance`, same margin models).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from numpy.typing import ArrayLike

from bot.domain.margin.liquidation import LiquidationDistance
from bot.domain.position_table import PositionTable
from bot.domain.stress.grid import StressGrid, grid_of
from bot.domain.stress.kernel import MarginSetup, StressInputs, prepare
from bot.domain.stress.liquidation import liquidation_distance
from bot.domain.stress.scenarios import crash
from bot.pricing.arrays import FloatArray


@dataclass(frozen=True, slots=True)
class LightParams:
    """Grid axes (fractions), vol-shift kind and the crash of the light pass."""

    price_moves_frac: tuple[float, ...]
    vol_shifts: tuple[float, ...]
    vol_relative: bool = True
    vol_floor_frac: float = 0.01
    crash_move_frac: float = -0.5
    crash_vol_mult: float = 2.0


@dataclass(frozen=True, slots=True)
class LightStress:
    """Worst loss (USD, >= 0) and liquidation distances per venue (fractions, inf: none).

    ``down_frac``/``up_frac`` are magnitudes: 0.3 means a 30 % fall (or rise)
    liquidates the venue; 0 means it is in breach now.
    """

    worst_loss_usd: float
    grid_worst_loss_usd: float
    crash_loss_usd: float
    venues: tuple[str, ...]
    down_frac: FloatArray
    up_frac: FloatArray
    grid: StressGrid | None = None
    """The pass's grid itself (the dashboard shows it cell by cell)."""

    def distances(self) -> dict[str, tuple[float, float]]:
        """{venue: (down_frac, up_frac)}, as DaemonMetrics.set_liquidation_distance takes them."""
        return {
            name: (float(self.down_frac[i]), float(self.up_frac[i]))
            for i, name in enumerate(self.venues)
        }


def light_pass(
    table: PositionTable,
    *,
    forward_usd: ArrayLike,
    valuation_ts_ms: int,
    equity_coin: ArrayLike | Mapping[str, Mapping[str, float]],
    equity_usd: ArrayLike | Mapping[str, float] = 0.0,
    annual_vol_frac: ArrayLike,
    config: LightParams,
    margin: MarginSetup | None = None,
    vol: ArrayLike | None = None,
) -> LightStress:
    """Run the light pass; ``annual_vol_frac`` (per underlying) scales distances in sigmas.

    Inputs as :func:`~bot.domain.stress.grid.stress_grid`; ``config`` comes
    from ``StressConfig.light_params()`` and ``margin`` from
    ``bot.config.stress.margin_setup(config.margin)``.
    """
    setup = MarginSetup() if margin is None else margin
    book = prepare(
        table,
        forward_usd=forward_usd,
        valuation_ts_ms=valuation_ts_ms,
        equity_coin=equity_coin,
        equity_usd=equity_usd,
        margin=setup,
        vol=vol,
        vol_floor_frac=config.vol_floor_frac,
    )
    grid = grid_of(
        book, config.price_moves_frac, config.vol_shifts, vol_relative=config.vol_relative
    )
    shock = crash(book, config.crash_move_frac, config.crash_vol_mult)
    crash_loss = max(0.0, -shock.pnl_usd)
    dist = book_liquidation_distance(
        table, book, setup, valuation_ts_ms=valuation_ts_ms, annual_vol_frac=annual_vol_frac
    )
    return LightStress(
        worst_loss_usd=max(grid.worst_loss_usd, crash_loss),
        grid_worst_loss_usd=grid.worst_loss_usd,
        crash_loss_usd=crash_loss,
        venues=book.venues,
        down_frac=dist.down_frac,
        up_frac=dist.up_frac,
        grid=grid,
    )


def book_liquidation_distance(
    table: PositionTable,
    book: StressInputs,
    setup: MarginSetup,
    *,
    valuation_ts_ms: int,
    annual_vol_frac: ArrayLike,
) -> LiquidationDistance:
    """Each venue's liquidation distance for a prepared book under ``setup``'s margin
    models: the light pass's and the breach run's one call."""
    return liquidation_distance(
        table,
        forward_usd=book.forward_usd,
        valuation_ts_ms=valuation_ts_ms,
        equity_coin=book.equity_coin,
        equity_usd=book.equity_usd,
        annual_vol_frac=annual_vol_frac,
        models=[setup.model_for(v) for v in book.venues],
        params=setup.liquidation,
        standard=setup.standard,
        portfolio=setup.portfolio,
        vol=book.vol,
    )
