"""Option-hedge proposals: which liquid options to trade to bring vega and gamma back inside
``[greek_limits]`` at the least expected cost (issue 16).

Delta hedges only move delta; vega and gamma by expiry can only be hedged with
options. This module is the pure core of that loop: :func:`whitelist` picks the
liquid options a proposal may use, :func:`propose` solves one mixed-integer
program with HiGHS (``highspy``, as the collateral optimizer does) and
explains an infeasible one. Pricing, journaling and approval live elsewhere.

The program (solved by :mod:`bot.domain.option_hedge_solver`). One integer
variable per candidate and direction, lots bought ``b_i`` and lots sold
``s_i`` (semi-integer: 0 or at least the venue minimum, at most the position
cap; never both non-zero, so a net trade is never below the minimum), so the trade
is ``x_i = lot_i·(b_i − s_i)`` coin.
It minimises the expected cost Σ cost_i·lot_i·(b_i + s_i), where ``cost_i`` is
the half-spread plus the fee per coin (USD), subject to, per limited figure
(standardised vega or USD gamma of one underlying's bucket, or of ``all``) with
value ``v`` before and ``g_i`` per coin of candidate i:

- past its hard limit: |v + Σ g_i·x_i| ≤ aim (the soft limit if set, else the
  hard one: a proposal should not leave the book hovering at its hard limit);
- otherwise: |v + Σ g_i·x_i| ≤ max(aim, |v|), never further from its limit;

and, if set, Σ premium_i·lot_i·(b_i + s_i) ≤ ``max_premium_usd``. So an accepted
proposal never leaves any limited figure further outside its limit than before.

Worked example (Black-76, the tests' first case): a book short 10 BTC calls
of 24 days at 60 % vol (F = K = 60,000) has vega −10 × 61.20 = −612.0 USD per
vol point, standardised × sqrt(30/24) to −684.2. With a hard limit of 500
(soft 400), a whitelist of that call at a cost of 30 USD per coin buys the
fewest 0.1 lots that bring it within 400: (684.2 − 400) / 68.42 = 4.15 coin,
so 4.2 coin (42 lots) for 42 × 0.1 × 30 = 126 USD, leaving −396.8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np

from bot.domain.greek_limits import LimitCheck, LimitLevel
from bot.domain.ids import Currency
from bot.domain.option_hedge_solver import NODE_LIMIT, Program, solve
from bot.pricing.arrays import BoolArray, FloatArray, IntArray

_EPS: Final = 1e-9


class Figure(StrEnum):
    """The limited Greek of a row: standardised vega (USD/volpt) or gamma (USD per 1 %)."""

    VEGA = "vega_std_usd_per_volpt"
    GAMMA = "gamma_usd_per_pct"


@dataclass(frozen=True, slots=True)
class Candidates:
    """The whitelisted options, one element per option, Greeks and costs per coin of option.

    ``bucket`` is each option's expiry bucket (:func:`~bot.domain.greek_limits.bucket_labels`);
    ``cost_usd`` the expected cost of trading one coin (half-spread plus fee, USD);
    ``premium_usd`` its mid price per coin, USD; ``lot_coin`` the venue's lot and
    ``min_coin`` its smallest order (coin); ``max_buy_coin``/``max_sell_coin`` how much
    may be bought or sold before the position cap binds (coin, >= 0).
    """

    symbols: tuple[str, ...]
    underlying: tuple[Currency, ...]
    bucket: tuple[str, ...]
    vega_std_usd_per_volpt: FloatArray
    gamma_usd_per_pct: FloatArray
    delta_coin: FloatArray
    cost_usd: FloatArray
    premium_usd: FloatArray
    lot_coin: FloatArray
    min_coin: FloatArray
    max_buy_coin: FloatArray
    max_sell_coin: FloatArray

    def __post_init__(self) -> None:
        n = len(self.symbols)
        for name in ("underlying", "bucket"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Candidates.{name} must have one entry per symbol ({n})")
        for name in _ARRAYS:
            arr = getattr(self, name)
            if np.shape(arr) != (n,) or not np.isfinite(arr).all():
                raise ValueError(f"Candidates.{name} must be {n} finite numbers")
        for name in ("cost_usd", "premium_usd", "min_coin", "max_buy_coin", "max_sell_coin"):
            if (getattr(self, name) < 0).any():
                raise ValueError(f"Candidates.{name} must be >= 0")
        if (self.lot_coin <= 0).any():
            raise ValueError("Candidates.lot_coin must be > 0")

    def __len__(self) -> int:
        return len(self.symbols)


_ARRAYS: Final = (
    "vega_std_usd_per_volpt",
    "gamma_usd_per_pct",
    "delta_coin",
    "cost_usd",
    "premium_usd",
    "lot_coin",
    "min_coin",
    "max_buy_coin",
    "max_sell_coin",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One limited figure: its value before, its bound after, and whether it must move."""

    underlying: Currency
    bucket: str
    figure: Figure
    before: float
    bound: float
    required: bool


