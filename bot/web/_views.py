"""What each panel shows, built from the daemon's latest read, its jobs and its journal.

Plain functions from the engine's values to small frozen rows the templates
print. Nothing here scales with the book: the cycle's plan has already summed
the positions per underlying and per expiry (one pricing pass), so a page over
10,000 positions costs what one over ten does. The journal is read only for the
short lists (trading state, recent orders, plans, operator actions).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bot.config import Config
from bot.config.hedging import StrategyConfig
from bot.domain.ids import Currency
from bot.domain.position_table import NO_EXPIRY_MS
from bot.domain.stress import LightStress
from bot.domain.trading_state import SetBy
from bot.engine.context import LatestRead
from bot.engine.history import CyclePoint
from bot.engine.margin_job import MarginView
from bot.engine.plan import CyclePlan, UnderlyingDecision
from bot.engine.status import margin_rows
from bot.journal import Journal, PlanState, ProposalState
from bot.web._format import iso_utc
from strategies.band import BandParams

RECENT_ORDERS: Final = 15
RECENT_ACTIONS: Final = 10
GAUGE_HEADROOM: Final = 1.25
"""The delta gauge spans this much more than the farthest of the band and the delta."""


@dataclass(frozen=True, slots=True)
class Band:
    """The no-trade band of total delta, in coin."""

    low_coin: float
    high_coin: float

    def where(self, total_coin: float) -> str:
        if total_coin > self.high_coin:
            return "above band"
        return "below band" if total_coin < self.low_coin else "inside band"


@dataclass(frozen=True, slots=True)
class Gauge:
    """x positions (0..100) of the band's edges, the target and the delta on a gauge."""

    low_x: float
    high_x: float
    target_x: float
    delta_x: float

    @property
    def band_width_x(self) -> float:
        return self.high_x - self.low_x


@dataclass(frozen=True, slots=True)
class GreeksRow:
    """One underlying's Greeks as the last cycle decided on them."""

    decision: UnderlyingDecision
    total_delta_coin: float
    total_delta_usd: float
    band: Band | None
    where: str
    gauge: Gauge | None


@dataclass(frozen=True, slots=True)
class BucketRow:
    """One (underlying, expiry) bucket: the positions' own Greeks."""

    underlying: Currency
    expiry: str
    delta_coin: float
    gamma_coin_per_pct: float
    vega_usd_per_volpt: float


@dataclass(frozen=True, slots=True)
class StateView:
    """Trading state with who set it and when (and on which clock), locks and health."""

    mode: str
    reason: str
    set_by: str
    set_at: str
    clock: str
    locks: tuple[tuple[str, str], ...]
    reducing_venues: tuple[tuple[str, str], ...]


def band_of(strategy: StrategyConfig, target_coin: float, index_usd: float) -> Band | None:
    """The band strategy's band around the target; None for strategies whose band moves
    with the book (Whalley-Wilmott, Zakamouline) or that have none (interval)."""
    params = strategy.params
    if not isinstance(params, BandParams):
        return None
    up, down = params.width_up, params.width_down
    if params.unit == "usd":
        up, down = up / index_usd, down / index_usd
    return Band(target_coin - down, target_coin + up)


def gauge_of(band: Band, target_coin: float, total_coin: float) -> Gauge:
    """Band, target and delta placed on a 0..100 scale centred on the target."""
    reach = max(abs(band.low_coin - target_coin), abs(band.high_coin - target_coin))
    span = GAUGE_HEADROOM * max(reach, abs(total_coin - target_coin), 1e-12)

    def x(value: float) -> float:
        return round(min(100.0, max(0.0, 50.0 + 50.0 * (value - target_coin) / span)), 2)

    return Gauge(x(band.low_coin), x(band.high_coin), 50.0, x(total_coin))


def greeks_rows(plan: CyclePlan | None, strategy: StrategyConfig) -> tuple[GreeksRow, ...]:
    """Per underlying: the decision's figures, its total delta against the band."""
    if plan is None:
        return ()
    rows = []
    for d in plan.decisions:
        total = d.book_delta_coin + d.hedge_coin
        band = band_of(strategy, d.target_delta_coin, d.index_usd) if d.routed else None
        rows.append(
            GreeksRow(
                decision=d,
                total_delta_coin=total,
                total_delta_usd=total * d.index_usd,
                band=band,
                where="not hedged" if not d.routed else band.where(total) if band else "",
                gauge=None if band is None else gauge_of(band, d.target_delta_coin, total),
            )
        )
    return tuple(rows)


def bucket_rows(plan: CyclePlan | None) -> tuple[BucketRow, ...]:
    """The plan's Greeks per underlying and expiry (perpetuals and spot as one bucket)."""
    buckets = None if plan is None else plan.expiry_buckets
    if plan is None or buckets is None:
        return ()
    names = [d.underlying for d in plan.decisions]
    return tuple(
        BucketRow(
            underlying=names[int(buckets.underlying_idx[i])],
            expiry="perpetual / spot"
            if int(buckets.expiry_ms[i]) == NO_EXPIRY_MS
            else iso_utc(int(buckets.expiry_ms[i]))[:16].replace("T", " ") + " UTC",
            delta_coin=float(buckets.delta_coin[i]),
            gamma_coin_per_pct=float(buckets.gamma_coin_per_pct[i]),
            vega_usd_per_volpt=float(buckets.vega_usd_per_volpt[i]),
        )
        for i in range(len(buckets.expiry_ms))
    )


