"""Named stress scenarios: crash, venue default, withdrawal freeze, cascade, and custom ones.

Each is a pure function of a prepared :class:`~bot.domain.stress.kernel.StressInputs`
returning a :class:`ScenarioResult`. Conventions shared by all of them:

- P&L is the change of the USD value of every venue's equity (coin collateral
  included, as the grid counts it), summed per venue.
- A venue that is *lost* (defaulted, or liquidated: equity < MM at a step) is
  gone with all its collateral: its P&L is minus its equity now. That is the
  conservative reading of a liquidation (fees, gaps and a thin book usually
  take most of what is left) and it caps the loss of a venue whose equity went
  negative at what was deposited there.
- ``delta_coin`` is what stays to hedge on the surviving venues, per
  underlying, in the usd numeraire: d(USD equity)/dF in coin, coin collateral
  included (:mod:`bot.domain.exposure`'s usd delta), by a central difference of
  the full revaluation (±0.01 %) at the scenario's end state.

Worked example (venue default): venue B holds 1 BTC of equity and is short
30,000 USD of inverse perp at 60,000; venue A defaults. The loss is exactly A's
equity, and B's delta is 1 − 30,000/60,000 = 0.5 BTC, now unhedged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.domain.stress.kernel import StressInputs, evaluate
from bot.domain.timeunits import DAYS_PER_YEAR
from bot.pricing.arrays import FloatArray

_BUMP = 1e-4
MAX_FALL_FRAC = 0.99
"""Largest fall a sigma-sized move may reach (a k·σ·√t beyond 100 % is capped here)."""


@dataclass(frozen=True, slots=True)
class ScenarioStep:
    """One stage of a scenario, cumulative since now: moves, P&L (USD), venues gone, delta left.

    ``delta_coin`` is the surviving venues' usd-numeraire delta at that stage.
    """

    label: str
    price_move_frac: Mapping[str, float]
    pnl_usd: float
    venue_pnl_usd: Mapping[str, float]
    lost: tuple[str, ...]
    delta_coin: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """Outcome of a scenario at its last step; ``steps`` shows how it got there."""

    name: str
    description: str
    pnl_usd: float
    venue_pnl_usd: Mapping[str, float]
    liquidated: tuple[str, ...]
    lost: tuple[str, ...]
    delta_coin: Mapping[str, float]
    notes: tuple[str, ...] = ()
    steps: tuple[ScenarioStep, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CustomScenario:
    """A scenario from config: moves per underlying (missing: 0), vol shifts, lost venues."""

    name: str
    price_move_frac: Mapping[str, float]
    vol_shift_frac: float = 0.0
    vol_shift_rel_frac: float = 0.0
    lost_venues: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class _End:
    """A state the book was taken to, and who is gone."""

    mult: FloatArray  # per underlying
    shift: float
    rel: float
    equity_usd: FloatArray  # per venue
    maintenance_usd: FloatArray
    lost: NDArray[np.bool_]
    liquidated: NDArray[np.bool_]


def crash(book: StressInputs, move_frac: float = -0.5, vol_mult: float = 2.0) -> ScenarioResult:
    """Every underlying moves ``move_frac`` intraday (no decay) and every vol is × ``vol_mult``.

    Example: a short-option book loses more with vol doubled than at the same
    move with vol unchanged (tests pin it).
    """
    _check_move(move_frac)
    if not vol_mult > 0:
        raise ValueError(f"vol_mult must be > 0, got {vol_mult}")
    end = _move(book, _all(book, move_frac), rel=vol_mult - 1.0, lost=_none(book))
    return _result(
        book,
        f"crash {move_frac:+.0%}, vol x{vol_mult:g}",
        f"every underlying {move_frac:+.0%} intraday, every implied vol x{vol_mult:g}",
        end,
        steps=(_step(book, "crash", end),),
    )


def venue_default(book: StressInputs, venue: str, then_move_frac: float = 0.0) -> ScenarioResult:
    """``venue`` defaults: its equity and positions are lost; the rest is left unhedged.

    With ``then_move_frac`` > 0 the market then moves that much in the
    direction that hurts the remaining book more (both tried).
    """
    lost = _venues_mask(book, (venue,))
    now = _move(book, _all(book, 0.0), lost=lost)
    steps = [_step(book, f"{venue} defaults", now)]
    end = now
    if then_move_frac:
        gone = lost | now.liquidated
        moved = [_move(book, _all(book, s * abs(then_move_frac)), lost=gone) for s in (-1, 1)]
        end = _worse(book, moved)
        steps.append(_step(book, "remaining book moves against itself", end))
    return _result(
        book,
        f"default of {venue}",
        f"{venue} defaults: its collateral and positions are lost; the other venues are "
        "left with the delta it hedged",
        end,
        steps=tuple(steps),
    )


def withdrawal_freeze(
    book: StressInputs,
    venue: str,
    *,
    days: float,
    sigmas: float,
    annual_vol_frac: ArrayLike,
) -> ScenarioResult:
    """``venue`` freezes withdrawals for ``days`` while the market moves ``sigmas`` sigmas.

    The move of underlying u is ±k·σ_u·√(days/365) (both tried, falls capped at
    :data:`MAX_FALL_FRAC`); no collateral can reach or leave ``venue``, so its
    margin must hold alone, while the other venues can pool theirs: they are
    liquidated only if their pooled equity falls below their pooled MM. The
    result is the direction that liquidates ``venue`` if one does, else the one
    that loses more; ``steps`` hold both.
    Example: k = 3, σ = 60 %, 7 days: 3·0.6·√(7/365) = 24.93 %.
    """
    if days < 0 or sigmas < 0:
        raise ValueError("days and sigmas must be >= 0")
    vols = np.broadcast_to(np.asarray(annual_vol_frac, dtype=np.float64), (len(book.underlyings),))
    move = sigmas * vols * np.sqrt(days / DAYS_PER_YEAR)
    frozen = _venues_mask(book, (venue,))
    ends = []
    for sign, label in ((-1.0, "down"), (1.0, "up")):
        mult = 1.0 + np.maximum(sign * move, -MAX_FALL_FRAC)
        ends.append((label, _move(book, mult, lost=_none(book), pooled=~frozen)))
    fatal = [e for _, e in ends if e.liquidated[frozen].any()]
    end = fatal[0] if fatal else _worse(book, [e for _, e in ends])
    holds = not fatal
    note = (
        f"{venue} holds alone both ways"
        if holds
        else f"{venue} is liquidated: its collateral cannot be topped up while frozen"
    )
    return _result(
        book,
        f"freeze of {venue}, {days:g} days, {sigmas:g} sigma",
        f"withdrawals from {venue} frozen {days:g} days while the market moves "
        f"±{sigmas:g} sigma (k·σ·√(days/365) per underlying)",
        end,
        notes=(note,),
        steps=tuple(_step(book, f"market {label}", e) for label, e in ends),
    )


def cascade(
    book: StressInputs, hedge_venue: str, *, move_frac: float, further_move_frac: float
) -> ScenarioResult:
    """``hedge_venue`` is liquidated at ``move_frac``; the market then moves further against us.

    At the first step the hedge venue's positions are closed at the moved price
    and its collateral is lost (P&L = −its equity now) whether or not our margin
    model says it breaches (the note says which); the other venues are marked
    at the move. The market then moves ``further_move_frac`` more (×(1 ± f), the
    direction that hurts the unhedged book more) and the loss is read there.
    """
    _check_move(move_frac)
    hedge = _venues_mask(book, (hedge_venue,))
    mult1 = _all(book, move_frac)
    model = _move(book, mult1, lost=_none(book))
    first = _move(book, mult1, lost=hedge)
    f = abs(further_move_frac)
    gone = hedge | first.liquidated
    end = _worse(book, [_move(book, mult1 * (1.0 + s * f), lost=gone) for s in (-1.0, 1.0)])
    breaches = bool(model.liquidated[hedge].any())
    note = (
        f"{hedge_venue} breaches at {move_frac:+.0%} by our margin model"
        if breaches
        else f"{hedge_venue} holds at {move_frac:+.0%} by our margin model: "
        "the cascade assumes an exchange-side liquidation anyway"
    )
    return _result(
        book,
        f"cascade {hedge_venue} at {move_frac:+.0%}, then {f:.0%}",
        f"{hedge_venue} liquidated at {move_frac:+.0%} (collateral lost), then the market "
        f"moves {f:.0%} further against the unhedged book",
        end,
        notes=(note,),
        steps=(_step(book, f"{hedge_venue} liquidated", first), _step(book, "further move", end)),
    )


def custom(book: StressInputs, spec: CustomScenario) -> ScenarioResult:
    """A configured scenario: per-underlying moves, a vol shift, venues lost outright."""
    unknown = sorted(set(spec.price_move_frac) - set(book.underlyings))
    if unknown:
        raise ValueError(
            f"scenario {spec.name!r}: price_move_frac names {unknown}, not in {book.underlyings}"
        )
    moves = np.array([spec.price_move_frac.get(u, 0.0) for u in book.underlyings])
    for x in moves:
        _check_move(float(x))
    end = _move(
        book,
        1.0 + moves,
        shift=spec.vol_shift_frac,
        rel=spec.vol_shift_rel_frac,
        lost=_venues_mask(book, spec.lost_venues),
    )
    return _result(
        book, spec.name, spec.description or spec.name, end, steps=(_step(book, spec.name, end),)
    )


def _move(
    book: StressInputs,
    mult: FloatArray,
    *,
    lost: NDArray[np.bool_],
    shift: float = 0.0,
    rel: float = 0.0,
    pooled: NDArray[np.bool_] | None = None,
) -> _End:
    """Take the book to ``mult`` (per underlying) and a vol shift; find who is liquidated.

    ``pooled`` venues share collateral: they breach together, only if their
    summed equity falls below their summed MM (and then those in breach go).
    """
    m = len(book.underlyings)
    st = evaluate(book, mult[None, :], np.full((1, m), shift), np.full((1, m), rel))
    equity, mm = st.equity_usd[0], st.maintenance_usd[0]
    breach = (equity < mm) & ~lost
    if pooled is not None:
        group = pooled & ~lost
        if equity[group].sum() >= mm[group].sum():
            breach &= ~group
    return _End(mult, shift, rel, equity, mm, lost, breach)


def _worse(book: StressInputs, ends: list[_End]) -> _End:
    return min(ends, key=lambda e: _venue_pnl(book, e).sum())


def _venue_pnl(book: StressInputs, end: _End) -> FloatArray:
    """USD P&L per venue: lost and liquidated venues lose their equity now."""
    gone = end.lost | end.liquidated
    out: FloatArray = np.where(gone, -book.equity0_usd, end.equity_usd - book.equity0_usd)
    return out


def _delta(book: StressInputs, end: _End) -> FloatArray:
    """usd-numeraire delta per underlying (coin) of the surviving venues at ``end``."""
    m = len(book.underlyings)
    mult = np.stack([end.mult * (1.0 + _BUMP), end.mult * (1.0 - _BUMP)])
    st = evaluate(book, mult, np.full((2, m), end.shift), np.full((2, m), end.rel))
    alive = ~(end.lost | end.liquidated)
    diff = (st.equity_cell_usd[0] - st.equity_cell_usd[1])[alive].sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(
            book.index_usd > 0, diff / (2 * _BUMP * book.index_usd * end.mult), 0.0
        )
    return out


def _result(
    book: StressInputs,
    name: str,
    description: str,
    end: _End,
    *,
    notes: tuple[str, ...] = (),
    steps: tuple[ScenarioStep, ...] = (),
) -> ScenarioResult:
    pnl = _venue_pnl(book, end)
    return ScenarioResult(
        name=name,
        description=description,
        pnl_usd=float(pnl.sum()),
        venue_pnl_usd=dict(zip(book.venues, map(float, pnl), strict=True)),
        liquidated=_names(book, end.liquidated),
        lost=_names(book, end.lost),
        delta_coin=dict(zip(book.underlyings, map(float, _delta(book, end)), strict=True)),
        notes=notes,
        steps=steps,
    )


def _step(book: StressInputs, label: str, end: _End) -> ScenarioStep:
    pnl = _venue_pnl(book, end)
    return ScenarioStep(
        label=label,
        price_move_frac=dict(zip(book.underlyings, map(float, end.mult - 1.0), strict=True)),
        pnl_usd=float(pnl.sum()),
        venue_pnl_usd=dict(zip(book.venues, map(float, pnl), strict=True)),
        lost=_names(book, end.lost | end.liquidated),
        delta_coin=dict(zip(book.underlyings, map(float, _delta(book, end)), strict=True)),
    )


def _names(book: StressInputs, mask: NDArray[np.bool_]) -> tuple[str, ...]:
    return tuple(name for name, hit in zip(book.venues, mask, strict=True) if hit)


def _venues_mask(book: StressInputs, venues: Sequence[str]) -> NDArray[np.bool_]:
    unknown = sorted(set(venues) - set(book.venues))
    if unknown:
        raise ValueError(f"unknown venue(s) {unknown}: the book has {book.venues}")
    return np.array([name in venues for name in book.venues], dtype=bool)


def _none(book: StressInputs) -> NDArray[np.bool_]:
    return np.zeros(len(book.venues), dtype=bool)


def _all(book: StressInputs, move_frac: float) -> FloatArray:
    return np.full(len(book.underlyings), 1.0 + move_frac)


def _check_move(move_frac: float) -> None:
    if not (np.isfinite(move_frac) and move_frac > -1):
        raise ValueError(f"a price move must be finite and > -1, got {move_frac}")