def rows_of(checks: Sequence[LimitCheck]) -> tuple[Row, ...]:
    """The program's rows from the limit checks: each set figure of each judged limit."""
    rows = []
    for c in checks:
        lim = c.limit
        for figure, soft, hard, value in (
            (
                Figure.VEGA,
                lim.soft_vega_usd_per_volpt,
                lim.hard_vega_usd_per_volpt,
                c.view.vega_std_usd_per_volpt,
            ),
            (
                Figure.GAMMA,
                lim.soft_gamma_usd_per_pct,
                lim.hard_gamma_usd_per_pct,
                c.view.gamma_usd_per_pct,
            ),
        ):
            aim = soft if soft is not None else hard
            if aim is None:
                continue
            past_hard = hard is not None and abs(value) > hard
            bound = aim if past_hard else max(aim, abs(value))
            rows.append(Row(lim.underlying, lim.bucket, figure, value, bound, past_hard))
    return tuple(rows)


def needs_proposal(checks: Sequence[LimitCheck]) -> bool:
    """A hard limit is past: an option hedge is due."""
    return any(c.level is LimitLevel.HARD for c in checks)


@dataclass(frozen=True, slots=True)
class Proposal:
    """The optimizer's answer: trades (coin, + buy) per candidate, what they cost, the rows
    before and after; or, when ``feasible`` is False, no trades and ``why``."""

    feasible: bool
    amount_coin: FloatArray
    cost_usd: float
    premium_usd: float
    delta_change_coin: float
    rows: tuple[Row, ...]
    after: tuple[float, ...]
    why: tuple[str, ...] = ()

    def legs(self, candidates: Candidates) -> list[tuple[str, float]]:
        """(symbol, signed amount in coin) of each non-zero trade."""
        return [
            (candidates.symbols[i], float(self.amount_coin[i]))
            for i in np.flatnonzero(self.amount_coin)
        ]


def contributions(candidates: Candidates, rows: Sequence[Row]) -> FloatArray:
    """Row r, column i: what one coin of candidate i adds to row r's figure."""
    g = np.zeros((len(rows), len(candidates)))
    und = np.array(candidates.underlying, dtype=object)
    bucket = np.array(candidates.bucket, dtype=object)
    for r, row in enumerate(rows):
        mine = und == row.underlying
        if row.bucket != "all":
            mine &= bucket == row.bucket
        per_coin = getattr(candidates, row.figure.value)
        g[r] = np.where(mine, per_coin, 0.0)
    return g


def propose(
    candidates: Candidates, rows: Sequence[Row], *, max_premium_usd: float | None = None
) -> Proposal:
    """The cheapest trades within lots, minimums and caps that satisfy every row (module
    docstring); an infeasible program comes back with each reason found."""
    rows = tuple(rows)
    n = len(candidates)
    g = contributions(candidates, rows)
    lot = candidates.lot_coin
    min_lots = np.maximum(np.ceil(candidates.min_coin / lot - _EPS), 1.0)
    before = np.array([r.before for r in rows])
    bound = np.array([r.bound for r in rows])
    premium = np.tile(candidates.premium_usd * lot, 2)
    cost = np.tile(candidates.cost_usd * lot, 2)
    a, lo_row, hi_row = np.concatenate([g * lot, -g * lot], axis=1), -bound - before, bound - before
    if max_premium_usd is not None:
        a = np.vstack([a, premium])
        lo_row, hi_row = np.append(lo_row, -np.inf), np.append(hi_row, max_premium_usd)
    found = solve(
        Program(
            a=a,
            lo_row=lo_row,
            hi_row=hi_row,
            cost=cost + _EPS * premium,  # ties: the smaller outlay
            lo=np.concatenate([min_lots, min_lots]),
            hi=np.concatenate(
                [_lots(candidates.max_buy_coin, lot), _lots(candidates.max_sell_coin, lot)]
            ),
            exclusive=np.column_stack([np.arange(n), np.arange(n, 2 * n)]),
        )
    )
    if found.x is None:
        why = explain(candidates, rows, g, max_premium_usd=max_premium_usd)
        if found.gave_up:
            why = (f"not solved within {NODE_LIMIT:,} branch-and-bound nodes", *why)
        return Proposal(False, np.zeros(n), 0.0, 0.0, 0.0, rows, tuple(before.tolist()), why)
    lots = found.x
    amount = lot * (lots[:n] - lots[n:])
    after = before + g @ amount
    return Proposal(
        feasible=True,
        amount_coin=amount,
        cost_usd=math.fsum((cost * lots).tolist()),
        premium_usd=math.fsum((premium * lots).tolist()),
        delta_change_coin=math.fsum((candidates.delta_coin * amount).tolist()),
        rows=rows,
        after=tuple(after.tolist()),
    )