def state_view(journal: Journal, *, simulated_clock: bool) -> StateView:
    """The journal's trading state, locks and reducing venues; ``simulated_clock`` says
    that the daemon's own stamps (automatic changes) are on the simulator's clock."""
    state = journal.state.trading_state()
    if not state.ts_ms:
        clock = ""
    elif state.set_by is SetBy.OPERATOR:
        clock = "wall clock"
    else:
        clock = "simulated daemon clock" if simulated_clock else "daemon clock"
    return StateView(
        mode=state.mode.value,
        reason=state.reason,
        set_by=state.set_by.value,
        set_at=iso_utc(state.ts_ms) if state.ts_ms else "never (a new journal)",
        clock=clock,
        locks=tuple(journal.state.locks().items()),
        reducing_venues=tuple(journal.state.reducing_venues().items()),
    )


@dataclass(frozen=True, slots=True)
class HedgeRow:
    underlying: str
    venue: str
    symbol: str
    position_coin: float
    position_usd: float


def hedge_rows(plan: CyclePlan | None) -> tuple[HedgeRow, ...]:
    """Each routed hedge instrument's position plus in flight before the last cycle's orders."""
    if plan is None:
        return ()
    index = {d.underlying: d.index_usd for d in plan.decisions}
    return tuple(
        HedgeRow(u, v, s, coin, coin * index.get(u, math.nan))
        for u, v, s, coin in plan.hedge_positions
    )


@dataclass(frozen=True, slots=True)
class OrderRow:
    created: str
    underlying: str
    venue: str
    symbol: str
    side: str
    amount: float
    filled: float
    average_price: float | None
    state: str
    client_id: str


def order_rows(journal: Journal) -> tuple[OrderRow, ...]:
    """The last orders the journal recorded, newest first (amounts in the instrument's unit)."""
    return tuple(
        OrderRow(
            created=iso_utc(o.created_ts_ms),
            underlying=u,
            venue=o.request.venue,
            symbol=o.request.symbol,
            side=o.request.side.value,
            amount=o.request.amount,
            filled=o.filled_amount,
            average_price=avg,
            state=o.state.value,
            client_id=o.request.client_id,
        )
        for o, u, avg in reversed(journal.orders.latest(RECENT_ORDERS))
    )


@dataclass(frozen=True, slots=True)
class BalanceRow:
    account: str
    currency: str
    equity: float
    initial_margin: float
    maintenance_margin: float
    maintenance_ratio: float


@dataclass(frozen=True, slots=True)
class VenueMargin:
    """One venue: its balances as reported, and our model's distance to liquidation."""

    venue: str
    balances: tuple[BalanceRow, ...]
    down_frac: float | None
    up_frac: float | None
    down_sigmas: float | None
    up_sigmas: float | None
    drift: tuple[str, ...]


def margin_venues(latest: LatestRead, view: MarginView | None) -> tuple[VenueMargin, ...]:
    """Per venue: reported equity and margins, the liquidation distance and drift alerts."""
    distance = None if view is None else view.distance
    moves: dict[str, tuple[float, float, float, float]] = {}
    if distance is not None:
        for i, venue in enumerate(distance.venues):
            moves[venue] = (
                float(distance.down_frac[i]),
                float(distance.up_frac[i]),
                float(distance.down_sigmas[i]),
                float(distance.up_sigmas[i]),
            )
    drift: dict[str, list[str]] = {}
    for alert in () if view is None else view.drift:
        drift.setdefault(alert.venue, []).append(alert.message())
    out = []
    for venue, balances in margin_rows(latest.portfolio).items():
        down, up, down_sigmas, up_sigmas = moves.get(venue, (None, None, None, None))
        out.append(
            VenueMargin(
                venue=venue,
                balances=tuple(_balance(b) for b in balances),
                down_frac=down,
                up_frac=up,
                down_sigmas=down_sigmas,
                up_sigmas=up_sigmas,
                drift=tuple(drift.get(venue, ())),
            )
        )
    return tuple(out)


def _balance(row: Mapping[str, object]) -> BalanceRow:
    def f(key: str) -> float:
        value = row[key]
        return float(value) if isinstance(value, int | float) else math.nan

    return BalanceRow(
        str(row["account"]),
        str(row["currency"]),
        f("equity"),
        f("initial_margin"),
        f("maintenance_margin"),
        f("maintenance_ratio"),
    )


@dataclass(frozen=True, slots=True)
class StressView:
    """The light pass: worst losses and its grid (rows: price moves; columns: vol shifts)."""

    worst_loss_usd: float
    grid_worst_loss_usd: float
    crash_loss_usd: float
    price_labels: tuple[str, ...]
    vol_labels: tuple[str, ...]
    cells: tuple[tuple[tuple[float, bool], ...], ...]
    """Per price move, per vol shift: total P&L in USD and whether any venue is in breach."""