def _lots(coin: FloatArray, lot: FloatArray) -> FloatArray:
    """Whole lots within ``coin`` (a cap a hair under a whole lot still allows it)."""
    return np.floor(coin / lot + _EPS)


def explain(
    candidates: Candidates,
    rows: Sequence[Row],
    g: FloatArray,
    *,
    max_premium_usd: float | None,
) -> tuple[str, ...]:
    """Why no proposal exists, naming figures: each required row that no whitelisted option
    can move, or that even every option at its cap cannot bring inside; otherwise the rows
    conflict (or the premium cap binds)."""
    lot = candidates.lot_coin
    buy = _lots(candidates.max_buy_coin, lot) * lot
    sell = _lots(candidates.max_sell_coin, lot) * lot
    why: list[str] = []
    for r, row in enumerate(rows):
        if not row.required:
            continue
        what = f"{row.underlying} {row.bucket} {_LABEL[row.figure]} {row.before:,.1f}"
        movers = g[r] != 0
        if not movers.any():
            why.append(f"{what}: no whitelisted option moves it")
            continue
        # The most each direction can achieve with every candidate at its cap.
        up = math.fsum(np.maximum(g[r] * buy, -g[r] * sell).tolist())
        down = math.fsum(np.minimum(g[r] * buy, -g[r] * sell).tolist())
        need = -row.bound - row.before if row.before < 0 else row.bound - row.before
        reach = up if row.before < 0 else down
        if abs(reach) + _EPS < abs(need):
            why.append(
                f"{what}: the whitelist within its caps moves it by at most {reach:+,.1f}, "
                f"{need:+,.1f} is needed to reach {row.bound:,.1f}"
            )
    if not why:
        premium = "" if max_premium_usd is None else f" and max_premium_usd {max_premium_usd:,.0f}"
        why.append(
            "each breach alone can be mended, but not together: bringing one inside pushes "
            f"another figure past its bound, or past the lot minimums{premium}"
        )
    return tuple(why)


_LABEL: Final = {Figure.VEGA: "standardised vega USD/volpt", Figure.GAMMA: "gamma USD/1%"}


@dataclass(frozen=True, slots=True)
class Chain:
    """An options chain as arrays, one element per listed option (for :func:`whitelist`).

    ``abs_delta`` is |Black delta|; ``open_interest_coin`` in coin; ``bid_usd``/``ask_usd``
    the quotes (NaN: none); ``expiry_ms`` the expiry.
    """

    expiry_ms: IntArray
    abs_delta: FloatArray
    open_interest_coin: FloatArray
    bid_usd: FloatArray
    ask_usd: FloatArray


def whitelist(
    chain: Chain,
    *,
    now_ms: int,
    n_expiries: int,
    min_abs_delta: float,
    max_abs_delta: float,
    min_open_interest_coin: float,
    max_spread_frac: float,
) -> IntArray:
    """Indices of the liquid options a proposal may use: of the ``n_expiries`` nearest live
    expiries, those with |delta| in [min, max], open interest at least the minimum and a
    two-sided quote whose spread is at most ``max_spread_frac`` of its mid."""
    live = chain.expiry_ms > now_ms
    nearest = np.unique(chain.expiry_ms[live])[:n_expiries]
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = 0.5 * (chain.bid_usd + chain.ask_usd)
        spread = (chain.ask_usd - chain.bid_usd) / mid
    keep: BoolArray = (
        live
        & np.isin(chain.expiry_ms, nearest)
        & (chain.abs_delta >= min_abs_delta)
        & (chain.abs_delta <= max_abs_delta)
        & (chain.open_interest_coin >= min_open_interest_coin)
        & (chain.bid_usd > 0)
        & (spread >= 0)
        & (spread <= max_spread_frac)
    )
    return np.flatnonzero(keep)


def document(venue: str, underlying: Currency, c: Candidates, p: Proposal) -> dict[str, object]:
    """A proposal as the journal keeps it and ``options-hedge plan --json`` shows it: its legs
    (signed coin, mid premium and expected cost, USD), totals, and each row before and after."""
    legs = [
        {
            "symbol": c.symbols[i],
            "amount_coin": float(p.amount_coin[i]),
            "premium_usd_per_coin": float(c.premium_usd[i]),
            "cost_usd": float(c.cost_usd[i] * abs(p.amount_coin[i])),
        }
        for i in np.flatnonzero(p.amount_coin).tolist()
    ]
    rows = [
        {
            "bucket": r.bucket,
            "figure": r.figure.value,
            "before": r.before,
            "after": after,
            "bound": r.bound,
            "required": r.required,
        }
        for r, after in zip(p.rows, p.after, strict=True)
    ]
    return {
        "venue": venue,
        "underlying": underlying,
        "legs": legs,
        "cost_usd": p.cost_usd,
        "premium_usd": p.premium_usd,
        "delta_change_coin": p.delta_change_coin,
        "rows": rows,
    }