def stress_view(light: LightStress | None) -> StressView | None:
    if light is None:
        return None
    grid = light.grid
    if grid is None:
        return StressView(
            light.worst_loss_usd, light.grid_worst_loss_usd, light.crash_loss_usd, (), (), ()
        )
    breached: NDArray[np.bool_] = np.asarray(grid.breached.any(axis=2))
    vol_unit = "%" if grid.vol_relative else "vol pts"
    return StressView(
        worst_loss_usd=light.worst_loss_usd,
        grid_worst_loss_usd=light.grid_worst_loss_usd,
        crash_loss_usd=light.crash_loss_usd,
        price_labels=tuple(f"{m * 100:+.0f} %" for m in grid.price_moves_frac),
        vol_labels=tuple(f"{s * 100:+.0f} {vol_unit}" for s in grid.vol_shifts),
        cells=tuple(
            tuple(
                (float(grid.pnl_usd[i, j]), bool(breached[i, j]))
                for j in range(grid.pnl_usd.shape[1])
            )
            for i in range(grid.pnl_usd.shape[0])
        ),
    )


@dataclass(frozen=True, slots=True)
class TransferRow:
    transfer_id: str
    kind: str
    amount: float
    currency: str
    venue: str
    destination: str
    amount_usd: float


@dataclass(frozen=True, slots=True)
class PlanRow:
    plan_id: str
    proposed: str
    summary: str
    transfers: tuple[TransferRow, ...]


def plan_rows(journal: Journal) -> tuple[PlanRow, ...]:
    """Collateral plans awaiting an operator's approval, newest first."""
    return tuple(
        PlanRow(
            plan.plan_id,
            iso_utc(plan.ts_ms),
            plan.summary,
            tuple(
                TransferRow(
                    i.request.transfer_id,
                    i.request.kind.value,
                    i.request.amount,
                    i.request.currency,
                    i.request.venue,
                    i.request.destination,
                    i.amount_usd,
                )
                for i in plan.intents
            ),
        )
        for plan in journal.plans.in_state(PlanState.PROPOSED)
    )


@dataclass(frozen=True, slots=True)
class OptionProposalRow:
    """A proposed option hedge as the plans panel lists it; ``approvable``: cheap enough
    (``[options_hedge] dashboard_max_cost_usd``) to approve from the web."""

    proposal_id: str
    underlying: str
    proposed: str
    expires: str
    cost_usd: float
    premium_usd: float
    legs: tuple[tuple[str, float], ...]
    rows: tuple[tuple[str, str, float, float, float], ...]
    approvable: bool


def option_proposal_rows(journal: Journal, max_cost_usd: float) -> tuple[OptionProposalRow, ...]:
    """The option-hedge proposals awaiting approval, newest first."""
    out = []
    for r in journal.option_proposals.recent():
        if r.state is not ProposalState.PROPOSED:
            continue
        d = r.document
        cost = float(d.get("cost_usd", 0.0))
        out.append(
            OptionProposalRow(
                proposal_id=r.proposal_id,
                underlying=r.underlying,
                proposed=iso_utc(r.ts_ms),
                expires=iso_utc(r.expires_ts_ms),
                cost_usd=cost,
                premium_usd=float(d.get("premium_usd", 0.0)),
                legs=tuple((x["symbol"], float(x["amount_coin"])) for x in d.get("legs", [])),
                rows=tuple(
                    (x["bucket"], x["figure"], x["before"], x["after"], x["bound"])
                    for x in d.get("rows", [])
                ),
                approvable=cost <= max_cost_usd,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ActionRow:
    at: str
    actor: str
    action: str
    detail: str
    outcome: str


def action_rows(journal: Journal) -> tuple[ActionRow, ...]:
    """The operators' last actions from the dashboard, newest first (wall clock)."""
    return tuple(
        ActionRow(iso_utc(a.ts_ms), a.actor, a.action, a.detail, a.outcome)
        for a in journal.actions.recent(RECENT_ACTIONS)
    )


def chart_series(
    history: Sequence[CyclePoint], config: Config
) -> dict[str, dict[str, list[float | None]]]:
    """Per underlying, uPlot's columns: time (UTC epoch s), total delta, band low and high
    (coin; None where the band is unknown or the underlying was not in that cycle)."""
    names: list[Currency] = sorted({u for p in history for u in p.underlyings})
    out: dict[str, dict[str, list[float | None]]] = {}
    for u in names:
        columns: dict[str, list[float | None]] = {"t": [], "delta": [], "low": [], "high": []}
        for point in _with(history, u):
            figures = point.underlyings[u]
            band = band_of(config.strategy, figures.target_delta_coin, figures.index_usd)
            columns["t"].append(point.started_ms / 1000)
            columns["delta"].append(_finite(figures.total_delta_coin))
            columns["low"].append(None if band is None else _finite(band.low_coin))
            columns["high"].append(None if band is None else _finite(band.high_coin))
        out[u] = columns
    return out


def _with(history: Iterable[CyclePoint], underlying: Currency) -> Iterable[CyclePoint]:
    return (p for p in history if underlying in p.underlyings)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
